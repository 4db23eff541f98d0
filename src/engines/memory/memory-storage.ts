/**
 * In-memory Storage: records in a Map, counts kept as they change, finished records dropped after
 * `resultTtlMs` (and beyond `maxFinished`) by one unref'd sweep timer.
 */
import { ClosedError } from '../../errors';
import type { EngineContext } from '../../engine/broker';
import type { Retention } from '../../task/retention';
import { attemptsOf, TaskLogLine } from '../../task/task-history';
import { isFinal, TASK_STATUSES, TaskRecord, TaskStatus } from '../../task/task-record';
import { DEFAULT_JSON_LIMITS, JsonLimits, toJson } from '../../task/json';
import { CleanQuery, FinishedStatus, ListQuery, RecordWriter, Storage } from '../../engine/storage';
import { FinishedList } from './finished-list';
import { MemoryRecordWriter } from './memory-record-writer';
import { MemRecord, publicRecord, soundRecord } from './mem-record';
import { badRecord } from '../bad-record';

/** Options of {@link MemoryStorage}. */
export interface MemoryStorageOptions {
  /** Finished records kept at most; the oldest go first (default 100,000). */
  maxFinished?: number;
}

/** Keeps everything in this process; the default storage. */
export class MemoryStorage extends Storage {
  readonly engine: string = 'memory';
  /** Record writes for a broker of another engine (the memory broker changes records in place). */
  readonly recordWriter: RecordWriter | undefined = new MemoryRecordWriter(this);
  /** Every known task by id (the memory broker shares it). */
  readonly records = new Map<string, MemRecord>();
  private readonly countBy: Record<TaskStatus, number> = zeroCounts();
  /** Finished records per final status in finishing order, for expiry, retention and clean. */
  private readonly finished: Record<FinishedStatus, FinishedList> = {
    success: new FinishedList('success'),
    error: new FinishedList('error'),
    cancel: new FinishedList('cancel'),
  };
  /** Log lines kept per record (config `maxLogLines`). */
  maxLogLines = 100;
  private readonly state = new Map<string, Map<string, unknown>>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private ttlMs = 24 * 60 * 60 * 1000;
  private readonly maxFinished: number;
  private seq = 0;
  private closed = false;
  private limits: JsonLimits = DEFAULT_JSON_LIMITS;

  constructor(options: MemoryStorageOptions = {}) {
    super();
    this.maxFinished = options.maxFinished ?? 100_000;
  }

  async init(ctx: EngineContext): Promise<void> {
    if (this.closed) throw new ClosedError('MemoryStorage used');
    this.ttlMs = ctx.config.resultTtlMs;
    this.limits = ctx.config;
    this.maxLogLines = ctx.config.maxLogLines;
    if (!this.sweepTimer) {
      this.sweepTimer = setInterval(() => this.sweep(), Math.max(1_000, Math.min(this.ttlMs, 60_000)));
      this.sweepTimer.unref();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    this.records.clear();
    for (const list of Object.values(this.finished)) list.clear();
    this.state.clear();
  }

  // ---- used by the memory broker ----

  /** Adds a new record (status already set). */
  add(rec: MemRecord): void {
    rec.seq = ++this.seq;
    this.records.set(rec.id, rec);
    this.countBy[rec.status]++;
  }

  /** Changes a record's status, keeping counts and expiry in step. */
  setStatus(rec: MemRecord, status: TaskStatus, now: number): void {
    this.countBy[rec.status]--;
    this.countBy[status]++;
    rec.status = status;
    rec.updatedAt = now;
    if (isFinal(status)) {
      const f = this.finished;
      f[status as FinishedStatus].push(rec, rec.finishedAt ?? now);
      if (f.success.size + f.error.size + f.cancel.size > this.maxFinished) this.sweep();
    }
  }

  /** Applies a retention after `rec` ended in `status` (see `Broker.finish`). */
  retain(rec: MemRecord, status: FinishedStatus, r: Retention, now: number): void {
    if (r.now) {
      this.drop(rec);
      return;
    }
    const list = this.finished[status];
    if (r.count !== undefined) {
      while (this.countBy[status] > r.count) {
        const old = list.peek();
        if (old === undefined) break;
        list.shift();
        this.drop(old);
      }
    }
    if (r.age !== undefined) this.dropFinished(list, now - r.age - 1, Infinity);
  }

  /** Drops the records of `list` that finished at or before `before`, at most `limit`; how many. */
  private dropFinished(list: FinishedList, before: number, limit: number): number {
    let n = 0;
    for (let old = list.peek(); old !== undefined && n < limit && (old.finishedAt ?? 0) <= before; old = list.peek()) {
      list.shift();
      this.drop(old);
      n++;
    }
    return n;
  }

  /** Drops a record. */
  drop(rec: MemRecord): void {
    if (!rec.live) return;
    rec.live = false;
    this.records.delete(rec.id);
    if (rec.hasWaiters || rec.watchers) {
      // removed while someone waits: result() and stream() end with QTASKS_ERR_TASK_NOT_FOUND
      const watchers = rec.watchers;
      rec.watchers = undefined;
      if (watchers) for (const w of watchers) w.onEnd(undefined);
      rec.releaseWaiters(true);
    }
    this.countBy[rec.status]--;
  }

  // ---- Storage ----

  async get(id: string): Promise<TaskRecord | undefined> {
    const rec = this.records.get(id);
    return rec ? detached(rec) : undefined;
  }

  async list(query: ListQuery = {}): Promise<TaskRecord[]> {
    const statuses = query.status === undefined ? undefined : new Set(Array.isArray(query.status) ? query.status : [query.status]);
    const matched: MemRecord[] = [];
    for (const rec of this.records.values()) {
      if (statuses && !statuses.has(rec.status)) continue;
      if (query.name !== undefined && rec.name !== query.name) continue;
      if (query.since !== undefined && rec.createdAt < query.since) continue;
      if (query.until !== undefined && rec.createdAt >= query.until) continue;
      matched.push(rec);
    }
    matched.sort((a, b) => b.seq - a.seq);
    let skip = Math.max(0, query.offset ?? 0);
    const limit = query.limit === undefined ? matched.length : Math.max(0, query.limit);
    const out: TaskRecord[] = [];
    for (let i = 0; i < matched.length && out.length < limit; i++) {
      const copy = detached(matched[i]);
      // a bad record reads as `error`: it leaves a list of other statuses
      if (statuses && !statuses.has(copy.status)) continue;
      if (skip > 0) skip--;
      else out.push(copy);
    }
    return out;
  }

  async counts(): Promise<Record<TaskStatus, number>> {
    return { ...this.countBy };
  }

  async remove(id: string): Promise<boolean> {
    const rec = this.records.get(id);
    if (!rec || rec.status === 'process') return false;
    rec.queued = false;
    this.drop(rec);
    return true;
  }

  async purge(status: TaskStatus): Promise<number> {
    if (status === 'process') return 0;
    let n = 0;
    for (const rec of [...this.records.values()]) {
      if (rec.status !== status) continue;
      rec.queued = false;
      this.drop(rec);
      n++;
    }
    return n;
  }

  async clean(query: CleanQuery): Promise<number> {
    let n = 0;
    const limit = query.limit ?? Infinity;
    for (const st of query.statuses) n += this.dropFinished(this.finished[st], query.finishedBefore, limit - n);
    return n;
  }

  async appendLog(id: string, line: TaskLogLine): Promise<void> {
    const rec = this.records.get(id);
    if (rec === undefined || this.maxLogLines <= 0) return;
    const logs = (rec.logs ??= []);
    logs.push(line);
    if (logs.length > this.maxLogLines) logs.splice(0, logs.length - this.maxLogLines);
  }

  async items(id: string, from = 0): Promise<unknown[]> {
    return this.records.get(id)?.items?.slice(from) ?? [];
  }

  async stateGet(state: string, key: string): Promise<unknown> {
    return this.state.get(state)?.get(key);
  }

  async stateSet(state: string, key: string, value: unknown): Promise<void> {
    this.bucket(state).set(key, toJson(value, 'State values', key, this.limits));
  }

  async stateUpdate(state: string, key: string, fn: (value: unknown) => unknown): Promise<unknown> {
    const bucket = this.bucket(state);
    const next = toJson(fn(bucket.get(key)), 'State values', key, this.limits);
    bucket.set(key, next);
    return next;
  }

  async stateIncr(state: string, key: string, by: number): Promise<number> {
    const bucket = this.bucket(state);
    const current = bucket.get(key);
    const next = (typeof current === 'number' ? current : 0) + by;
    bucket.set(key, next);
    return next;
  }

  async stateDelete(state: string, key: string): Promise<boolean> {
    return this.state.get(state)?.delete(key) ?? false;
  }

  async stateAll(state: string): Promise<Record<string, unknown>> {
    return Object.fromEntries(this.state.get(state) ?? []);
  }

  private bucket(state: string): Map<string, unknown> {
    if (this.closed) throw new ClosedError('State used');
    let b = this.state.get(state);
    if (!b) this.state.set(state, (b = new Map()));
    return b;
  }

  /** Drops finished records past their TTL, then the oldest beyond the cap. */
  sweep(now = Date.now()): void {
    const lists = [this.finished.success, this.finished.error, this.finished.cancel];
    for (const list of lists) this.dropFinished(list, now - this.ttlMs, Infinity);
    let over = lists[0].size + lists[1].size + lists[2].size - this.maxFinished;
    while (over > 0) {
      let oldest: FinishedList | undefined;
      for (const list of lists) {
        const head = list.peek();
        if (head !== undefined && (oldest === undefined || (head.finishedAt ?? 0) < (oldest.peek()!.finishedAt ?? 0))) oldest = list;
      }
      if (oldest === undefined) break;
      const rec = oldest.peek()!;
      oldest.shift();
      this.drop(rec);
      over = lists[0].size + lists[1].size + lists[2].size - this.maxFinished;
    }
  }
}

/**
 * A copy sharing nothing with the stored record, as a Redis read would give; a record whose fields
 * have the wrong type or hold values that cannot be copied reads as a `QTASKS_ERR_BAD_RECORD`
 * error record instead of failing the read.
 */
function detached(rec: MemRecord): TaskRecord {
  const sound = soundRecord(rec);
  if (sound !== rec) return sound;
  try {
    const copy = structuredClone(publicRecord(rec));
    const attempts = attemptsOf(copy, rec.history);
    if (attempts !== undefined) copy.attempts = structuredClone(attempts);
    return copy;
  } catch {
    return badRecord(rec.key, 'a field holds a value that cannot be copied', { id: rec.key, status: rec.status, createdAt: rec.createdAt, attempt: rec.attempt });
  }
}

function zeroCounts(): Record<TaskStatus, number> {
  const out = {} as Record<TaskStatus, number>;
  for (const s of TASK_STATUSES) out[s] = 0;
  return out;
}
