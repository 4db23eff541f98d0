/**
 * Redis key names of one queue. Every key carries the hash tag `{queue}` so that a queue (its
 * tasks, indexes, state and locks) lives on one Redis Cluster slot. A partitioned queue has one
 * such set of keys per partition, each under its own tag (see `partition-tags.ts`); its pub/sub
 * channels stay those of the queue.
 */

/** The keys of one queue under a prefix. */
export class QueueKeys {
  /** `prefix:{queue}:` — every key starts with it. */
  readonly base: string;
  /** Task hash prefix (`base + 't:' + id`). */
  readonly task: string;
  /** Streamed items list prefix (`base + 'i:' + id`). */
  readonly items: string;
  /** Ready tasks: one list per priority level (`wait + priority`), FIFO within a level. */
  readonly wait: string;
  /** Priority levels that have ready tasks (zset: score and member the priority). */
  readonly prios: string;
  /** Delayed tasks and retries waiting for their backoff: score runAt. */
  readonly delayed: string;
  /** Workers holding tasks: score their lease deadline. */
  readonly leases: string;
  /** Set of tasks a worker holds (`held + workerId`). */
  readonly held: string;
  /** Running tasks asked to stop (the reason is the task's `cx` field). */
  readonly cancels: string;
  /**
   * Every task id, scored by its enqueue seq (zset, for `list`, read in chunks newest first). An id
   * leaves it with its record (expiry, remove, removeOnComplete); ids of records gone some other
   * way are skipped by readers and swept at lease rounds.
   */
  readonly all: string;
  readonly seq: string;
  /** Tasks per status. */
  readonly cnt: string;
  /** Wakes a blocked worker. */
  readonly marker: string;
  /**
   * Idle workers waiting for tasks (hash: worker id -> `want:expires:leaseMs`): an enqueue hands new
   * tasks straight to one of them (claimed for it, into its inbox) instead of waking it to claim.
   */
  readonly idle: string;
  /**
   * Tasks handed to an idle worker, claimed for it already (zset per worker, `inbox + workerId`;
   * member `count\ndata\nid`, scored by enqueue seq): it blocks on its inbox and the marker at once.
   */
  readonly inbox: string;
  readonly meta: string;
  readonly workers: string;
  readonly seen: string;
  /** Finished ids per final status, oldest first (expiry walks them from the head). */
  readonly doneSuccess: string;
  readonly doneError: string;
  readonly doneCancel: string;
  /** Pub/sub channel of the queue's ends, items and progress (processes that wait or listen). */
  readonly channel: string;
  /** Pub/sub channel of cancel requests (workers). */
  readonly control: string;

  /** `tag`: the hash tag of a partition (default: the queue's own). */
  constructor(prefix: string, queue: string, tag: string = queue) {
    const b = `${prefix}:{${tag}}:`;
    this.base = b;
    this.task = b + 't:';
    this.items = b + 'i:';
    this.wait = b + 'w:';
    this.prios = b + 'prios';
    this.delayed = b + 'delayed';
    this.leases = b + 'leases';
    this.held = b + 'held:';
    this.cancels = b + 'cancels';
    this.all = b + 'idx';
    this.seq = b + 'seq';
    this.cnt = b + 'cnt';
    this.marker = b + 'marker';
    this.idle = b + 'idle';
    this.inbox = b + 'inbox:';
    this.meta = b + 'meta';
    this.workers = b + 'workers';
    this.seen = b + 'seen';
    this.doneSuccess = b + 'done:success';
    this.doneError = b + 'done:error';
    this.doneCancel = b + 'done:cancel';
    // channels are not keys: every partition of a queue publishes on the queue's own
    const q = tag === queue ? b : `${prefix}:{${queue}}:`;
    this.channel = q + 'events';
    this.control = q + 'control';
  }

  /** Hash of state `name`. */
  state(name: string): string {
    return this.base + 's:' + name;
  }

  lock(key: string): string {
    return this.base + 'lock:' + key;
  }

  rate(key: string): string {
    return this.base + 'rl:' + key;
  }
}
