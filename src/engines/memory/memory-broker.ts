/**
 * In-memory Broker: a priority FIFO of ready tasks, a heap of delayed ones with a single timer, and
 * dispatch in batches (one microtask per burst, no timer per task). Pairs with {@link MemoryStorage}.
 */
import type { StreamEndListener, StreamItemListener, WorkerCommand } from '../../engine/broker';
import { ClosedError, ErrorCodes } from '../../errors';
import type { MemoryStorage } from './memory-storage';
import { MemRecord, memProblem } from './mem-record';
import { badRecordError, isFiniteNumber } from '../bad-record';
import { retentionOf } from '../../task/retention';
import { retriedAttempt } from '../../task/task-history';
import { isFinal, TaskRecord, TaskStatus } from '../../task/task-record';
import { Broker, Consumer, EngineContext, EngineEventMap, ImmediateBroker, Outcome, WorkerInfo } from '../../engine/broker';
import { DelayTimer } from './delay-timer';
import { PriorityFifo } from './priority-fifo';
import { MemoryLocks } from './memory-locks';
import { closeWatchers, endWatchers, waitForEnd, watchRecordItems } from './memory-waiters';


/**
 * Keeps the queue in this process; the default broker. It shares its {@link MemoryStorage}'s
 * records (`storageNeeds: 'own'`) and offers the immediate fast path: every operation is done at
 * once, the async methods only wrap it.
 */
export class MemoryBroker extends Broker implements ImmediateBroker {
  readonly engine: string = 'memory';
  readonly immediate: ImmediateBroker = this;
  private storage!: MemoryStorage;
  private ctx!: EngineContext;
  private readonly ready = new PriorityFifo<MemRecord>();
  /** Delayed tasks and tasks waiting for a retry, released into `ready` when due. */
  private readonly delayed = new DelayTimer<MemRecord>(
    (rec, now) => this.promote(rec, now),
    () => this.schedule(),
  );
  private consumer: Consumer | undefined;
  /** Every consumer that ran tasks here, by worker id: a cancel reaches it even while it stops. */
  private readonly runners = new Map<string, Consumer>();
  private paused = false;
  private scheduled = false;
  private draining = false;
  private again = false;
  private closed = false;
  private readonly drainFn = () => this.drain();
  private seq = 0;
  /** Timer locks and rate-limit windows of this process. */
  private readonly locks = new MemoryLocks();

  async init(ctx: EngineContext): Promise<void> {
    if (this.closed) throw new ClosedError('MemoryBroker used');
    this.ctx = ctx;
    // paired at construction: a broker that needs its own engine's storage gets a memory storage
    this.storage = ctx.storage as MemoryStorage;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.consumer = undefined;
    this.runners.clear();
    this.delayed.stop();
    for (const rec of this.storage?.records.values() ?? []) {
      if (rec.hasWaiters || rec.watchers) closeWatchers(rec);
    }
    this.ready.clear();
  }

  enqueue(records: TaskRecord[]): Promise<TaskRecord[]> {
    return settle(() => this.enqueueNow(records));
  }

  enqueueNow(records: TaskRecord[]): TaskRecord[] {
    if (this.closed) throw new ClosedError('addTask');
    const out = new Array<TaskRecord>(records.length);
    const now = Date.now();
    for (let i = 0; i < records.length; i++) {
      const src = records[i];
      const existing = this.storage.records.get(src.id);
      if (existing !== undefined) {
        out[i] = existing;
        continue;
      }
      const rec = new MemRecord(src.id, src.name, src.priority, src.args, src.createdAt, src);
      this.storage.add(rec);
      if (rec.status === 'delayed') this.pushDelayed(rec, rec.runAt ?? now);
      else this.pushReady(rec);
      out[i] = rec;
    }
    return out;
  }

  /** `m` + a base-36 counter: unique within this engine, short enough to stay a flat string. */
  newId(): string {
    return 'm' + (++this.seq).toString(36);
  }

  async consume(consumer: Consumer): Promise<void> {
    if (this.closed) throw new ClosedError('Worker started');
    this.consumer = consumer;
    this.runners.set(consumer.workerId, consumer);
    this.schedule();
  }

  wake(): void {
    this.schedule();
  }

  async stopConsuming(): Promise<void> {
    this.consumer = undefined;
  }

  finish(record: TaskRecord, outcome: Outcome): Promise<TaskRecord | undefined> {
    return settle(() => this.finishNow(record, outcome));
  }

  /** Ends the attempt in place: the record is the stored one, lent to the consumer at claim. */
  finishNow(record: TaskRecord, outcome: Outcome): TaskRecord | undefined {
    const rec = record as MemRecord;
    if (!rec.live || rec.status !== 'process') return undefined;
    const now = Date.now();
    switch (outcome.status) {
      case 'success':
        rec.returning = outcome.returning;
        rec.error = undefined;
        rec.finishedAt = now;
        this.storage.setStatus(rec, 'success', now);
        this.settle(rec, 'task:success');
        if (rec.removeOnComplete) this.retain(rec, 'success', now);
        break;
      case 'error':
        rec.error = outcome.error;
        rec.finishedAt = now;
        this.storage.setStatus(rec, 'error', now);
        this.settle(rec, 'task:error');
        if (rec.removeOnFail) this.retain(rec, 'error', now);
        break;
      case 'cancel':
        rec.cancelReason = outcome.reason;
        rec.finishedAt = now;
        this.storage.setStatus(rec, 'cancel', now);
        this.settle(rec, 'task:cancel');
        break;
      case 'retry': {
        if (!isFiniteNumber(rec.priority)) return this.poison(rec, 'its priority is not a number');
        rec.error = outcome.error;
        const history = (rec.history ??= []);
        history.push(retriedAttempt(rec, outcome.error, now));
        const max = this.ctx.config.maxAttemptHistory;
        if (history.length > max) history.splice(0, history.length - max);
        this.storage.setStatus(rec, 'retry', now);
        if (outcome.delayMs > 0) this.pushDelayed(rec, now + outcome.delayMs);
        else this.pushReady(rec);
        this.emit('task:retry', rec);
        break;
      }
      case 'handback':
        if (!isFiniteNumber(rec.priority)) return this.poison(rec, 'its priority is not a number');
        rec.attempt = Math.max(0, rec.attempt - 1);
        this.storage.setStatus(rec, 'new', now);
        rec.queued = true;
        this.ready.pushFront(rec, rec.priority);
        break;
    }
    this.schedule();
    return rec;
  }

  async cancel(id: string, reason?: string): Promise<boolean> {
    const rec = this.storage.records.get(id);
    if (!rec || isFinal(rec.status)) return false;
    if (rec.status === 'process') {
      const runner = rec.workerId === undefined ? undefined : this.runners.get(rec.workerId);
      if (!runner) return false;
      runner.abort(id, reason);
      return true;
    }
    rec.queued = false;
    rec.cancelReason = reason;
    rec.finishedAt = Date.now();
    this.storage.setStatus(rec, 'cancel', rec.finishedAt);
    this.settle(rec, 'task:cancel');
    return true;
  }

  async progress(record: TaskRecord, value: unknown): Promise<void> {
    const rec = record as MemRecord;
    rec.progress = value;
    rec.updatedAt = Date.now();
    if (this.ctx.listens('task:progress')) this.ctx.emit('task:progress', { id: rec.id, name: rec.name, progress: value });
  }

  pushItem(record: TaskRecord, item: unknown): Promise<void> {
    return settle(() => this.pushItemNow(record, item));
  }

  pushItemNow(record: TaskRecord, item: unknown): void {
    const rec = record as MemRecord;
    (rec.items ??= []).push(item);
    const index = rec.items.length - 1;
    if (rec.watchers) for (const w of rec.watchers) w.onItem(item, index);
  }

  whenFinal(id: string, timeoutMs: number | undefined, done: (record: TaskRecord | undefined, error?: Error) => void, hint?: TaskRecord): void {
    waitForEnd(this.storage.records, this.closed, id, timeoutMs, done, hint);
  }

  waitFinal(id: string, timeoutMs?: number): Promise<TaskRecord | undefined> {
    return new Promise((resolve, reject) => this.whenFinal(id, timeoutMs, (rec, err) => (err ? reject(err) : resolve(rec))));
  }

  watchItems(id: string, from: number, onItem: StreamItemListener, onEnd: StreamEndListener): () => void {
    return watchRecordItems(this.storage.records, () => this.closed, id, from, onItem, onEnd);
  }

  async retry(id: string): Promise<boolean> {
    const rec = this.storage.records.get(id);
    if (!rec || (rec.status !== 'error' && rec.status !== 'cancel')) return false;
    rec.attempt = 0;
    rec.error = undefined;
    rec.cancelReason = undefined;
    rec.finishedAt = undefined;
    rec.returning = undefined;
    rec.stalls = 0;
    rec.startedAt = undefined;
    rec.workerId = undefined;
    rec.progress = undefined;
    rec.logs = undefined;
    rec.history = undefined;
    this.storage.setStatus(rec, 'new', Date.now());
    this.pushReady(rec);
    this.schedule();
    return true;
  }

  async pause(): Promise<void> {
    this.paused = true;
  }

  async resume(): Promise<void> {
    this.paused = false;
    this.schedule();
  }

  async isPaused(): Promise<boolean> {
    return this.paused;
  }

  async workers(): Promise<WorkerInfo[]> {
    return this.consumer ? [this.consumer.info()] : [];
  }

  async controlWorker(workerId: string, command: WorkerCommand): Promise<void> {
    const consumer = this.consumer;
    if (consumer === undefined || consumer.workerId !== workerId) return;
    consumer.control?.(command);
    this.schedule();
  }

  tryLock(key: string, ttlMs: number): Promise<boolean> {
    return this.locks.tryLock(key, ttlMs);
  }

  rateLimit(key: string, max: number, perMs: number): Promise<number> {
    return this.locks.rateLimit(key, max, perMs);
  }

  /** Claims one queued task directly (the test kit's `runTask`); undefined unless it is due. */
  claimNow(id: string, consumer: Consumer): TaskRecord | undefined {
    const rec = this.storage.records.get(id);
    if (!rec || !rec.queued || (rec.status !== 'new' && rec.status !== 'retry')) return undefined;
    if (rec.status === 'retry' && (rec.runAt ?? 0) > Date.now()) return undefined;
    rec.queued = false;
    const now = Date.now();
    rec.attempt++;
    rec.startedAt = now;
    rec.workerId = consumer.workerId;
    this.runners.set(consumer.workerId, consumer);
    this.storage.setStatus(rec, 'process', now);
    return rec;
  }

  /** Tasks waiting in the ready queue (not delayed). */
  readyCount(): number {
    return this.ready.size;
  }

  private retain(rec: MemRecord, status: 'success' | 'error', now: number): void {
    const r = retentionOf(status === 'success' ? rec.removeOnComplete : rec.removeOnFail);
    if (r !== undefined) this.storage.retain(rec, status, r, now);
  }

  // ---- dispatch ----

  private pushReady(rec: MemRecord): void {
    rec.queued = true;
    this.ready.push(rec, rec.priority);
    if (this.consumer !== undefined) this.schedule();
  }

  private pushDelayed(rec: MemRecord, runAt: number): void {
    rec.queued = true;
    rec.runAt = runAt;
    this.delayed.push(rec, runAt);
  }

  /** A delayed or retrying task is due: into the ready queue (unless cancelled or removed meanwhile). */
  private promote(rec: MemRecord, now: number): void {
    if (!rec.queued || (rec.status !== 'delayed' && rec.status !== 'retry')) return;
    if (!isFiniteNumber(rec.priority)) {
      rec.queued = false;
      this.poison(rec, 'its priority is not a number');
      return;
    }
    if (rec.status === 'delayed') this.storage.setStatus(rec, 'new', now);
    this.ready.push(rec, rec.priority);
  }

  private schedule(): void {
    if (this.draining) {
      this.again = true;
      return;
    }
    if (this.scheduled || this.consumer === undefined) return;
    this.scheduled = true;
    queueMicrotask(this.drainFn);
  }

  private drain(): void {
    this.scheduled = false;
    this.draining = true;
    try {
      do {
        this.again = false;
        const consumer = this.consumer;
        if (consumer === undefined || this.paused || this.closed) return;
        let free = consumer.capacity();
        while (free > 0) {
          const rec = this.ready.shift();
          if (rec === undefined) break;
          if (!rec.queued) continue;
          rec.queued = false;
          const problem = memProblem(rec, rec.key);
          if (problem !== undefined) {
            // a record with fields of the wrong type never runs; the batch goes on
            this.poison(rec, problem);
            continue;
          }
          const now = Date.now();
          rec.attempt++;
          rec.startedAt = now;
          rec.workerId = consumer.workerId;
          this.storage.setStatus(rec, 'process', now);
          consumer.run(rec);
          free = consumer.capacity();
        }
      } while (this.again);
    } finally {
      this.draining = false;
    }
  }

  /**
   * Ends a task whose stored record cannot be used (`error`, `QTASKS_ERR_BAD_RECORD`) without
   * running it (again); returns the record as stored.
   */
  private poison(rec: MemRecord, reason: string): MemRecord {
    const now = Date.now();
    rec.error = badRecordError(rec.key, reason);
    rec.finishedAt = now;
    this.storage.setStatus(rec, 'error', now);
    this.ctx.logger.warn('A task record cannot be used: the task ends error', { id: rec.key, code: ErrorCodes.BAD_RECORD, reason });
    this.settle(rec, 'task:error');
    this.schedule();
    return rec;
  }

  // ---- notification ----

  private settle(rec: MemRecord, event: keyof EngineEventMap): void {
    endWatchers(rec);
    this.emit(event, rec);
  }

  private emit(event: keyof EngineEventMap, rec: MemRecord): void {
    // the app's event hub hands listeners a copy
    if (this.ctx.listens(event)) this.ctx.emit(event as 'task:success', { record: rec });
  }

  /** Status counts (for tests and the manager). */
  statusOf(id: string): TaskStatus | undefined {
    return this.storage.records.get(id)?.status;
  }
}

/** The result of `fn` as a promise, its throw as a rejection. */
function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err);
  }
}
