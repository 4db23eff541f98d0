/**
 * In-memory Storage: records in a Map, counts kept as they change, finished records dropped after
 * `resultTtlMs` (and beyond `maxFinished`) by one unref'd sweep timer.
 */
import { ClosedError } from '../../errors';
import type { EngineContext } from '../../engine/broker';
import type { Retention } from '../../task/retention';
import { attemptsOf, TaskLogLine } from '../../task/task-history';
import { isFinal, statusIndex, TASK_STATUSES, TaskRecord, TaskStatus } from '../../task/task-record';
import { DEFAULT_JSON_LIMITS, JsonLimits, toJson } from '../../task/json';
import { CleanQuery, FinishedStatus, ListQuery, RecordWriter, Storage } from '../../engine/storage';
import { FinishedList } from './finished-list';
import { RecordTable } from './record-table';
import { MemoryRecordWriter } from './memory-record-writer';
import { MemRecord, publicRecord, soundRecord } from './mem-record';
import { badRecord } from '../bad-record';
import { checkMember } from '../shared/state-member';

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
  readonly records = new RecordTable();
  /** Records by status, indexed as `TASK_STATUSES` (a status outside it is not counted). */
  private readonly countBy: number[] = TASK_STATUSES.map(() => 0);
  /** Finished records per final status in finishing order, for expiry, retention and clean. */
  private readonly finished: Record<FinishedStatus, FinishedList> = {
    success: new FinishedList('success'),
    error: new FinishedList('error'),
    cancel: new FinishedList('cancel'),
  };
  private readonly finishedLists: readonly [FinishedList, FinishedList, FinishedList] = [this.finished.success, this.finished.error, this.finished.cancel];
  /** Log lines kept per record (config `maxLogLines`). */
  maxLogLines = 100;
  private readonly state = new Map<string, Map<string, unknown>>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private ttlMs = 24 * 60 * 60 * 1000;
  private readonly maxFinished: number;
  private seq = 0;
  private closed = false;
  private limits: JsonLimits = DEFAULT_JSON_LIMITS;

  /** Queues of this storage and its siblings (`queueNames`). */
  private queues = new Set<string>();

  constructor(private readonly options: MemoryStorageOptions = {}) {
    super();
    this.maxFinished = options.maxFinished ?? 100_000;
  }

  /** A storage for another queue of the same app (same settings; `queueNames` lists both). */
  sibling(): MemoryStorage {
    const s = new MemoryStorage(this.options);
    s.queues = this.queues;
    return s;
  }

  async queueNames(): Promise<string[]> {
    return [...this.queues];
  }

  async init(ctx: EngineContext): Promise<void> {
    if (this.closed) throw new ClosedError('MemoryStorage used');
    this.queues.add(ctx.queue);
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

  /** Adds a new record (status already set); `n` is `idNumber` of its id when known. */
  add(rec: MemRecord, n?: number): void {
    rec.seq = ++this.seq;
    this.records.set(rec.key, rec, n);
    this.count(rec.status, 1);
  }

  /** Adds `by` to the count of `status`. */
  private count(status: TaskStatus, by: number): void {
    const i = statusIndex(status);
    if (i >= 0) this.countBy[i] += by;
  }

  /** Changes a record's status, keeping counts and expiry in step. */
  setStatus(rec: MemRecord, status: TaskStatus, now: number): void {
    this.count(rec.status, -1);
    this.count(status, 1);
    rec.status = status;
    rec.updatedAt = now;
    if (isFinal(status)) {
      const f = this.finished;
      // no lookup by a string key on this path (see statusIndex)
      const list = status === 'success' ? f.success : status === 'error' ? f.error : f.cancel;
      list.push(rec, rec.finishedAt ?? now);
      if (f.success.size + f.error.size + f.cancel.size > this.maxFinished) this.trimFinished();
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
      while (this.countBy[statusIndex(status)] > r.count) {
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
    this.records.remove(rec);
    if (rec.hasWaiters || rec.watchers) {
      // removed while someone waits: result() and stream() end with QTASKS_ERR_TASK_NOT_FOUND
      const watchers = rec.watchers;
      rec.watchers = undefined;
      if (watchers) for (const w of watchers) w.onEnd(undefined);
      rec.releaseWaiters(true);
    }
    this.count(rec.status, -1);
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
    const out = {} as Record<TaskStatus, number>;
    TASK_STATUSES.forEach((s, i) => (out[s] = this.countBy[i]));
    return out;
  }

  async remove(id: string): Promise<boolean> {
    const rec = this.records.get(id);
    // a running or waiting task is live: cancel it instead
    if (!rec || rec.status === 'process' || rec.status === 'waiting') return false;
    rec.queued = false;
    this.drop(rec);
    return true;
  }

  async purge(status: TaskStatus): Promise<number> {
    if (status === 'process' || status === 'waiting') return 0;
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

  async stateAddMember(state: string, key: string, member: number): Promise<number> {
    checkMember(member);
    const bucket = this.bucket(state);
    const cur = bucket.get(key);
    // a value that is not an array of whole numbers starts a new set (readers hold the old array)
    const set = Array.isArray(cur) && cur.every((v) => Number.isSafeInteger(v) && (v as number) >= 0) ? (cur as number[]) : [];
    if (set.includes(member)) return set.length;
    bucket.set(key, [...set, member]);
    return set.length + 1;
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
    for (const list of this.finishedLists) this.dropFinished(list, now - this.ttlMs, Infinity);
    this.trimFinished();
  }

  /** Drops the oldest finished records beyond `maxFinished` (at every end once the cap is reached). */
  private trimFinished(): void {
    const { success: a, error: b, cancel: c } = this.finished;
    while (a.size + b.size + c.size > this.maxFinished) {
      // the oldest head of the three lists (peek skips stale entries, so sizes may shrink)
      const ha = a.peek();
      const hb = b.peek();
      const hc = c.peek();
      let oldest: FinishedList | undefined;
      let rec: MemRecord | undefined;
      if (ha !== undefined) (oldest = a), (rec = ha);
      if (hb !== undefined && (rec === undefined || (hb.finishedAt ?? 0) < (rec.finishedAt ?? 0))) (oldest = b), (rec = hb);
      if (hc !== undefined && (rec === undefined || (hc.finishedAt ?? 0) < (rec.finishedAt ?? 0))) (oldest = c), (rec = hc);
      if (oldest === undefined) break;
      oldest.shift();
      rec!.evict();
      this.drop(rec!);
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
