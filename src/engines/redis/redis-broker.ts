/**
 * Redis Broker: every transition is one Lua script on the queue's keys. Enqueues of one tick are
 * coalesced into one script call, in which an idle worker of this process also claims them; the
 * worker side lives in {@link RedisConsumerLoop}; results, items and events arrive through
 * {@link RedisNotifier}.
 */
import type { StreamEndListener, StreamItemListener } from '../../engine/broker';
import { Broker, Consumer, EngineContext, Outcome, WorkerCommand, WorkerInfo } from '../../engine/broker';
import { ClosedError } from '../../errors';
import { dropsAtEnd } from '../../task/retention';
import type { TaskRecord } from '../../task/task-record';
import { decodeRecord, encodeOpt } from './record-codec';
import { AddReply, addReply, callSize, pushTasks, sharedPriority } from './enqueue-call';
import { RedisConsumerLoop } from './redis-consumer-loop';
import { RedisNotifier } from './redis-notifier';
import { isConnectionError } from './redis-link';
import type { QueueKeys } from './queue-keys';
import type { RedisStorage } from './redis-storage';
import { PartitionLoops } from './partition-loops';
import { partitionOf } from './partition-tags';
import { checkStoredPartitions } from './partition-check';
import { itemChunks } from '../shared/item-chunks';

interface PendingEnqueue {
  records: TaskRecord[];
  /** The partition of every record (0 with one partition). */
  part: number;
  resolve: (r: TaskRecord[]) => void;
  reject: (e: Error) => void;
}

/** Tasks that wait for the enqueues of one tick to be sent at once, at most. */
const ENQUEUE_CHUNK = 2_000;

/**
 * Tasks in one enqueue script call (a larger batch is sent in several calls, back to back): small
 * enough that Redis runs a call while the next one is encoded, large enough that a call's own cost
 * is spread over many tasks.
 */
const CALL_SIZE = 250;

/** Moves tasks through their life in Redis; pairs with {@link RedisStorage}. */
export class RedisBroker extends Broker {
  readonly engine: string = 'redis';

  /** A broker for another queue of the same app (paired with the storage's sibling). */
  sibling(): RedisBroker {
    return new RedisBroker();
  }

  private storage!: RedisStorage;
  private ctx!: EngineContext;
  private notifier!: RedisNotifier;
  /** The worker: one loop, or one per partition. */
  private loop: RedisConsumerLoop | PartitionLoops | undefined;
  /** A partitioned producer checks once that the queue is used with its partition count. */
  private partitionsChecked: Promise<void> | undefined;
  private pending: PendingEnqueue[] = [];
  private pendingCount = 0;
  private flushScheduled = false;
  private readonly flushFn = () => this.flush();
  private closed = false;
  private closing: Promise<void> | undefined;
  private listenTimer: NodeJS.Timeout | undefined;

  async init(ctx: EngineContext): Promise<void> {
    if (this.closed) throw new ClosedError('RedisBroker used');
    if (this.notifier) return;
    // paired at construction: a broker that needs its own engine's storage gets a Redis storage,
    // whose connections and keys it shares
    const storage = ctx.storage as RedisStorage;
    await storage.init(ctx);
    this.ctx = ctx;
    this.storage = storage;
    this.notifier = new RedisNotifier(storage, ctx);
    this.notifier.onCancel = (id, wid, reason) => this.loop?.onCancel(id, wid, reason);
    this.notifier.onWorkerCommand = (wid, command) => {
      if (this.loop !== undefined && this.loop.workerId === wid) this.loop.control(command);
    };
    this.notifier.isLocal = (wid) => this.loop !== undefined && this.loop.workerId === wid;
    storage.onRemoved = (ids) => (ids ? this.notifier.forget(ids) : this.notifier.forgetAll());
    // listen before the first enqueue so that no event of this app's tasks is missed; a Redis that
    // is down delays this at most connectTimeoutMs (operations then fail on their own)
    if (this.notifier.wantsEvents()) await this.notifier.settled(this.notifier.ensureEvents(), ctx.config.connectTimeoutMs);
    // listeners added later are noticed within a second
    this.listenTimer = setInterval(() => {
      if (!this.notifier.hasEvents && this.notifier.wantsEvents()) void this.notifier.ensureEvents();
    }, 1_000);
    this.listenTimer.unref();
  }

  /** A listener was added: subscribe to the queue's events now rather than at the next check. */
  listenersChanged(): void {
    if (this.notifier && !this.notifier.hasEvents && this.notifier.wantsEvents()) void this.notifier.ensureEvents();
  }

  close(): Promise<void> {
    return (this.closing ??= this.doClose());
  }

  private async doClose(): Promise<void> {
    this.closed = true;
    if (this.listenTimer) clearInterval(this.listenTimer);
    if (this.loop) await this.loop.close();
    this.notifier?.close();
    if (this.pending.length > 0) {
      const left = this.pending;
      this.pending = [];
      for (const p of left) p.reject(new ClosedError('addTask'));
    }
  }

  enqueue(records: TaskRecord[]): Promise<TaskRecord[]> {
    if (this.closed) return Promise.reject(new ClosedError('addTask'));
    if (this.storage.partitions > 1) return this.enqueueSpread(records);
    return this.enqueueOn(records, 0);
  }

  /** A partitioned queue: each task goes to the partition of its id; one call per partition. */
  private async enqueueSpread(records: TaskRecord[]): Promise<TaskRecord[]> {
    await (this.partitionsChecked ??= checkStoredPartitions(this.storage).catch((err: unknown) => {
      if (isConnectionError(err) || (err as { code?: string }).code !== 'QTASKS_ERR_BAD_OPTION') this.partitionsChecked = undefined;
      throw err;
    }));
    const k = this.storage.partitions;
    const groups = new Map<number, { at: number[]; records: TaskRecord[] }>();
    for (let i = 0; i < records.length; i++) {
      const p = partitionOf(records[i].id, k);
      let g = groups.get(p);
      if (g === undefined) groups.set(p, (g = { at: [], records: [] }));
      g.at.push(i);
      g.records.push(records[i]);
    }
    const out = new Array<TaskRecord>(records.length);
    await Promise.all(
      [...groups].map(async ([p, g]) => {
        const stored = await this.enqueueOn(g.records, p);
        for (let j = 0; j < stored.length; j++) out[g.at[j]] = stored[j];
      }),
    );
    return out;
  }

  private enqueueOn(records: TaskRecord[], part: number): Promise<TaskRecord[]> {
    return new Promise((resolve, reject) => {
      this.pending.push({ records, part, resolve, reject });
      this.pendingCount += records.length;
      if (this.pendingCount >= ENQUEUE_CHUNK) this.flush();
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        queueMicrotask(this.flushFn);
      }
    });
  }

  /** Sends the enqueues of this tick in one script call. */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    this.pendingCount = 0;
    if (!this.notifier.eventsConfirmed && (this.notifier.wantsEvents() || batch.some(anyDropsAtEnd))) {
      this.sendListening(batch);
      return;
    }
    this.send(batch);
  }

  /**
   * A listener was added since init (its subscription may still be on its way), or a task is
   * dropped at its end, whose record only its end announcement carries: listens before these tasks
   * can end (they are then noted, so that a later result() gets the announced end). (Its own
   * method: the callback would cost flush() a context object at every call.)
   */
  private sendListening(batch: PendingEnqueue[]): void {
    void this.notifier.settled(this.notifier.ensureEvents(), this.ctx.config.connectTimeoutMs).then(() => this.send(batch));
  }

  private send(batch: PendingEnqueue[]): void {
    const loop = this.loop;
    if (loop instanceof PartitionLoops || (loop === undefined && this.storage.partitions > 1)) {
      // one script call per partition (its own slot, on a cluster its own master)
      const byPart = new Map<number, PendingEnqueue[]>();
      for (const p of batch) {
        const list = byPart.get(p.part);
        if (list === undefined) byPart.set(p.part, [p]);
        else list.push(p);
      }
      for (const [part, list] of byPart) this.sendTo(list, this.storage.parts[part], loop instanceof PartitionLoops ? loop.lanes[part] : undefined);
      return;
    }
    this.sendTo(batch, this.storage.keys, loop);
  }

  /**
   * Sends one partition's enqueues: in one script call when an idle worker of this process claims
   * them (in the call or right behind it), else in calls of {@link CALL_SIZE} tasks, each written as
   * soon as it is encoded so that Redis runs one while the next is encoded.
   */
  private sendTo(batch: PendingEnqueue[], k: QueueKeys, loop: RedisConsumerLoop | undefined): void {
    const records = batch.length === 1 ? batch[0].records : batch.flatMap((p) => p.records);
    const n = records.length;
    const kick = loop?.canKick() ?? false;
    const shared = sharedPriority(records);
    // an idle worker of this process claims due tasks of one priority in the enqueue call itself
    let direct = 0;
    const now = Date.now();
    if (kick && shared !== '') direct = loop!.reserveDirect(now);
    const head: (string | number)[] = [direct > 0 ? direct : kick ? '0' : '', loop?.workerId ?? '', now, now + this.ctx.config.leaseMs, shared];
    const ids = records.map((r) => r.id);
    const noted = this.notifier.noteEnqueued(ids);
    // the script names the queue's keys from its key base (lua/add-1.lua)
    const keys = [k.base];
    const link = this.storage.link;
    const add = (args: (string | number)[]): Promise<AddReply> => this.storage.call('addTask', () => link.script('add')(keys, args)).then(addReply);
    // after a dropped connection the enqueue is sent again without claiming (the marker wakes workers)
    const again = (args: (string | number)[]) => (err: unknown): Promise<AddReply> => {
      if (!isConnectionError(err)) return Promise.reject(err);
      const plain = args.slice();
      plain[0] = '';
      return add(plain);
    };
    const parts: Promise<AddReply>[] = [];
    const size = kick ? n : callSize(records, CALL_SIZE);
    if (kick) {
      const args = head.slice();
      pushTasks(args, records, 0, n, shared);
      if (direct > 0) {
        parts.push(
          link.script('add')(keys, args).then(
            (raw) => {
              const res = addReply(raw);
              const claimed = res[1];
              loop!.directClaimed(claimed, now, direct, claimed.length / 3 === n);
              return res;
            },
            (err: unknown) => {
              loop!.directClaimed(undefined, now, direct, false);
              return again(args)(err);
            },
          ),
        );
      } else {
        // an idle worker of this process claims right behind the enqueue: one write, one round trip
        const pipe = link.cmd.pipeline();
        parts.push(link.scriptOn(pipe, 'add')(keys, args).then(addReply).catch(again(args)));
        loop!.kick(pipe);
        pipe.exec().catch(() => undefined);
      }
    } else {
      for (let from = 0; from < n; from += size) {
        const args = head.slice();
        pushTasks(args, records, from, Math.min(n, from + size), shared);
        // claims nothing: `add` already retries a dropped connection until connectTimeoutMs
        parts.push(add(args));
      }
    }
    let sent: Promise<AddReply[]> = Promise.all(parts);
    if (link.waitReplicas > 0) sent = sent.then((res) => link.confirmReplicas(k.meta, ids).then(() => res));
    sent.then(
      (replies) => {
        // tasks whose id existed already: the stored record instead of the new one
        const stored = records.slice();
        for (let c = 0; c < replies.length; c++) {
          const existing = replies[c][0];
          for (let e = 0; e < existing.length; e += 2) {
            const i = c * size + (existing[e] as number);
            if (noted) this.notifier.forget([records[i].id]);
            stored[i] = decodeRecord(existing[e + 1] as string[], records[i].id) ?? records[i];
          }
        }
        let i = 0;
        for (const p of batch) {
          p.resolve(batch.length === 1 ? stored : stored.slice(i, i + p.records.length));
          i += p.records.length;
        }
      },
      (err: Error) => {
        if (noted) this.notifier.forget(ids);
        for (const p of batch) p.reject(err);
      },
    );
  }

  async consume(consumer: Consumer): Promise<void> {
    if (this.closed) throw new ClosedError('Worker started');
    if (this.loop) return;
    // cancel requests arrive on the control channel: listen before taking tasks
    await this.notifier.ready('start()', this.notifier.ensureControl());
    if (this.notifier.wantsEvents()) await this.notifier.ready('start()', this.notifier.ensureEvents());
    // a worker of another partition count would miss tasks, or leave them unfound
    await checkStoredPartitions(this.storage);
    if (this.loop) return;
    this.loop =
      this.storage.partitions > 1
        ? new PartitionLoops(this.storage, consumer, this.ctx.config.concurrency, this.notifier)
        : new RedisConsumerLoop(this.storage, consumer, this.ctx.config.concurrency, this.notifier);
    this.loop.start();
  }

  wake(): void {
    this.loop?.wake();
  }

  async stopConsuming(): Promise<void> {
    await this.loop?.stop();
  }

  finish(record: TaskRecord, outcome: Outcome): Promise<TaskRecord | undefined> {
    if (!this.loop) return Promise.resolve(undefined);
    return this.loop.finish(record, outcome);
  }

  finishThen(record: TaskRecord, outcome: Outcome, done: (stored: TaskRecord | undefined) => void, failed: (err: Error) => void): void {
    if (!this.loop) return done(undefined);
    this.loop.finishThen(record, outcome, done, failed);
  }

  async cancel(id: string, reason?: string): Promise<boolean> {
    const k = this.storage.keysOf(id);
    const cfg = this.ctx.config;
    const res = await this.storage.call('cancel', () =>
      this.storage.link
        .script('cancel')([k.task + id, k.delayed, k.cnt, k.doneCancel, k.cancels], [k.items + id, k.wait, k.channel, Date.now(), cfg.resultTtlMs, encodeOpt(reason), id, k.control]),
    );
    return Number(res) > 0;
  }

  async release(id: string): Promise<boolean> {
    const k = this.storage.keysOf(id);
    const res = await this.storage.call('release', () => this.storage.link.script('release')([k.task + id, k.prios, k.cnt, k.marker], [k.wait, Date.now(), id]));
    return Number(res) === 1;
  }

  async setWaiting(record: TaskRecord, waiting: boolean): Promise<boolean> {
    const k = this.storage.keysOf(record.id);
    const [from, to] = waiting ? ['process', 'waiting'] : ['waiting', 'process'];
    const res = await this.storage.call('waitChildren', () =>
      this.storage.link.script('waiting')([k.task + record.id, k.cnt], [from, to, record.workerId ?? '', Date.now()]),
    );
    if (Number(res) !== 1) return false;
    record.status = to as TaskRecord['status'];
    return true;
  }

  async progress(record: TaskRecord, value: unknown): Promise<void> {
    record.progress = value;
    const k = this.storage.keysOf(record.id);
    const event = JSON.stringify({ id: record.id, name: record.name, progress: value });
    await this.storage.call('progress', () =>
      this.storage.link.script('progress')([k.task + record.id], [k.channel, JSON.stringify(value) ?? 'null', Date.now(), event]),
    );
  }

  pushItem(record: TaskRecord, item: unknown): Promise<void> {
    return this.pushItems(record, [item]);
  }

  /** Items in one script call, in calls of at most 1,000 items or about 4 MB (see `itemChunks`). */
  async pushItems(record: TaskRecord, items: unknown[]): Promise<void> {
    this.loop?.itemPushed(record.id);
    const k = this.storage.keysOf(record.id);
    const keys = [k.items + record.id, k.task + record.id];
    const head = [k.channel, JSON.stringify(record.id)];
    for (const run of itemChunks(items)) {
      await this.storage.call('stream item', () => this.storage.link.script('item')(keys, head.concat(run)));
    }
  }

  waitFinal(id: string, timeoutMs?: number): Promise<TaskRecord | undefined> {
    if (this.closed) return Promise.reject(new ClosedError('result()'));
    return this.notifier.waitFinal(id, timeoutMs);
  }

  watchItems(
    id: string,
    from: number,
    onItem: StreamItemListener,
    onEnd: StreamEndListener,
  ): () => void {
    return this.notifier.watchItems(id, from, onItem, onEnd);
  }

  async retry(id: string): Promise<boolean> {
    this.notifier.forget([id]);
    const k = this.storage.keysOf(id);
    const res = await this.storage.call('retry', () =>
      this.storage.link.script('retry')([k.task + id, k.prios, k.cnt, k.doneError, k.doneCancel, k.marker], [k.items + id, k.wait, Date.now(), id]),
    );
    return Number(res) === 1;
  }

  /** Pauses every partition (each partition's scripts read its own flag). */
  async pause(): Promise<void> {
    await Promise.all(this.storage.parts.map((k) => this.storage.call('pause', (r) => r.hset(k.meta, 'paused', '1'))));
  }

  async resume(): Promise<void> {
    await Promise.all(this.storage.parts.map((k) => this.storage.call('resume', (r) => r.multi().hdel(k.meta, 'paused').zadd(k.marker, 0, '0').exec())));
  }

  async isPaused(): Promise<boolean> {
    return (await this.storage.call('isPaused', (r) => r.hexists(this.storage.parts[0].meta, 'paused'))) === 1;
  }

  async controlWorker(workerId: string, command: WorkerCommand): Promise<void> {
    const k = this.storage.keys;
    // every worker of the queue listens on the control channel; only the one named applies it
    await this.storage.call('controlWorker', (r) => r.publish(k.control, 'w' + JSON.stringify([workerId, command])));
  }

  async workers(): Promise<WorkerInfo[]> {
    // every worker consumes (and beats in) every partition: the first one lists them all
    const k = this.storage.parts[0];
    const since = Date.now() - Math.floor(this.ctx.config.leaseMs * 1.5);
    const [seen, infos] = await this.storage.call('workers', (r) =>
      Promise.all([r.zrangebyscore(k.seen, since, '+inf', 'WITHSCORES'), r.hgetall(k.workers)]),
    );
    const out: WorkerInfo[] = [];
    for (let i = 0; i < seen.length; i += 2) {
      const info = decodeWorker(infos[seen[i]], seen[i]);
      if (info !== undefined) out.push({ ...info, lastSeenAt: Number(seen[i + 1]) });
    }
    return out;
  }

  async tryLock(key: string, ttlMs: number): Promise<boolean> {
    const res = await this.storage.call('tryLock', (r) => r.set(this.storage.keys.lock(key), '1', 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX'));
    return res === 'OK';
  }

  async rateLimit(key: string, max: number, perMs: number): Promise<number> {
    const now = Date.now();
    const member = `${now}:${process.pid}:${Math.random().toString(36).slice(2)}`;
    const res = await this.storage.call('rateLimit', () => this.storage.link.script('rateLimit')([this.storage.keys.rate(key)], [now, max, perMs, member]));
    return Number(res);
  }
}

/** True when a task of `p` is dropped at its end. */
function anyDropsAtEnd(p: PendingEnqueue): boolean {
  return p.records.some((r) => dropsAtEnd(r));
}

/** A worker entry of the workers hash; undefined (skipped) when it cannot be decoded. */
function decodeWorker(raw: string | undefined, id: string): WorkerInfo | undefined {
  if (raw === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v) || (v as WorkerInfo).id !== id) return undefined;
  return v as WorkerInfo;
}
