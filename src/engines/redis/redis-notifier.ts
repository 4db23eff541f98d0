/**
 * The subscriber side of a Redis engine: one subscriber connection per engine receives the queue's
 * channels (see {@link decodeChannelMessage}) and routes them: ends settle waiting `result()` calls
 * ({@link ResultWaiters}) and `stream()` readers ({@link ItemWatchers}) and fire events in this
 * process; cancel requests and operators' commands go to the worker. A notification lost while
 * disconnected is made up for by re-reading the records after a reconnect and on a slow timer.
 */
import type { StreamEndListener, StreamItemListener, WorkerCommand } from '../../engine/broker';
import type { Redis } from 'ioredis';
import type { EngineContext, EngineEventMap } from '../../engine/broker';
import { BrokerUnavailableError, ClosedError } from '../../errors';
import { isFinal, TaskRecord } from '../../task/task-record';
import type { RedisStorage } from './redis-storage';
import { decodeChannelMessage } from './channel-message';
import { ItemWatchers } from './item-watchers';
import { ResultWaiters } from './result-waiters';

/** Called for a cancel request of a running task: (id, workerId, reason). */
export type CancelHandler = (id: string, workerId: string, reason: string | undefined) => void;

const EVENT_OF: Record<string, keyof EngineEventMap> = { success: 'task:success', error: 'task:error', cancel: 'task:cancel', retry: 'task:retry' };
const RECHECK_MS = 3_000;
const RECENT_MAX = 20_000;
const ENGINE_EVENTS: (keyof EngineEventMap)[] = ['task:success', 'task:error', 'task:retry', 'task:cancel', 'task:progress'];

/** Dispatches the queue's channel in this process. */
export class RedisNotifier {
  private readonly waiters = new ResultWaiters();
  private readonly watchers: ItemWatchers;
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
  ) {
    this.watchers = new ItemWatchers(storage);
  }

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
      const w = this.waiters.add(id, timeoutMs, resolve, reject);
      this.armRecheck();
      if (sure) return;
      this.ready('result()')
        .then(() => this.storage.get(id))
        .then(
          (rec) => {
            if (rec === undefined || isFinal(rec.status)) this.waiters.settle(id, rec);
          },
          (err: Error) => {
            if (this.waiters.drop(id, w)) reject(err);
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
    if (this.closed) {
      queueMicrotask(() => onEnd(undefined, new ClosedError('stream()')));
      return () => undefined;
    }
    const w = this.watchers.add(id, from, onItem, onEnd);
    this.armRecheck();
    this.ready('stream()').then(
      () => this.watchers.catchUp(w, true),
      (err: Error) => this.watchers.end(w, undefined, err),
    );
    return () => {
      w.ended = true;
      this.watchers.drop(w);
    };
  }

  /** Ends every wait with `QTASKS_ERR_CLOSED`. */
  close(): void {
    this.closed = true;
    if (this.recheckTimer) clearInterval(this.recheckTimer);
    this.recheckTimer = undefined;
    this.waiters.rejectAll(new ClosedError('Waiting for a task'));
    this.watchers.endAll(() => new ClosedError('stream()'));
  }

  // ---- messages ----

  private dispatch(msg: string): void {
    try {
      const m = decodeChannelMessage(msg, this.isLocal);
      if (m === undefined) return;
      switch (m.kind) {
        case 'records':
          for (const rec of m.records) this.onRecord(rec);
          break;
        case 'ends':
          for (const entry of m.entries) {
            if (typeof entry === 'string') this.fetchAndSettle(entry);
            else this.onRecord(entry);
          }
          break;
        case 'item':
          this.watchers.onItem(m.id, m.index, m.item);
          break;
        case 'progress':
          if (this.ctx.listens('task:progress')) this.ctx.emit('task:progress', m.event());
          break;
        case 'cancel':
          this.onCancel?.(m.id, m.workerId, m.reason);
          break;
        case 'worker':
          this.onWorkerCommand?.(m.workerId, m.command);
          break;
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
      this.waiters.settle(rec.id, rec);
      this.watchers.onFinal(rec);
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
        else this.waiters.settle(id, undefined);
      },
      (err) => this.ctx.logger.warn('Reading a finished task failed', { id, error: err }),
    );
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
    for (const id of this.waiters.ids()) {
      this.storage.get(id).then(
        (rec) => {
          if (rec === undefined || isFinal(rec.status)) this.waiters.settle(id, rec);
        },
        () => undefined,
      );
    }
    this.watchers.recheck();
  }
}
