/**
 * The subscriber side of a Redis engine: one subscriber connection per engine receives the queue's
 * channel (ends of tasks by batch, streamed items, progress, cancel requests) and settles waiting
 * `result()` calls, feeds `stream()` readers and fires events in this process. A notification lost
 * while disconnected is made up for by re-reading the records after a reconnect and on a slow timer.
 */
import type { StreamEndListener, StreamItemListener, WorkerCommand } from '../../engine/broker';
import type { Redis } from 'ioredis';
import type { EngineContext, EngineEventMap } from '../../engine/broker';
import { BrokerUnavailableError, ClosedError, ResultTimeoutError } from '../../errors';
import { isFinal, TaskRecord } from '../../task/task-record';
import type { RedisStorage } from './redis-storage';
import { decodeOpt } from './record-codec';

interface Waiter {
  resolve: (r: TaskRecord | undefined) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

interface Watcher {
  id: string;
  next: number;
  onItem: StreamItemListener;
  onEnd: StreamEndListener;
  /** A read of stored items is under way: live items wait for it. */
  loading: boolean;
  ended: boolean;
}

/** Called for a cancel request of a running task: (id, workerId, reason). */
export type CancelHandler = (id: string, workerId: string, reason: string | undefined) => void;

const EVENT_OF: Record<string, keyof EngineEventMap> = { success: 'task:success', error: 'task:error', cancel: 'task:cancel', retry: 'task:retry' };
const RECHECK_MS = 3_000;
const RECENT_MAX = 20_000;
const ENGINE_EVENTS: (keyof EngineEventMap)[] = ['task:success', 'task:error', 'task:retry', 'task:cancel', 'task:progress'];

/** Dispatches the queue's channel in this process. */
export class RedisNotifier {
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly watchers = new Map<string, Set<Watcher>>();
  private events: Promise<void> | undefined;
  /** True while the event subscription is known to have been up without a break. */
  private eventsLive = false;
  /** Bumped when the subscriber connection drops (notifications may have been lost). */
  private epoch = 0;
  /** Tasks this process enqueued while listening: their end cannot be missed (see waitFinal). */
  private readonly recent = new Map<string, { epoch: number; rec?: TaskRecord }>();
  private control: Promise<void> | undefined;
  private wired = false;
  private recheckTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private everReady = false;
  onCancel: CancelHandler | undefined;
  /** Receives operators' commands for a worker (the control channel's `w` messages). */
  onWorkerCommand: ((workerId: string, command: WorkerCommand) => void) | undefined;
  /** True for the id of this process's worker (whose ends are delivered locally). */
  isLocal: (workerId: string) => boolean = () => false;

  constructor(
    private readonly storage: RedisStorage,
    private readonly ctx: EngineContext,
  ) {}

  private sub(): Redis {
    const sub = this.storage.link.sub;
    if (!this.wired) {
      this.wired = true;
      sub.on('message', (_ch: string, msg: string) => this.dispatch(msg));
      sub.on('ready', () => {
        if (this.everReady) setTimeout(() => this.recheckAll(), 20).unref();
        this.everReady = true;
      });
      sub.on('close', () => {
        this.eventsLive = false;
        this.epoch++;
        this.recent.clear();
      });
    }
    return sub;
  }

  private listen(channel: string): Promise<void> {
    const p = this.sub().subscribe(channel).then(() => undefined);
    p.catch(() => undefined);
    return p;
  }

  /** True when someone in this process listens to the events the channel carries. */
  wantsEvents(): boolean {
    return ENGINE_EVENTS.some((e) => this.ctx.listens(e));
  }

  /** True while the event channel subscription is confirmed (false until then, and after a break). */
  get eventsConfirmed(): boolean {
    return this.eventsLive;
  }

  /** True once this process subscribed to the event channel. */
  get hasEvents(): boolean {
    return this.events !== undefined;
  }

  /** Subscribes to the event channel (ends, items, progress) once. */
  ensureEvents(): Promise<void> {
    if (!this.events) {
      const epoch = this.epoch;
      this.events = this.listen(this.storage.keys.channel);
      this.events.then(() => {
        if (this.epoch === epoch) this.eventsLive = true;
      }, () => undefined);
    }
    return this.events;
  }

  /** Notes tasks about to be enqueued while listening; returns false when not listening. */
  noteEnqueued(ids: string[]): boolean {
    if (!this.eventsLive) return false;
    for (const id of ids) {
      if (this.recent.size >= RECENT_MAX) this.recent.delete(this.recent.keys().next().value as string);
      this.recent.set(id, { epoch: this.epoch });
    }
    return true;
  }

  /** Forgets noted tasks (the enqueue failed, the id existed already, or the task was removed). */
  forget(ids: string[]): void {
    for (const id of ids) this.recent.delete(id);
  }

  forgetAll(): void {
    this.recent.clear();
  }

  /** Subscribes to the control channel (cancel requests for workers) once. */
  ensureControl(): Promise<void> {
    return (this.control ??= this.listen(this.storage.keys.control));
  }

  /** Resolves when `p` does, or after `ms` (never rejects). */
  settled(p: Promise<void>, ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([p.catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, ms)))]).then(() => clearTimeout(timer));
  }

  /** Resolves once `p` (a subscription) does; rejects `QTASKS_ERR_BROKER_UNAVAILABLE` after connectTimeoutMs. */
  ready(what: string, p: Promise<void> = this.ensureEvents()): Promise<void> {
    if (this.storage.link.sub.status === 'ready') return p;
    return new Promise((resolve, reject) => {
      const ms = this.storage.link.connectTimeoutMs;
      const t = setTimeout(() => reject(new BrokerUnavailableError(`${what}: Redis could not be reached within ${ms} ms (connectTimeoutMs)`)), ms);
      p.then(() => {
        clearTimeout(t);
        resolve();
      }, reject);
    });
  }

  waitFinal(id: string, timeoutMs?: number): Promise<TaskRecord | undefined> {
    if (this.closed) return Promise.reject(new ClosedError('result()'));
    // a task enqueued here while listening, without a break since: its end was or will be seen
    const noted = this.recent.get(id);
    let sure = false;
    if (noted !== undefined) {
      this.recent.delete(id);
      if (noted.rec !== undefined) return Promise.resolve(noted.rec);
      sure = noted.epoch === this.epoch && this.eventsLive;
    }
    return new Promise((resolve, reject) => {
      const w: Waiter = { resolve, reject, timer: undefined };
      let set = this.waiters.get(id);
      if (!set) this.waiters.set(id, (set = new Set()));
      set.add(w);
      if (timeoutMs !== undefined) {
        w.timer = setTimeout(() => {
          this.dropWaiter(id, w);
          reject(new ResultTimeoutError(id, timeoutMs));
        }, timeoutMs);
      }
      this.armRecheck();
      if (sure) return;
      this.ready('result()')
        .then(() => this.storage.get(id))
        .then(
          (rec) => {
            if (rec === undefined || isFinal(rec.status)) this.settleWaiters(id, rec);
          },
          (err: Error) => {
            if (this.dropWaiter(id, w)) reject(err);
          },
        );
    });
  }

  watchItems(
    id: string,
    from: number,
    onItem: StreamItemListener,
    onEnd: StreamEndListener,
  ): () => void {
    const w: Watcher = { id, next: from, onItem, onEnd, loading: true, ended: false };
    if (this.closed) {
      queueMicrotask(() => onEnd(undefined, new ClosedError('stream()')));
      return () => undefined;
    }
    let set = this.watchers.get(id);
    if (!set) this.watchers.set(id, (set = new Set()));
    set.add(w);
    this.armRecheck();
    this.ready('stream()').then(
      () => this.catchUp(w, true),
      (err: Error) => this.endWatcher(w, undefined, err),
    );
    return () => {
      w.ended = true;
      this.dropWatcher(w);
    };
  }

  /** Ends every wait with `QTASKS_ERR_CLOSED`. */
  close(): void {
    this.closed = true;
    if (this.recheckTimer) clearInterval(this.recheckTimer);
    this.recheckTimer = undefined;
    const err = new ClosedError('Waiting for a task');
    for (const [id, set] of this.waiters) for (const w of set) this.dropWaiter(id, w) && w.reject(err);
    for (const set of [...this.watchers.values()]) for (const w of set) this.endWatcher(w, undefined, new ClosedError('stream()'));
  }

  // ---- messages ----

  private dispatch(msg: string): void {
    try {
      const kind = msg.charCodeAt(0);
      if (kind === 70 /* F */) {
        const sp = msg.indexOf(' ');
        if (this.isLocal(msg.slice(1, sp))) return;
        for (const rec of JSON.parse(msg.slice(sp + 1)) as TaskRecord[]) this.onRecord(rec);
      } else if (kind === 102 /* f */) {
        const list = JSON.parse(msg.slice(1)) as (TaskRecord | string)[];
        for (const entry of list) {
          if (typeof entry === 'string') this.fetchAndSettle(entry);
          else this.onRecord(entry);
        }
      } else if (kind === 105 /* i */) {
        const [id, index, item] = JSON.parse(msg.slice(1)) as [string, number, unknown];
        const set = this.watchers.get(id);
        if (set) for (const w of set) this.onItem(w, index, item);
      } else if (kind === 112 /* p */) {
        if (this.ctx.listens('task:progress')) this.ctx.emit('task:progress', JSON.parse(msg.slice(1)));
      } else if (kind === 99 /* c */) {
        const [id, wid, reason] = JSON.parse(msg.slice(1)) as [string, string, string];
        this.onCancel?.(id, wid, decodeOpt(reason));
      } else if (kind === 119 /* w */) {
        const [wid, command] = JSON.parse(msg.slice(1)) as [string, WorkerCommand];
        this.onWorkerCommand?.(wid, command);
      }
    } catch (err) {
      this.ctx.logger.error('A malformed message on the queue channel was skipped', { error: err });
    }
  }

  /** A task of this process's worker changed (ended, or failed with a retry). */
  deliver(rec: TaskRecord): void {
    this.onRecord(rec);
  }

  private onRecord(rec: TaskRecord): void {
    if (isFinal(rec.status)) {
      const noted = this.recent.get(rec.id);
      if (noted !== undefined) noted.rec = rec;
      this.settleWaiters(rec.id, rec);
      const set = this.watchers.get(rec.id);
      if (set) for (const w of set) void this.catchUp(w, false, rec);
    }
    const event = EVENT_OF[rec.status];
    if (event !== undefined && this.ctx.listens(event)) this.ctx.emit(event as 'task:success', { record: rec });
  }

  /** An end announced by id only (cancel, stall): read the record, then as {@link onRecord}. */
  private fetchAndSettle(id: string): void {
    const wanted = this.waiters.has(id) || this.watchers.has(id) || this.recent.has(id);
    if (!wanted && !ENGINE_EVENTS.some((e) => e !== 'task:progress' && this.ctx.listens(e))) return;
    this.storage.get(id).then(
      (rec) => {
        if (rec) this.onRecord(rec);
        else this.settleWaiters(id, undefined);
      },
      (err) => this.ctx.logger.warn('Reading a finished task failed', { id, error: err }),
    );
  }

  private settleWaiters(id: string, rec: TaskRecord | undefined): void {
    const set = this.waiters.get(id);
    if (!set) return;
    this.waiters.delete(id);
    for (const w of set) {
      if (w.timer) clearTimeout(w.timer);
      w.resolve(rec);
    }
  }

  private dropWaiter(id: string, w: Waiter): boolean {
    const set = this.waiters.get(id);
    if (!set || !set.delete(w)) return false;
    if (w.timer) clearTimeout(w.timer);
    if (set.size === 0) this.waiters.delete(id);
    return true;
  }

  // ---- streams ----

  private onItem(w: Watcher, index: number, item: unknown): void {
    if (w.ended || w.loading || index < w.next) return;
    if (index > w.next) {
      void this.catchUp(w, false);
      return;
    }
    w.next++;
    w.onItem(item, index);
  }

  /** Reads stored items from `w.next` (and the record), delivers them, ends the watcher if final. */
  private async catchUp(w: Watcher, first: boolean, final?: TaskRecord): Promise<void> {
    if (w.ended || (!first && w.loading && final === undefined)) return;
    w.loading = true;
    try {
      const start = w.next;
      const [items, rec] = await Promise.all([this.storage.itemsAt(w.id, start), final ?? this.storage.get(w.id)]);
      if (w.ended) return;
      // an item that cannot be decoded is skipped: the next one keeps its index
      for (const { index, value } of items) {
        if (index < w.next) continue; // delivered meanwhile by another read
        w.next = index + 1;
        w.onItem(value, index);
      }
      w.loading = false;
      if (rec === undefined || isFinal(rec.status)) this.endWatcher(w, rec);
    } catch (err) {
      if (first) this.endWatcher(w, undefined, err as Error);
      else w.loading = false;
    }
  }

  private endWatcher(w: Watcher, rec: TaskRecord | undefined, err?: Error): void {
    if (w.ended) return;
    w.ended = true;
    this.dropWatcher(w);
    w.onEnd(rec, err);
  }

  private dropWatcher(w: Watcher): void {
    const set = this.watchers.get(w.id);
    if (set && set.delete(w) && set.size === 0) this.watchers.delete(w.id);
  }

  // ---- lost notifications ----

  private armRecheck(): void {
    if (this.recheckTimer || this.closed) return;
    this.recheckTimer = setInterval(() => {
      if (this.waiters.size === 0 && this.watchers.size === 0) {
        clearInterval(this.recheckTimer);
        this.recheckTimer = undefined;
        return;
      }
      this.recheckAll();
    }, RECHECK_MS);
    this.recheckTimer.unref();
  }

  /** Re-reads every awaited record (after a reconnect, and now and then). */
  private recheckAll(): void {
    if (this.closed) return;
    for (const id of this.waiters.keys()) {
      this.storage.get(id).then(
        (rec) => {
          if (rec === undefined || isFinal(rec.status)) this.settleWaiters(id, rec);
        },
        () => undefined,
      );
    }
    for (const set of this.watchers.values()) for (const w of set) if (!w.loading) void this.catchUp(w, false);
  }
}
