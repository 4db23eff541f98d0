/**
 * Per-minute task statistics kept by the engine: each worker counts the ends of its attempts and
 * histograms of wait and run times in memory, and adds them to shared counters in the storage
 * (atomic `stateIncr`, so any engine and any number of workers add up) about once a second.
 * Minutes older than an hour are deleted, so what is kept stays bounded.
 */
import type { Storage } from '../engine/storage';
import type { Logger } from '../logger';
import type { TaskRecord } from '../task/task-record';

/** The state name the counters live under (one per queue, like any state). */
export const STATS_STATE = '__qtasks_stats';
const MINUTE = 60_000;
/** Minutes kept. */
const KEEP_MINUTES = 61;
/** Histogram resolution: 4 buckets per doubling (each about 19% wide). */
const PER_OCTAVE = 4;

/** One minute of a queue's activity, as `manager.stats()` returns it. */
export interface StatsBucket {
  /** Start of the minute (ms since epoch). */
  at: number;
  success: number;
  error: number;
  cancel: number;
  /** Attempts that failed and were queued again. */
  retry: number;
  /** Time from due (enqueue, or the delay/backoff's end) to start, median, ms. */
  waitMsP50: number | undefined;
  /** Run time of an attempt, median and 95th percentile, ms. */
  runMsP50: number | undefined;
  runMsP95: number | undefined;
}

/** Options of `manager.stats()`. */
export interface StatsQuery {
  /** How far back, in ms (default one hour; at most one hour is kept). */
  sinceMs?: number;
  /** The queue (default: the app's). */
  queue?: string;
}

/** The histogram bucket of a time in ms: 0 below 1 ms, then {@link PER_OCTAVE} per doubling. */
function bucketByLog(ms: number): number {
  return ms < 1 ? 0 : Math.floor(Math.log2(ms) * PER_OCTAVE) + 1;
}

/** Whole milliseconds whose bucket is looked up rather than computed. */
const TABLED_MS = 4096;
/** `bucketByLog` of every whole number of ms below {@link TABLED_MS}. */
const TABLED_BUCKETS = Uint8Array.from({ length: TABLED_MS }, (_, ms) => bucketByLog(ms));

/** `bucketByLog(ms)`, without a logarithm for the whole numbers of ms most times are. */
export function bucketOf(ms: number): number {
  return ms >= 0 && ms < TABLED_MS && (ms | 0) === ms ? TABLED_BUCKETS[ms] : bucketByLog(ms);
}

function valueOf(bucket: number): number {
  return bucket === 0 ? 0 : Math.round(2 ** ((bucket - 0.5) / PER_OCTAVE) * 10) / 10;
}

/** Ends by status, in the order of {@link STATUS_FIELDS}. */
const STATUS_FIELDS = ['success', 'error', 'cancel', 'retry'] as const;
/** Histogram buckets kept per minute (4 per doubling: up to about 2^31 ms). */
const BUCKETS = 128;

/**
 * Counts attempt ends of one worker and adds them to the storage's counters. The current minute
 * is counted in plain arrays (nothing allocated per task, this runs at every end); a minute is
 * turned into counter keys when it is over or at a flush.
 */
export class StatsRecorder {
  private pending = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private prunedMinute = 0;
  private minute = -1;
  private minuteEnd = 0;
  private readonly ends = [0, 0, 0, 0];
  private readonly wait = new Uint32Array(BUCKETS);
  private readonly run = new Uint32Array(BUCKETS);
  private counted = false;
  /** (Made once: a closure made in record() would cost a context object at every end.) */
  private readonly flushFn = (): void => void this.flush();

  constructor(
    private readonly storage: Storage,
    private readonly logger: Logger,
  ) {}

  /** Notes how an attempt of `rec` ended (`status`: success, error, cancel, retry). */
  record(rec: TaskRecord, status: string, now: number): void {
    const i = status === 'success' ? 0 : status === 'error' ? 1 : status === 'cancel' ? 2 : status === 'retry' ? 3 : -1;
    if (i < 0) return;
    if (now >= this.minuteEnd || now < this.minuteEnd - MINUTE) this.turnMinute(now);
    this.ends[i]++;
    const started = rec.startedAt;
    if (started !== undefined) {
      this.run[Math.min(BUCKETS - 1, bucketOf(now - started))]++;
      const due = rec.runAt !== undefined && rec.runAt > rec.createdAt ? rec.runAt : rec.createdAt;
      this.wait[Math.min(BUCKETS - 1, bucketOf(started > due ? started - due : 0))]++;
    }
    this.counted = true;
    if (this.timer === undefined) {
      this.timer = setTimeout(this.flushFn, 1_000);
      this.timer.unref();
    }
  }

  /** Moves the current minute's counts into the counters to send, and starts minute `now`'s. */
  private turnMinute(now: number): void {
    this.stash();
    this.minute = Math.floor(now / MINUTE);
    this.minuteEnd = (this.minute + 1) * MINUTE;
  }

  private stash(): void {
    if (!this.counted) return;
    const m = this.minute;
    for (let i = 0; i < STATUS_FIELDS.length; i++) {
      if (this.ends[i] > 0) this.add(`${m}:${STATUS_FIELDS[i]}`, this.ends[i]);
      this.ends[i] = 0;
    }
    for (let b = 0; b < BUCKETS; b++) {
      if (this.run[b] > 0) this.add(`${m}:r${b}`, this.run[b]);
      if (this.wait[b] > 0) this.add(`${m}:w${b}`, this.wait[b]);
    }
    this.run.fill(0);
    this.wait.fill(0);
    this.counted = false;
  }

  private add(key: string, by: number): void {
    this.pending.set(key, (this.pending.get(key) ?? 0) + by);
  }

  /** Adds what was counted to the storage; called about once a second and at close. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.flushing) return this.flushing.then(() => this.flush());
    this.stash();
    const batch = this.pending;
    if (batch.size === 0) return Promise.resolve();
    this.pending = new Map();
    this.flushing = (async () => {
      try {
        // histograms first, then the end counts: a reader that sees an end sees its times too
        const entries = [...batch];
        const isCount = (key: string): boolean => STATUS_FIELDS.some((f) => key.endsWith(`:${f}`));
        await Promise.all(entries.filter(([k]) => !isCount(k)).map(([key, by]) => this.storage.stateIncr(STATS_STATE, key, by)));
        await Promise.all(entries.filter(([k]) => isCount(k)).map(([key, by]) => this.storage.stateIncr(STATS_STATE, key, by)));
        await this.prune();
      } catch (err) {
        this.logger.debug('Task statistics not recorded this time', { error: err });
      } finally {
        this.flushing = undefined;
      }
    })();
    return this.flushing;
  }

  private async prune(): Promise<void> {
    const minute = Math.floor(Date.now() / MINUTE);
    if (minute === this.prunedMinute) return;
    this.prunedMinute = minute;
    const all = await this.storage.stateAll(STATS_STATE);
    const old = Object.keys(all).filter((k) => Number(k.slice(0, k.indexOf(':'))) < minute - KEEP_MINUTES);
    await Promise.all(old.map((k) => this.storage.stateDelete(STATS_STATE, k)));
  }
}

/** Reads the per-minute buckets of the last `sinceMs` (oldest first, minutes with no activity left out). */
export async function readStats(storage: Storage, sinceMs = 60 * MINUTE): Promise<StatsBucket[]> {
  const all = await storage.stateAll(STATS_STATE);
  const from = Math.floor((Date.now() - Math.max(0, sinceMs)) / MINUTE);
  const minutes = new Map<number, { counts: Record<string, number>; wait: Map<number, number>; run: Map<number, number> }>();
  for (const [key, raw] of Object.entries(all)) {
    const sep = key.indexOf(':');
    const m = Number(key.slice(0, sep));
    const n = Number(raw);
    if (!Number.isFinite(m) || !Number.isFinite(n) || m < from) continue;
    let e = minutes.get(m);
    if (e === undefined) minutes.set(m, (e = { counts: {}, wait: new Map(), run: new Map() }));
    const field = key.slice(sep + 1);
    if (field[0] === 'w') e.wait.set(Number(field.slice(1)), n);
    else if (field[0] === 'r' && field !== 'retry') e.run.set(Number(field.slice(1)), n);
    else e.counts[field] = n;
  }
  return [...minutes.keys()]
    .sort((a, b) => a - b)
    .map((m) => {
      const e = minutes.get(m)!;
      return {
        at: m * MINUTE,
        success: e.counts.success ?? 0,
        error: e.counts.error ?? 0,
        cancel: e.counts.cancel ?? 0,
        retry: e.counts.retry ?? 0,
        waitMsP50: percentile(e.wait, 0.5),
        runMsP50: percentile(e.run, 0.5),
        runMsP95: percentile(e.run, 0.95),
      };
    });
}

function percentile(hist: Map<number, number>, q: number): number | undefined {
  let total = 0;
  for (const n of hist.values()) total += n;
  if (total === 0) return undefined;
  const rank = q * total;
  let seen = 0;
  for (const b of [...hist.keys()].sort((a, c) => a - c)) {
    seen += hist.get(b)!;
    if (seen >= rank) return valueOf(b);
  }
  return undefined;
}
