/**
 * The in-memory form of a task record: one compact object per task. Fields every task uses are
 * own fields; the rarely set ones (error, progress, retry options, stream items, …) live in one
 * side object made on first write, so a queued task costs little memory and little GC time.
 * Users only ever see copies.
 */
import type { StreamEndListener, StreamItemListener } from '../../engine/broker';
import type { TaskErrorInfo } from '../../errors';
import type { RetentionOption } from '../../task/retention';
import type { AttemptInfo, TaskLogLine } from '../../task/task-history';
import type { BackoffOptions, TaskRecord, TaskStatus } from '../../task/task-record';
import { badRecord, isStatus, recordProblem } from '../bad-record';
import { copyRecord } from '../../task/record-copy';

/** A stream reader of one task. */
export interface ItemWatcher {
  onItem: StreamItemListener;
  onEnd: StreamEndListener;
}

/** A waiting `result()` call: given the record, or undefined when the record was removed. */
export type Waiter = (record: MemRecord | undefined) => void;

/** The rarely set parts of a record. */
interface Extras {
  progress?: unknown;
  error?: TaskErrorInfo;
  cancelReason?: string;
  parentId?: string;
  runAt?: number;
  retry?: number;
  backoff?: BackoffOptions;
  timeout?: number;
  removeOnComplete?: RetentionOption;
  removeOnFail?: RetentionOption;
  /** Lines of `ctx.log()` (bounded). */
  logs?: TaskLogLine[];
  /** Attempts that ended without ending the task (retries), bounded. */
  history?: AttemptInfo[];
  stalls?: number;
  headers?: Record<string, string>;
  /** Items yielded by a generator task (every attempt). */
  items?: unknown[];
  watchers?: ItemWatcher[];
  /** Waiting `result()` calls beyond the first. */
  moreWaiters?: Waiter[];
}

/**
 * Times are kept as milliseconds since this module was loaded: small integers, which V8 keeps in
 * the object itself, where a time since 1970 would be a separate heap number per field and write.
 */
const EPOCH = Date.now();

/**
 * `t` as an offset from {@link EPOCH}, made a small integer where it is one: a difference of two
 * times since 1970 is a heap number even when whole, and a field once given a heap number keeps
 * every later value in one of its own. Past 24.8 days (or for a fractional time) it stays a double.
 */
function offset(t: number): number {
  const d = t - EPOCH;
  return d === (d | 0) ? d | 0 : d;
}

/**
 * Bits of `MemRecord.b`: dropped from the storage; in the ready queue or the delay heap; dropped
 * by the storage's `maxFinished` cap (not by a user or an operator).
 */
const GONE = 1;
const QUEUED = 2;
const EVICTED = 4;

/**
 * One task in memory. The fields are declared in the order V8 lays them out: the first six are
 * what dropping an old finished record reads (once the `maxFinished` cap is reached, at every
 * end), so that a record long out of the cache costs one memory read there, not three.
 */
export class MemRecord implements TaskRecord {
  status: TaskStatus;
  /** {@link GONE} and {@link QUEUED} (two booleans in one field: a record is one field smaller). */
  private b = 0;
  /** The id it is stored under (kept apart from `id`, which user code can reach). */
  readonly key: string;
  /** `finishedAt` as an offset from {@link EPOCH} (as `c`, `u`, `s` below). */
  private f: number | undefined = undefined;
  /** The first waiting `result()` call. */
  waiter: Waiter | undefined = undefined;
  private x: Extras | undefined = undefined;
  attempt = 0;
  /** `createdAt`, `updatedAt`, `startedAt` as offsets from {@link EPOCH}. */
  private c: number;
  private u: number;
  private s: number | undefined = undefined;
  returning: unknown = undefined;
  workerId: string | undefined = undefined;
  seq = 0;

  constructor(
    readonly id: string,
    readonly name: string,
    public priority: number,
    public args: unknown[],
    createdAt: number,
    /** The record given to enqueue, for its status and optional fields; none for a plain new task. */
    src?: TaskRecord,
  ) {
    this.key = id;
    this.c = this.u = offset(createdAt);
    if (src === undefined) {
      this.status = 'new';
      return;
    }
    this.status = src.status;
    if (
      src.parentId !== undefined || src.runAt !== undefined || src.retry !== undefined || src.backoff !== undefined ||
      src.timeout !== undefined || src.removeOnComplete !== undefined || src.removeOnFail !== undefined ||
      src.headers !== undefined
    ) {
      this.x = {
        parentId: src.parentId,
        runAt: src.runAt,
        retry: src.retry,
        backoff: src.backoff,
        timeout: src.timeout,
        removeOnComplete: src.removeOnComplete,
        removeOnFail: src.removeOnFail,
        headers: src.headers,
      };
    }
  }

  /** False once dropped from the storage (removed, purged, expired). */
  get live(): boolean { return (this.b & GONE) === 0; }
  set live(v: boolean) { this.b = v ? this.b & ~GONE : this.b | GONE; }
  /** True while it sits in the ready queue or the delay heap. */
  get queued(): boolean { return (this.b & QUEUED) !== 0; }
  set queued(v: boolean) { this.b = v ? this.b | QUEUED : this.b & ~QUEUED; }
  /**
   * True once dropped by the storage's `maxFinished` cap: the handle that enqueued the task (it
   * holds this record) still settles from it.
   */
  get evicted(): boolean { return (this.b & EVICTED) !== 0; }
  evict(): void { this.b |= EVICTED; }

  get createdAt(): number { return this.c + EPOCH; }
  set createdAt(v: number) { this.c = offset(v); }
  get updatedAt(): number { return this.u + EPOCH; }
  set updatedAt(v: number) { this.u = offset(v); }
  get startedAt(): number | undefined { return this.s === undefined ? undefined : this.s + EPOCH; }
  set startedAt(v: number | undefined) { this.s = v === undefined ? undefined : offset(v); }
  get finishedAt(): number | undefined { return this.f === undefined ? undefined : this.f + EPOCH; }
  set finishedAt(v: number | undefined) { this.f = v === undefined ? undefined : offset(v); }

  private get ext(): Extras {
    return (this.x ??= {});
  }

  get progress(): unknown { return this.x?.progress; }
  set progress(v: unknown) { this.ext.progress = v; }
  get error(): TaskErrorInfo | undefined { return this.x?.error; }
  set error(v: TaskErrorInfo | undefined) { if (v !== undefined || this.x) this.ext.error = v; }
  get cancelReason(): string | undefined { return this.x?.cancelReason; }
  set cancelReason(v: string | undefined) { if (v !== undefined || this.x) this.ext.cancelReason = v; }
  get parentId(): string | undefined { return this.x?.parentId; }
  get runAt(): number | undefined { return this.x?.runAt; }
  set runAt(v: number | undefined) { this.ext.runAt = v; }
  get retry(): number | undefined { return this.x?.retry; }
  get backoff(): BackoffOptions | undefined { return this.x?.backoff; }
  get timeout(): number | undefined { return this.x?.timeout; }
  get removeOnComplete(): RetentionOption | undefined { return this.x?.removeOnComplete; }
  get removeOnFail(): RetentionOption | undefined { return this.x?.removeOnFail; }
  get logs(): TaskLogLine[] | undefined { return this.x?.logs; }
  set logs(v: TaskLogLine[] | undefined) { if (v !== undefined || this.x) this.ext.logs = v; }
  get history(): AttemptInfo[] | undefined { return this.x?.history; }
  set history(v: AttemptInfo[] | undefined) { if (v !== undefined || this.x) this.ext.history = v; }
  get headers(): Record<string, string> | undefined { return this.x?.headers; }
  get stalls(): number { return this.x?.stalls ?? 0; }
  set stalls(v: number) { if (v !== 0 || this.x) this.ext.stalls = v; }
  get items(): unknown[] | undefined { return this.x?.items; }
  set items(v: unknown[] | undefined) { this.ext.items = v; }
  get watchers(): ItemWatcher[] | undefined { return this.x?.watchers; }
  set watchers(v: ItemWatcher[] | undefined) { if (v !== undefined || this.x) this.ext.watchers = v; }

  /** Adds a waiting `result()` call. */
  addWaiter(fn: Waiter): void {
    if (this.waiter === undefined) this.waiter = fn;
    else (this.ext.moreWaiters ??= []).push(fn);
  }

  /** Removes a waiting call (its timeout fired). */
  removeWaiter(fn: Waiter): void {
    if (this.waiter === fn) this.waiter = undefined;
    const more = this.x?.moreWaiters;
    const at = more ? more.indexOf(fn) : -1;
    if (at >= 0) more!.splice(at, 1);
  }

  /** Calls and forgets every waiting call (with undefined when the record was removed). */
  releaseWaiters(gone = false): void {
    const first = this.waiter;
    const more = this.x?.moreWaiters;
    this.waiter = undefined;
    if (more) this.x!.moreWaiters = undefined;
    const arg = gone ? undefined : this;
    if (first !== undefined) first(arg);
    if (more) for (const fn of more) fn(arg);
  }

  /** True when someone waits for the end. */
  get hasWaiters(): boolean {
    return this.waiter !== undefined || (this.x?.moreWaiters?.length ?? 0) > 0;
  }
}

/**
 * What makes a stored record unusable (fields of the wrong type, written by a plugin or a bug), or
 * undefined when it is sound; `key` is the id it is stored under.
 */
export function memProblem(rec: MemRecord, key: string): string | undefined {
  return recordProblem(rec, key) ?? (isStatus(rec.status) ? undefined : 'its status is unknown');
}

/**
 * The record handed to a waiting `result()`: the stored one, or a `QTASKS_ERR_BAD_RECORD` error
 * record when its fields, result or error have the wrong type.
 */
export function soundRecord(rec: MemRecord): TaskRecord {
  const t = typeof rec.returning;
  const wrong =
    t === 'function' || t === 'symbol' || t === 'bigint'
      ? 'its result is not JSON'
      : rec.error !== undefined && (rec.error === null || typeof rec.error !== 'object')
        ? 'its error is not an object'
        : memProblem(rec, rec.key);
  return wrong === undefined ? rec : badRecord(rec.key, wrong, rec);
}

/** A plain copy of the public fields, leaving out those that are unset. */
export const publicRecord = copyRecord;
