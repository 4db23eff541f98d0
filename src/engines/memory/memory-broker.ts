/**
 * In-memory Broker: the queue in this process, records changed in place in its
 * {@link MemoryStorage}. Dispatch is in {@link MemoryDispatcher}, the ends of attempts in
 * {@link MemoryFinisher}, waiting for ends and streams in memory-waiters.
 */
import type { StreamEndListener, StreamItemListener, WorkerCommand } from '../../engine/broker';
import { ClosedError } from '../../errors';
import type { MemoryStorage } from './memory-storage';
import { MemRecord, memProblem } from './mem-record';
import { isFinal, TaskRecord, TaskStatus } from '../../task/task-record';
import { Broker, Consumer, EngineContext, ImmediateBroker, Outcome, WorkerInfo } from '../../engine/broker';
import { MemoryDispatcher } from './memory-dispatcher';
import { MemoryFinisher } from './memory-finisher';
import { MemoryLocks } from './memory-locks';
import { closeWatchers, finalRecord, waitForEnd, watchRecordItems } from './memory-waiters';

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
  private readonly dispatch: MemoryDispatcher = new MemoryDispatcher({
    storage: () => this.storage,
    poison: (rec, reason) => this.finisher.poison(rec, reason),
  });
  private finisher!: MemoryFinisher;
  /** Every consumer that ran tasks here, by worker id: a cancel reaches it even while it stops. */
  private readonly runners = new Map<string, Consumer>();
  private closed = false;
  private seq = 0;
  /** The id `newId` gave last, until a record takes it: no stored record can have it. */
  private issued: string | undefined = undefined;
  /** True once a caller chose an id that `newId` could also give. */
  private chosenLikeIssued = false;
  /** Start of this broker's ids (`m`; a sibling's adds its number). */
  private idPrefix = 'm';
  /** The prefix and the digits but the last of the ids `idHighOf * 36 …` (see `idOf`). */
  private idHigh = '';
  private idHighOf = -1;
  /** Brokers made for other queues of the same app, counted for their id prefixes. */
  private family = { brokers: 0 };
  /** Timer locks and rate-limit windows of this process. */
  private readonly locks = new MemoryLocks();

  async init(ctx: EngineContext): Promise<void> {
    if (this.closed) throw new ClosedError('MemoryBroker used');
    this.ctx = ctx;
    // paired at construction: a broker that needs its own engine's storage gets a memory storage
    this.storage = ctx.storage as MemoryStorage;
    this.finisher = new MemoryFinisher(this.storage, this.dispatch, () => this.ctx);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.runners.clear();
    this.dispatch.stop();
    for (const rec of this.storage?.records.values() ?? []) {
      if (rec.hasWaiters || rec.watchers) closeWatchers(rec);
    }
  }

  enqueue(records: TaskRecord[]): Promise<TaskRecord[]> {
    return settle(() => this.enqueueNow(records));
  }

  enqueueNow(records: TaskRecord[]): TaskRecord[] {
    if (this.closed) throw new ClosedError('addTask');
    const out = new Array<TaskRecord>(records.length);
    for (let i = 0; i < records.length; i++) out[i] = this.enqueueOneNow(records[i]);
    return out;
  }

  enqueueOneNow(src: TaskRecord): TaskRecord {
    if (this.closed) throw new ClosedError('addTask');
    const id = src.id;
    /** The number of the id, when this broker just made it (else the table reads it). */
    let n: number | undefined;
    if (id === this.issued && !this.chosenLikeIssued) {
      // just made by newId: nothing can be stored under it yet
      this.issued = undefined;
      n = this.seq;
    } else {
      const existing = this.storage.records.get(id);
      if (existing !== undefined) return existing;
      if (isIssuedLike(id)) this.chosenLikeIssued = true;
    }
    const rec = new MemRecord(id, src.name, src.priority, src.args, src.createdAt, src);
    this.storage.add(rec, n);
    const problem = memProblem(rec, id);
    if (problem !== undefined) this.finisher.poison(rec, problem);
    else if (rec.status === 'delayed') this.dispatch.pushDelayed(rec, rec.runAt ?? Date.now());
    else this.dispatch.pushReady(rec);
    return rec;
  }

  enqueueNewNow(name: string, args: unknown[], priority: number, createdAt: number): TaskRecord {
    if (this.closed) throw new ClosedError('addTask');
    const id = this.newId();
    this.issued = undefined;
    const rec = new MemRecord(id, name, priority, args, createdAt);
    // sound by construction (a string name, a list of args, finite numbers): no check needed
    this.storage.add(rec, this.seq);
    this.dispatch.pushReady(rec);
    return rec;
  }

  /** `m` + a base-36 counter: unique within this engine, short enough to stay a flat string. */
  newId(): string {
    let id = this.idOf(++this.seq);
    // a caller may have chosen an id of this form already
    while (this.chosenLikeIssued && this.storage.records.has(id)) id = this.idOf(++this.seq);
    return (this.issued = id);
  }

  /**
   * The id of number `n`: the prefix and all digits but the last change once in 36 ids, so they
   * are kept (`toString(36)` of every number costs more than the rest of an enqueue's id work).
   */
  private idOf(n: number): string {
    const high = Math.floor(n / 36);
    if (high !== this.idHighOf) {
      this.idHighOf = high;
      this.idHigh = high === 0 ? this.idPrefix : this.idPrefix + high.toString(36);
    }
    return this.idHigh + BASE36[n - high * 36];
  }

  /** A broker for another queue of the same app; its ids never meet this one's (`m<n>.` + counter). */
  sibling(): MemoryBroker {
    const b = new MemoryBroker();
    b.family = this.family;
    b.idPrefix = 'm' + ++this.family.brokers + '.';
    return b;
  }

  async consume(consumer: Consumer): Promise<void> {
    if (this.closed) throw new ClosedError('Worker started');
    this.dispatch.consumer = consumer;
    this.runners.set(consumer.workerId, consumer);
    this.dispatch.schedule();
  }

  wake(): void {
    this.dispatch.schedule();
  }

  async stopConsuming(): Promise<void> {
    this.dispatch.consumer = undefined;
  }

  finish(record: TaskRecord, outcome: Outcome): Promise<TaskRecord | undefined> {
    return settle(() => this.finishNow(record, outcome));
  }

  /**
   * Ends the attempt in place: the record is the stored one, lent to the consumer at claim; `at`
   * is when it ended, if the caller has just read the clock.
   */
  finishNow(record: TaskRecord, outcome: Outcome, at?: number): TaskRecord | undefined {
    const rec = record as MemRecord;
    if (!rec.live || rec.status !== 'process') return undefined;
    return this.finisher.finish(rec, outcome, at ?? Date.now());
  }

  async cancel(id: string, reason?: string): Promise<boolean> {
    const rec = this.storage.records.get(id);
    if (!rec || isFinal(rec.status)) return false;
    if (rec.status === 'process' || (rec.status === 'waiting' && rec.workerId !== undefined)) {
      const runner = rec.workerId === undefined ? undefined : this.runners.get(rec.workerId);
      if (!runner) return false;
      runner.abort(id, reason);
      return true;
    }
    this.finisher.cancelQueued(rec, reason);
    return true;
  }

  async release(id: string): Promise<boolean> {
    const rec = this.storage.records.get(id);
    if (!rec || rec.status !== 'waiting' || rec.workerId !== undefined) return false;
    this.storage.setStatus(rec, 'new', Date.now());
    this.dispatch.pushReady(rec);
    return true;
  }

  async setWaiting(record: TaskRecord, waiting: boolean): Promise<boolean> {
    const rec = record as MemRecord;
    if (!rec.live || rec.status !== (waiting ? 'process' : 'waiting')) return false;
    this.storage.setStatus(rec, waiting ? 'waiting' : 'process', Date.now());
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

  finalNow(id: string, hint?: TaskRecord): TaskRecord | undefined {
    return finalRecord(this.storage.records, id, hint);
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
    this.dispatch.pushReady(rec);
    this.dispatch.schedule();
    return true;
  }

  async pause(): Promise<void> {
    this.dispatch.paused = true;
  }

  async resume(): Promise<void> {
    this.dispatch.paused = false;
    this.dispatch.schedule();
  }

  async isPaused(): Promise<boolean> {
    return this.dispatch.paused;
  }

  async workers(): Promise<WorkerInfo[]> {
    const consumer = this.dispatch.consumer;
    return consumer ? [consumer.info()] : [];
  }

  async controlWorker(workerId: string, command: WorkerCommand): Promise<void> {
    const consumer = this.dispatch.consumer;
    if (consumer === undefined || consumer.workerId !== workerId) return;
    consumer.control?.(command);
    this.dispatch.schedule();
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
    return this.dispatch.readyCount;
  }

  /** Status counts (for tests and the manager). */
  statusOf(id: string): TaskStatus | undefined {
    return this.storage.records.get(id)?.status;
  }
}

/** The digits of base 36, as `toString(36)` writes them. */
const BASE36 = '0123456789abcdefghijklmnopqrstuvwxyz'.split('');

/** True for an id of the form `newId` gives (`m` + base 36). */
function isIssuedLike(id: string): boolean {
  // `m` + counter, or a sibling's `m<n>.` + counter
  return id.charCodeAt(0) === 109 /* m */ && /^m(?:[0-9]+\.)?[0-9a-z]+$/.test(id);
}

/** The result of `fn` as a promise, its throw as a rejection. */
function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err);
  }
}
