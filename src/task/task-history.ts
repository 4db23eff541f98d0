/**
 * What a record keeps of its past: log lines written with `ctx.log()` and the history of its
 * attempts. Engines store the attempts that did not end the task (retries); the last attempt is
 * read from the record's own fields, so that a task that succeeds at once costs nothing more.
 */
import type { TaskErrorInfo } from '../errors';
import type { TaskRecord } from './task-record';

/** One line of `ctx.log(line)`. */
export interface TaskLogLine {
  /** When it was written (ms since epoch). */
  at: number;
  /** The attempt that wrote it (1 on the first run). */
  attempt: number;
  line: string;
}

/** How one attempt ended: as the task (`success`, `error`, `cancel`), `retry` (failed, tried again),
 * `stalled` (its worker stopped renewing its lease) or `process` (still running). */
export type AttemptStatus = 'process' | 'success' | 'error' | 'cancel' | 'retry' | 'stalled';

/** One attempt of a task. */
export interface AttemptInfo {
  /** 1 for the first run. */
  attempt: number;
  status: AttemptStatus;
  startedAt?: number;
  finishedAt?: number;
  /** What ended it (name, message, code; the stack is on the record's `error` for the last one). */
  error?: TaskErrorInfo;
  workerId?: string;
}

/** Longest log line kept (longer ones are cut). */
export const MAX_LOG_LINE_CHARS = 4_096;

/** The log line as stored: a string, cut to {@link MAX_LOG_LINE_CHARS}. */
export function logLine(line: unknown, attempt: number, at = Date.now()): TaskLogLine {
  let text = typeof line === 'string' ? line : String(line);
  if (text.length > MAX_LOG_LINE_CHARS) text = text.slice(0, MAX_LOG_LINE_CHARS - 1) + '…';
  return { at, attempt, line: text };
}

/** The history entry of an attempt that ended in a retry (kept by the engine). */
export function retriedAttempt(rec: TaskRecord, error: TaskErrorInfo, now: number): AttemptInfo {
  const entry: AttemptInfo = { attempt: rec.attempt, status: 'retry', finishedAt: now, error: shortError(error) };
  if (rec.startedAt !== undefined) entry.startedAt = rec.startedAt;
  if (rec.workerId !== undefined) entry.workerId = rec.workerId;
  return entry;
}

/**
 * Every attempt of `rec`: the stored history of earlier attempts, attempts that left no entry
 * (their worker stalled), then the latest one from the record's fields.
 */
export function attemptsOf(rec: TaskRecord, earlier: readonly AttemptInfo[] | undefined): AttemptInfo[] | undefined {
  if (!(rec.attempt >= 1) && !earlier?.length) return undefined;
  // the common record, on its first attempt with no history: one entry, no list grown
  if (rec.attempt === 1 && earlier === undefined) {
    const only = latest(rec);
    if (only !== undefined) return [only];
  }
  // entries of a stored history that is not what this version writes are left out
  const out: AttemptInfo[] = Array.isArray(earlier) ? earlier.filter(isAttemptInfo) : [];
  let last = out.length > 0 ? out[out.length - 1].attempt : 0;
  const current = latest(rec);
  const upTo = current ? rec.attempt - 1 : rec.attempt;
  // a corrupt attempt count must not make a read build millions of entries: the newest stalls only
  for (let n = Math.max(last + 1, upTo - MAX_STALLED_SHOWN + 1); n <= upTo; n++) out.push({ attempt: n, status: 'stalled' });
  last = Math.max(last, upTo);
  if (current && rec.attempt > last) out.push(current);
  return out;
}

/** Stalled attempts (that left no entry) shown at most, the newest. */
const MAX_STALLED_SHOWN = 100;

function isAttemptInfo(a: unknown): a is AttemptInfo {
  return a !== null && typeof a === 'object' && Number.isSafeInteger((a as AttemptInfo).attempt) && typeof (a as AttemptInfo).status === 'string';
}

/** The latest attempt as its record shows it, undefined when it left the record (stalled, retried). */
function latest(rec: TaskRecord): AttemptInfo | undefined {
  if (rec.attempt < 1) return undefined;
  let status: AttemptStatus;
  switch (rec.status) {
    case 'process':
    case 'success':
    case 'error':
    case 'cancel':
      status = rec.status;
      break;
    default:
      return undefined;
  }
  const { startedAt, finishedAt, workerId } = rec;
  // the common shapes built whole (the same keys in the same order as below, without growing the object)
  if (startedAt !== undefined && workerId !== undefined) {
    if (status === 'process') return { attempt: rec.attempt, status, startedAt, workerId };
    if (finishedAt !== undefined && status !== 'error') return { attempt: rec.attempt, status, startedAt, finishedAt, workerId };
  }
  const a: AttemptInfo = { attempt: rec.attempt, status };
  if (rec.startedAt !== undefined) a.startedAt = rec.startedAt;
  if (rec.finishedAt !== undefined && status !== 'process') a.finishedAt = rec.finishedAt;
  if (rec.error !== undefined && status === 'error') a.error = shortError(rec.error);
  if (rec.workerId !== undefined) a.workerId = rec.workerId;
  return a;
}

function shortError(e: TaskErrorInfo): TaskErrorInfo {
  const out: TaskErrorInfo = { name: e.name, message: e.message };
  if (e.code !== undefined) out.code = e.code;
  return out;
}
