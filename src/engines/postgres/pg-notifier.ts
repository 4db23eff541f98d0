/**
 * The listening side of a PostgreSQL engine: one LISTEN connection per engine receives the queue's
 * channel (ends of tasks by batch, streamed items, progress, cancel requests, wake-ups) and settles
 * waiting `result()` calls, feeds `stream()` readers and fires events in this process. A
 * notification lost while disconnected is made up for by re-reading the records after the
 * listener reconnects and on a slow timer.
 */
import type { EngineContext, EngineEventMap, StreamEndListener, StreamItemListener, WorkerCommand } from '../../engine/broker';
import { ClosedError, ResultTimeoutError } from '../../errors';
import { isFinal, TaskRecord } from '../../task/task-record';
import type { PostgresStorage } from './postgres-storage';

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
  loading: boolean;
  ended: boolean;
}

/** What the notifier tells the worker of this process. */
export interface NotifierHooks {
  /** Tasks were queued (`due`: earliest time of delayed ones, when given). */
  queued(due: number | undefined): void;
  /** A cancel request of a running task: `long` when the reason did not fit the message. */
  cancel(id: string, workerId: string, reason: string | undefined, long: boolean): void;
  /** An operator's command for a worker (`manager.pauseWorker` etc.). */
  command(workerId: string, command: WorkerCommand): void;
  /** True for the id of this process's worker (whose ends are delivered locally). */
  isLocal(workerId: string): boolean;
}

const EVENT_OF: Record<string, keyof EngineEventMap> = { success: 'task:success', error: 'task:error', cancel: 'task:cancel', retry: 'task:retry' };
const RECHECK_MS = 3_000;
const RECENT_MAX = 20_000;

/** Dispatches the queue's channel in this process. */
export class PgNotifier {
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly watchers = new Map<string, Set<Watcher>>();
  /** Tasks this process enqueued while listening: their end cannot be missed (see waitFinal). */
  private readonly recent = new Map<string, { epoch: number; rec?: TaskRecord }>();
  private recheckTimer: NodeJS.Timeout | undefined;
  private closed = false;
  hooks: NotifierHooks | undefined;

  constructor(
    private readonly storage: PostgresStorage,
    private readonly ctx: EngineContext,
  ) {}

  /** Listens on the queue's channel; resolves once LISTEN is up. */
  start(): Promise<void> {
    const link = this.storage.link;
    link.onRelisten.push(() => {
      this.recent.clear();
      this.recheckAll();
      this.hooks?.queued(undefined);
    });
    return link.listen(this.storage.channel, (msg) => this.dispatch(msg));
  }

  /** Notes tasks about to be enqueued while listening; returns false when not listening. */
  noteEnqueued(ids: string[]): boolean {
    const link = this.storage.link;
    if (!link.listenLive) return false;
    for (const id of ids) {
      if (this.recent.size >= RECENT_MAX) this.recent.delete(this.recent.keys().next().value as string);
      this.recent.set(id, { epoch: link.epoch });
    }
    return true;
  }

  /** Forgets noted tasks (the enqueue failed, the id existed already, the task was removed). */
  forget(ids: string[] | undefined): void {
    if (ids === undefined) this.recent.clear();
    else for (const id of ids) this.recent.delete(id);
  }

  waitFinal(id: string, timeoutMs?: number): Promise<TaskRecord | undefined> {
    if (this.closed) return Promise.reject(new ClosedError('result()'));
    const noted = this.recent.get(id);
    let sure = false;
    if (noted !== undefined) {
      this.recent.delete(id);
      if (noted.rec !== undefined) return Promise.resolve(noted.rec);
      sure = noted.epoch === this.storage.link.epoch && this.storage.link.listenLive;
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
      this.storage.get(id).then(
        (rec) => {
          if (rec === undefined || isFinal(rec.status)) this.settleWaiters(id, rec);
        },
        (err: Error) => {
          if (this.dropWaiter(id, w)) reject(err);
        },
      );
    });
  }

  watchItems(id: string, from: number, onItem: StreamItemListener, onEnd: StreamEndListener): () => void {
    const w: Watcher = { id, next: from, onItem, onEnd, loading: true, ended: false };
    if (this.closed) {
      queueMicrotask(() => onEnd(undefined, new ClosedError('stream()')));
      return () => undefined;
    }
    let set = this.watchers.get(id);
    if (!set) this.watchers.set(id, (set = new Set()));
    set.add(w);
    this.armRecheck();
    void this.catchUp(w, true);
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

  /** A task of this process's worker changed (ended, or failed with a retry). */
  deliver(rec: TaskRecord): void {
    this.onRecord(rec);
  }

  // ---- messages ----

  private dispatch(msg: string): void {
    try {
      const kind = msg.charCodeAt(0);
      if (kind === 110 /* n */) {
        this.hooks?.queued(msg.length > 1 ? Number(msg.slice(1)) : undefined);
      } else if (kind === 70 /* F */) {
        const sp = msg.indexOf(' ');
        if (this.hooks?.isLocal(msg.slice(1, sp))) return;
        this.onList(JSON.parse(msg.slice(sp + 1)) as (TaskRecord | string)[]);
      } else if (kind === 102 /* f */) {
        this.onList(JSON.parse(msg.slice(1)) as (TaskRecord | string)[]);
      } else if (kind === 105 /* i */) {
        const parts = JSON.parse(msg.slice(1)) as [string, number, unknown?];
        const set = this.watchers.get(parts[0]);
        if (set) for (const w of set) this.onItem(w, parts[1], parts[2], parts.length > 2);
      } else if (kind === 112 /* p */) {
        if (this.ctx.listens('task:progress')) this.ctx.emit('task:progress', JSON.parse(msg.slice(1)));
      } else if (kind === 119 /* w */) {
        const [wid, command] = JSON.parse(msg.slice(1)) as [string, WorkerCommand];
        this.hooks?.command(wid, command);
      } else if (kind === 99 /* c */) {
        const [id, wid, reason, long] = JSON.parse(msg.slice(1)) as [string, string, string | null, number];
        this.hooks?.cancel(id, wid, reason ?? undefined, long === 1);
      }
    } catch (err) {
      this.ctx.logger.error('A malformed message on the queue channel was skipped', { error: err });
    }
  }

  private onList(list: (TaskRecord | string)[]): void {
    for (const entry of list) {
      if (typeof entry === 'string') this.fetchAndSettle(entry);
      else this.onRecord(entry);
    }
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

  /** An end announced by id only (cancel, stall, a record too large for a message): read it. */
  private fetchAndSettle(id: string): void {
    const wanted = this.waiters.has(id) || this.watchers.has(id) || this.recent.has(id);
    if (!wanted && !['task:success', 'task:error', 'task:retry', 'task:cancel'].some((e) => this.ctx.listens(e as keyof EngineEventMap))) return;
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

  private onItem(w: Watcher, index: number, item: unknown, inline: boolean): void {
    if (w.ended || w.loading || index < w.next) return;
    if (index > w.next || !inline) {
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
      // the record first, then the items: statements run on different connections, and items read
      // after a final record are all of them (read together, the items could be the older view)
      const rec = final ?? (await this.storage.get(w.id));
      const items = await this.storage.items(w.id, start);
      if (w.ended) return;
      for (let j = 0; j < items.length; j++) {
        if (start + j !== w.next) continue;
        w.next++;
        w.onItem(items[j], start + j);
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
