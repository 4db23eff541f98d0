/**
 * Redis Broker: every transition is one Lua script on the queue's keys. Enqueues of one tick are
 * coalesced into one script call, in which an idle worker of this process also claims them; the
 * worker side lives in {@link RedisConsumerLoop}; results, items and events arrive through
 * {@link RedisNotifier}.
 */
import type { StreamEndListener, StreamItemListener } from '../../engine/broker';
import { Broker, Consumer, EngineContext, Outcome, WorkerCommand, WorkerInfo } from '../../engine/broker';
import { ClosedError } from '../../errors';
import type { TaskRecord } from '../../task/task-record';
import { decodeRecord, encodeOpt, fixedJson } from './record-codec';
import { RedisConsumerLoop } from './redis-consumer-loop';
import { RedisNotifier } from './redis-notifier';
import { isConnectionError } from './redis-link';
import type { RedisStorage } from './redis-storage';

interface PendingEnqueue {
  records: TaskRecord[];
  resolve: (r: TaskRecord[]) => void;
  reject: (e: Error) => void;
}

/** True when every task of the batch is due now and all share one priority. */
function uniform(batch: PendingEnqueue[]): boolean {
  let pri: number | undefined;
  for (const p of batch) {
    for (const r of p.records) {
      if (r.status === 'delayed' && r.runAt !== undefined) return false;
      if (pri === undefined) pri = r.priority;
      else if (r.priority !== pri) return false;
    }
  }
  return true;
}

/** Largest number of tasks sent in one enqueue script call. */
const ENQUEUE_CHUNK = 2_000;

/** Moves tasks through their life in Redis; pairs with {@link RedisStorage}. */
export class RedisBroker extends Broker {
  readonly engine: string = 'redis';
  private storage!: RedisStorage;
  private ctx!: EngineContext;
  private notifier!: RedisNotifier;
  private loop: RedisConsumerLoop | undefined;
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
    return new Promise((resolve, reject) => {
      this.pending.push({ records, resolve, reject });
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
    if (!this.notifier.eventsConfirmed && this.notifier.wantsEvents()) {
      // a listener was added since init (its subscription may still be on its way): listen
      // before these tasks can end
      void this.notifier.settled(this.notifier.ensureEvents(), this.ctx.config.connectTimeoutMs).then(() => this.send(batch));
      return;
    }
    this.send(batch);
  }

  private send(batch: PendingEnqueue[]): void {
    const k = this.storage.keys;
    const loop = this.loop;
    const kick = loop?.canKick() ?? false;
    // an idle worker of this process claims due tasks of one priority in the enqueue call itself
    let direct = 0;
    const now = Date.now();
    if (kick && uniform(batch)) direct = loop!.reserveDirect(now);
    const args: (string | number)[] = [k.task, k.wait, direct > 0 ? direct : kick ? '0' : '', loop?.workerId ?? '', now, now + this.ctx.config.leaseMs];
    let n = 0;
    for (const p of batch) {
      for (const r of p.records) {
        const delayed = r.status === 'delayed' && r.runAt !== undefined;
        args.push(r.id, fixedJson(r), String(r.priority), delayed ? r.runAt! : '');
        n++;
      }
    }
    const ids: string[] = [];
    for (const p of batch) for (const r of p.records) ids.push(r.id);
    const noted = this.notifier.noteEnqueued(ids);
    const keys = [k.prios, k.delayed, k.all, k.seq, k.cnt, k.marker, k.meta, k.leases, k.held + (loop?.workerId ?? '')];
    const link = this.storage.link;
    // after a dropped connection the enqueue is sent again without claiming (the marker wakes workers)
    const again = (err: unknown): Promise<unknown> => {
      if (!isConnectionError(err)) return Promise.reject(err);
      const plain = args.slice();
      plain[2] = '';
      return this.storage.call('addTask', () => link.script('add')(keys, plain));
    };
    let sent: Promise<unknown>;
    if (direct > 0) {
      sent = link.script('add')(keys, args).then(
        (res) => {
          const claimed = (res as unknown[])[n] as string[] | undefined;
          loop!.directClaimed(claimed, now, direct, claimed !== undefined && claimed.length / 3 === n);
          return res;
        },
        (err: unknown) => {
          loop!.directClaimed(undefined, now, direct, false);
          return again(err);
        },
      );
    } else if (kick) {
      // an idle worker of this process claims right behind the enqueue: one write, one round trip
      const pipe = link.cmd.pipeline();
      sent = link.scriptOn(pipe, 'add')(keys, args).catch(again);
      loop!.kick(pipe);
      pipe.exec().catch(() => undefined);
    } else {
      sent = this.storage.call('addTask', () => link.script('add')(keys, args));
    }
    if (link.waitReplicas > 0) sent = sent.then((res) => link.confirmReplicas(k.meta, ids).then(() => res));
    sent.then(
        (res) => {
          const out = res as (0 | string[])[];
          let i = 0;
          for (const p of batch) {
            const stored = new Array<TaskRecord>(p.records.length);
            for (let j = 0; j < p.records.length; j++, i++) {
              const existing = out[i];
              if (existing !== 0 && noted) this.notifier.forget([p.records[j].id]);
              stored[j] = existing === 0 ? p.records[j] : (decodeRecord(existing, p.records[j].id) ?? p.records[j]);
            }
            p.resolve(stored);
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
    if (this.loop) return;
    this.loop = new RedisConsumerLoop(this.storage, consumer, this.ctx.config.concurrency, this.notifier);
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

  async cancel(id: string, reason?: string): Promise<boolean> {
    const k = this.storage.keys;
    const cfg = this.ctx.config;
    const res = await this.storage.call('cancel', () =>
      this.storage.link
        .script('cancel')([k.task + id, k.delayed, k.cnt, k.doneCancel, k.cancels], [k.items + id, k.wait, k.channel, Date.now(), cfg.resultTtlMs, encodeOpt(reason), id, k.control]),
    );
    return Number(res) > 0;
  }

  async progress(record: TaskRecord, value: unknown): Promise<void> {
    record.progress = value;
    const k = this.storage.keys;
    const event = JSON.stringify({ id: record.id, name: record.name, progress: value });
    await this.storage.call('progress', () =>
      this.storage.link.script('progress')([k.task + record.id], [k.channel, JSON.stringify(value) ?? 'null', Date.now(), event]),
    );
  }

  async pushItem(record: TaskRecord, item: unknown): Promise<void> {
    this.loop?.itemPushed(record.id);
    const k = this.storage.keys;
    await this.storage.call('stream item', () =>
      this.storage.link.script('item')([k.items + record.id, k.task + record.id], [k.channel, JSON.stringify(item) ?? 'null', JSON.stringify(record.id)]),
    );
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
    const k = this.storage.keys;
    const res = await this.storage.call('retry', () =>
      this.storage.link.script('retry')([k.task + id, k.prios, k.cnt, k.doneError, k.doneCancel, k.marker], [k.items + id, k.wait, Date.now(), id]),
    );
    return Number(res) === 1;
  }

  async pause(): Promise<void> {
    await this.storage.call('pause', (r) => r.hset(this.storage.keys.meta, 'paused', '1'));
  }

  async resume(): Promise<void> {
    const k = this.storage.keys;
    await this.storage.call('resume', (r) => r.multi().hdel(k.meta, 'paused').zadd(k.marker, 0, '0').exec());
  }

  async isPaused(): Promise<boolean> {
    return (await this.storage.call('isPaused', (r) => r.hexists(this.storage.keys.meta, 'paused'))) === 1;
  }

  async controlWorker(workerId: string, command: WorkerCommand): Promise<void> {
    const k = this.storage.keys;
    // every worker of the queue listens on the control channel; only the one named applies it
    await this.storage.call('controlWorker', (r) => r.publish(k.control, 'w' + JSON.stringify([workerId, command])));
  }

  async workers(): Promise<WorkerInfo[]> {
    const k = this.storage.keys;
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
