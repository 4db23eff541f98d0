/**
 * The consuming side of the RabbitMQ broker in one worker: a consumer on the work queue with
 * manual acks and a prefetch of four times the concurrency (one for a worker of concurrency 1, so
 * that it holds nothing it does not run); each message (a task id) is claimed by a compare-and-set of
 * its record in the storage when a slot is free, acknowledged once its attempt is recorded,
 * dropped when its record was cancelled or removed meanwhile, and dead-lettered after `maxStalls`
 * redeliveries of a task whose worker was lost. Acknowledgements asked in one turn of the event
 * loop go out together, as one `multiple` ack where the oldest unsettled messages allow it.
 */
import type { ConsumeMessage } from 'amqplib';
import type { Consumer, EngineContext } from '../../engine/broker';
import type { RecordWriter, Storage } from '../../engine/storage';
import { ErrorCodes } from '../../errors';
import type { TaskRecord, TaskStatus } from '../../task/task-record';
import type { AmqpLink, LinkChannels } from './amqp-link';
import type { RabbitShared } from './rabbit-shared';
import { MAX_ID_LENGTH } from '../../app/check-input';
import { badRecordError } from '../bad-record';

/** The statuses a claim takes a task from (one list for every claim: the writer keeps its text). */
const CLAIMABLE: readonly TaskStatus[] = ['new', 'delayed', 'retry'];

/** One delivered message and the connection it came on. */
interface Delivery {
  msg: ConsumeMessage;
  gen: number;
}

/** What a worker needs of its broker. */
export interface WorkerHost {
  readonly ctx: EngineContext;
  readonly storage: Storage;
  readonly writer: RecordWriter;
  readonly link: AmqpLink;
  readonly shared: RabbitShared;
  readonly queue: string;
  /** Announces a task's end to every process of the queue. */
  ended(record: TaskRecord, event: 'task:error' | 'task:cancel'): void;
}

/** Header of a task message: the attempt its record had when it was published. */
export const ATTEMPT_HEADER = 'x-qtasks-attempt';

/** Consumes the work queue for one {@link Consumer}. */
export class RabbitWorker {
  paused = false;
  private stopped = false;
  private tag: string | undefined;
  private tagGen = 0;
  private readonly pending: Delivery[] = [];
  private readonly running = new Map<string, Delivery>();
  private claiming = 0;
  /** Tasks of this worker waiting for their children: their messages stay unacknowledged, so each adds one to the prefetch. */
  private waiting = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Unsettled deliveries of the current consumer's channel by delivery tag (in delivery order). */
  private readonly unsettled = new Map<number, Delivery>();
  /** Acknowledgements waiting for the end of this turn of the event loop. */
  private acks: Delivery[] = [];
  /**
   * Cancels heard for claims of this worker whose reply had not come yet (the cancel read the
   * claim in the storage, then reached this process first), by task id: the claim's start time and
   * the reason. Kept {@link EARLY_CANCEL_MS} at most.
   */
  private readonly earlyCancels = new Map<string, { startedAt: number | undefined; reason: string | undefined; at: number }>();

  constructor(
    private readonly host: WorkerHost,
    readonly consumer: Consumer,
  ) {}

  /** Starts the consumer on this connection (once per connection; not while paused or stopped). */
  async subscribe(ch: LinkChannels): Promise<void> {
    if (this.stopped || this.paused || (this.tag !== undefined && this.tagGen === ch.gen)) return;
    this.tagGen = ch.gen;
    this.tag = '';
    await ch.sub.prefetch(prefetchOf(this.consumer.info().concurrency) + this.waiting);
    const r = await ch.sub.consume(this.host.queue, (msg) => msg && this.deliver({ msg, gen: ch.gen }), { noAck: false });
    this.tag = r.consumerTag;
  }

  /** Stops receiving; messages received and not claimed go back to the queue. */
  async unsubscribe(): Promise<void> {
    const tag = this.tag;
    const gen = this.tagGen;
    this.tag = undefined;
    const ch = this.host.link.channelsNow();
    if (tag && ch && ch.gen === gen) await ch.sub.cancel(tag).catch(() => undefined);
    for (const d of this.pending.splice(0)) this.settle(d, 'requeue');
  }

  /** Consumes again with the prefetch of the consumer's concurrency now (after it changed; see {@link prefetchOf}). */
  async resubscribe(): Promise<void> {
    if (this.stopped || this.paused) return;
    await this.unsubscribe();
    const ch = this.host.link.channelsNow();
    if (ch) await this.subscribe(ch);
  }

  /**
   * A task of this worker starts or stops waiting for its children: its message stays unacknowledged
   * (a lost worker's waiting task is delivered again), so the prefetch grows by one while it waits,
   * letting its slot take a new message (consumers are made again with the new prefetch).
   */
  async waitingChanged(delta: 1 | -1): Promise<void> {
    this.waiting = Math.max(0, this.waiting + delta);
    if (delta > 0) await this.resubscribe();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.unsubscribe();
    this.flushAcks();
  }

  /** Claims waiting messages while the consumer has free slots. */
  drain(): void {
    while (!this.stopped && !this.paused && this.pending.length > 0 && this.consumer.capacity() - this.claiming > 0) {
      const d = this.pending.shift()!;
      this.claiming++;
      // one reaction per claim, its success handler shared (no promise nor closure of its own)
      this.claim(d).then(this.claimed, (err: Error) => {
        try {
          this.host.ctx.logger.warn('RabbitMQ claim failed: the message goes back to the queue', { error: err.message });
          this.settle(d, 'requeue');
        } finally {
          this.claimed();
        }
      });
    }
  }

  /** A claim is over (its task runs, or its message was settled): its place goes to the next held message. */
  private readonly claimed = (): void => {
    this.claiming--;
    this.drain();
  };

  /** A claimed task's attempt was recorded: acknowledges its message (or gives it back, or dead-letters it). */
  done(id: string, how: 'ack' | 'requeue' | 'dead'): void {
    const d = this.running.get(id);
    this.running.delete(id);
    if (d) this.settle(d, how);
    this.drain();
  }

  /**
   * A cancel reached this process: stops the task if it runs here; remembers it when it names a
   * claim of this worker (`workerId`, `startedAt`) that has not answered yet, so that the task ends
   * `cancel` without running when the claim's reply comes.
   */
  abort(id: string, reason?: string, workerId?: string, startedAt?: number): void {
    if (this.running.has(id)) return this.consumer.abort(id, reason);
    if (workerId === undefined || workerId !== this.consumer.workerId) return;
    const now = Date.now();
    for (const [k, c] of this.earlyCancels) {
      if (c.at > now - EARLY_CANCEL_MS && this.earlyCancels.size < 10_000) break;
      this.earlyCancels.delete(k);
    }
    this.earlyCancels.set(id, { startedAt, reason, at: now });
  }

  private deliver(d: Delivery): void {
    if (this.unsettled.size > 0 && this.unsettled.values().next().value!.gen !== d.gen) this.unsettled.clear();
    this.unsettled.set(d.msg.fields.deliveryTag, d);
    if (this.stopped || this.paused) return this.settle(d, 'requeue');
    this.pending.push(d);
    this.drain();
  }

  /**
   * Claims the task of a delivery and runs it. Not an async function: the usual claim is one storage
   * write and one reaction (the rest, in {@link unclaimed}, only when the write did not claim it).
   */
  private claim(d: Delivery): Promise<void> {
    try {
      const h = this.host;
      const id = taskIdOf(d.msg.content);
      if (id === undefined) {
        h.ctx.logger.warn('A RabbitMQ message that carries no task id was dead-lettered', { queue: h.queue, bytes: d.msg.content.length, code: ErrorCodes.BAD_RECORD });
        this.settle(d, 'dead');
        return Promise.resolve();
      }
      const headers = (d.msg.properties.headers ?? {}) as Record<string, unknown>;
      const prior = Number(headers[ATTEMPT_HEADER] ?? 0);
      const now = Date.now();
      const workerId = this.consumer.workerId;
      const claimed = h.writer.transition(id, CLAIMABLE, {
        status: 'process',
        attempt: (Number.isFinite(prior) ? prior : 0) + 1,
        startedAt: now,
        workerId,
        runAt: undefined,
      });
      return claimed.then((rec) => (rec !== undefined && rec.status === 'process' ? this.run(rec, d) : this.unclaimed(id, d, rec, now, workerId)));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  /** A claim's write did not make the task `process`: its record could not be used, or the task is elsewhere. */
  private async unclaimed(id: string, d: Delivery, rec: TaskRecord | undefined, now: number, workerId: string): Promise<void> {
    const h = this.host;
    // a stored record that cannot be decoded reads as an error: it never runs
    if (rec) return this.poisoned(rec, d, now);
    const cur = await h.storage.get(id);
    // cancelled, removed, finished, or a copy of a message already claimed: dropped
    // (a task waiting for its children is held like a running one: its message is not acknowledged)
    if (!cur || (cur.status !== 'process' && cur.status !== 'waiting') || !d.msg.fields.redelivered) return this.settle(d, 'ack');
    // redelivered while recorded running: the connection of the delivery that claimed it was lost
    if (this.running.has(id)) {
      this.running.set(id, d); // still running here: this delivery is acknowledged at its end
      return;
    }
    if (cur.workerId !== workerId && (await h.shared.isLive(cur.workerId))) {
      // still running in a live worker elsewhere: back to the queue a little later
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.settle(d, 'requeue');
      }, 1_000);
      this.timers.add(t);
      return;
    }
    const stalls = (cur.stalls ?? 0) + 1;
    if (stalls > h.ctx.config.maxStalls) {
      const ended = await h.writer.transition(id, ['process', 'waiting'], {
        status: 'error',
        stalls,
        finishedAt: now,
        error: {
          name: 'StalledError',
          code: ErrorCodes.STALLED,
          message: `Task ${id} stalled ${stalls} times (its worker was lost while it ran; maxStalls is ${h.ctx.config.maxStalls}): it ended error and its message was dead-lettered`,
        },
      });
      this.settle(d, 'dead');
      if (ended) h.ended(ended, 'task:error');
      return;
    }
    const again = await h.writer.transition(id, ['process', 'waiting'], { status: 'process', stalls, attempt: cur.attempt + 1, startedAt: now, workerId });
    if (!again) return this.settle(d, 'ack');
    if (again.status === 'process') return this.run(again, d);
    await this.poisoned(again, d, now);
  }

  /**
   * Ends a claimed task whose stored record cannot be used (`QTASKS_ERR_BAD_RECORD`, the error the
   * storage's read gave) and dead-letters its message; the other deliveries go on as usual.
   */
  private async poisoned(rec: TaskRecord, d: Delivery, now: number): Promise<void> {
    const h = this.host;
    h.ctx.logger.warn('A task whose stored record cannot be used ended error; its message was dead-lettered', { id: rec.id, code: ErrorCodes.BAD_RECORD });
    // the status is written wherever the claim left it (`process`, or still queued when the claim
    // itself could not use the record); the rest of the record may be unreadable
    const error = rec.error ?? badRecordError(rec.id, 'it cannot be decoded');
    const ended = (await h.writer.transition(rec.id, ['process', 'new', 'delayed', 'retry'], { status: 'error', error, finishedAt: now })) ?? rec;
    this.settle(d, 'dead');
    h.ended(ended, 'task:error');
  }

  private run(rec: TaskRecord, d: Delivery): void | Promise<void> {
    const early = this.earlyCancels.get(rec.id);
    if (early !== undefined) {
      this.earlyCancels.delete(rec.id);
      if (early.startedAt === undefined || early.startedAt === rec.startedAt) return this.cancelClaimed(rec, d, early.reason);
    }
    this.running.set(rec.id, d);
    this.consumer.run(rec);
  }

  /** Ends a claimed task whose cancel came before its claim's reply: `cancel`, as if it was still queued. */
  private async cancelClaimed(rec: TaskRecord, d: Delivery, reason: string | undefined): Promise<void> {
    const h = this.host;
    const ended = await h.writer.transition(rec.id, ['process'], { status: 'cancel', cancelReason: reason, finishedAt: Date.now() });
    this.settle(d, 'ack');
    if (ended) h.ended(ended, 'task:cancel');
  }

  /**
   * Acknowledges (with the other acks of this turn), requeues or dead-letters a delivery; nothing
   * when its connection is gone (RabbitMQ requeued it).
   */
  private settle(d: Delivery, how: 'ack' | 'requeue' | 'dead'): void {
    const ch = this.host.link.channelsNow();
    if (!ch || ch.gen !== d.gen) return;
    if (how === 'ack') {
      this.acks.push(d);
      if (this.acks.length === 1) setImmediate(() => this.flushAcks());
      return;
    }
    this.unsettled.delete(d.msg.fields.deliveryTag);
    try {
      ch.sub.nack(d.msg, false, how === 'requeue');
    } catch {
      // the channel closed meanwhile: RabbitMQ requeues the message
    }
  }

  /**
   * Sends the acks of this turn: the longest run of the oldest unsettled deliveries that are all
   * acknowledged now goes as one `multiple` ack of its newest, the others one by one.
   */
  private flushAcks(): void {
    const acks = this.acks;
    this.acks = [];
    const ch = this.host.link.channelsNow();
    if (!ch) return;
    const now = acks.filter((d) => d.gen === ch.gen && this.unsettled.get(d.msg.fields.deliveryTag) === d);
    if (now.length === 0) return;
    const acked = new Set(now);
    let upTo: Delivery | undefined;
    for (const d of this.unsettled.values()) {
      if (!acked.has(d)) break;
      upTo = d;
    }
    try {
      if (upTo !== undefined) {
        for (const d of this.unsettled.values()) {
          this.unsettled.delete(d.msg.fields.deliveryTag);
          acked.delete(d);
          if (d === upTo) break;
        }
        ch.sub.ack(upTo.msg, true);
      }
      for (const d of acked) {
        this.unsettled.delete(d.msg.fields.deliveryTag);
        ch.sub.ack(d.msg);
      }
    } catch {
      // the channel closed meanwhile: RabbitMQ requeues the messages
    }
  }
}

/** How long a cancel heard before its claim's reply is kept (ms). */
const EARLY_CANCEL_MS = 60_000;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The task id a message body carries; undefined for one that cannot be an id (empty, too long, not UTF-8). */
function taskIdOf(body: Buffer): string | undefined {
  if (body.length === 0 || body.length > MAX_ID_LENGTH * 4) return undefined;
  let id: string;
  try {
    id = utf8.decode(body);
  } catch {
    return undefined;
  }
  return id.length <= MAX_ID_LENGTH ? id : undefined;
}

/**
 * The prefetch of a worker of `concurrency`: three more messages per slot wait here, unclaimed, so
 * that a slot that frees claims its next task in the same storage write as the end, and the
 * messages whose end is being written and whose ack is on its way to RabbitMQ (each counts until
 * RabbitMQ reads the ack) leave the next ones delivered meanwhile: with one held message per slot
 * the held ones ran out most of the time, and the claims trickled in one per storage call instead
 * of one call per batch. A worker of concurrency 1 holds nothing it does not run (strict priority
 * order).
 */
export function prefetchOf(concurrency: number): number {
  const n = Math.max(1, Math.floor(concurrency));
  return n === 1 ? 1 : Math.min(n * 4, 10_000);
}
