/**
 * How the end of one attempt is sent to the `step` function: its kind and value, and the record
 * updated in place to what will be stored (the worker is done with it). The notification of the
 * end carries the record's JSON when another process asked for records, its id otherwise (or when
 * the record would not fit in one): see {@link noticeOf}.
 */
import type { Outcome } from '../../engine/broker';
import { Retention, retentionOf } from '../../task/retention';
import type { TaskRecord } from '../../task/task-record';

/** One end waiting to be recorded. */
export interface PendingEnd {
  rec: TaskRecord;
  /** s success, S success then removed, e error, E error then removed, c cancel, r retry, h handback. */
  kind: string;
  /** The retention of that end by count (the newest `count` of that end kept), null for none. */
  count: number | null;
  /** The retention of that end by age (ms), null for none. */
  age: number | null;
  val: string | null;
  runAt: number | null;
  /** The attempt the end is about (a stale end is ignored). */
  attempt: number;
  /** What the notification says of this end: set by {@link noticeOf} when sent ('' for none). */
  js: string;
  /** The record as stored once recorded; undefined for a handback. */
  stored: TaskRecord | undefined;
  resolve: (r: TaskRecord | undefined) => void;
  reject: (e: Error) => void;
}

/** Records larger than this (bytes) go by id in notifications (a payload holds at most 8000). */
const INLINE_MAX = 7_000;

/** What stands for "the id" in a notice: the step function writes the id's JSON itself. */
export const BY_ID = '=';

function recordJson(rec: TaskRecord): string {
  const { seq: _seq, ...view } = rec;
  const js = JSON.stringify(view);
  // up to 3 bytes per UTF-16 unit: only long strings need counting
  return js.length > INLINE_MAX / 3 && Buffer.byteLength(js) > INLINE_MAX ? BY_ID : js;
}

/**
 * What the notification of an end says: the stored record (for processes that asked for records:
 * waiting `result()` calls, stream readers, end events), or only its id ({@link BY_ID}: the others
 * read it when they need it); nothing for a handback, which is not an end. A record dropped at its
 * end (`S`, `E`) always goes whole: nobody can read it afterwards, so the notification is the only
 * way it reaches the app that enqueued it or a reader that asked while the task ran.
 */
export function noticeOf(e: PendingEnd, records: boolean): string {
  if (e.stored === undefined) return '';
  return records || e.kind === 'S' || e.kind === 'E' ? recordJson(e.rec) : BY_ID;
}

/** The end of `rec` as `outcome` says; the record is updated in place. */
export function endOf(
  rec: TaskRecord,
  o: Outcome,
  resolve: (r: TaskRecord | undefined) => void,
  reject: (e: Error) => void,
): PendingEnd {
  const now = Date.now();
  const attempt = rec.attempt;
  rec.updatedAt = now;
  let kind: string;
  let val: string | null = null;
  let runAt: number | null = null;
  let keep: Retention | undefined;
  switch (o.status) {
    case 'success':
      keep = retentionOf(rec.removeOnComplete);
      kind = keep?.now ? 'S' : 's';
      val = JSON.stringify(o.returning) ?? null;
      rec.status = 'success';
      rec.returning = o.returning;
      rec.finishedAt = now;
      break;
    case 'error':
      keep = retentionOf(rec.removeOnFail);
      kind = keep?.now ? 'E' : 'e';
      val = JSON.stringify(o.error);
      rec.status = 'error';
      rec.error = o.error;
      rec.finishedAt = now;
      break;
    case 'cancel':
      kind = 'c';
      val = o.reason ?? null;
      rec.status = 'cancel';
      rec.cancelReason = o.reason;
      rec.finishedAt = now;
      break;
    case 'retry':
      kind = 'r';
      val = JSON.stringify(o.error);
      runAt = now + Math.max(0, o.delayMs);
      rec.status = 'retry';
      rec.error = o.error;
      if (o.delayMs > 0) rec.runAt = runAt;
      else runAt = null;
      break;
    default:
      rec.status = 'new';
      rec.attempt = Math.max(0, rec.attempt - 1);
      return { rec, kind: 'h', count: null, age: null, val: null, runAt: null, attempt, js: '', stored: undefined, resolve, reject };
  }
  const count = keep !== undefined && !keep.now ? (keep.count ?? null) : null;
  const age = keep !== undefined && !keep.now ? (keep.age ?? null) : null;
  return { rec, kind, count, age, val, runAt, attempt, js: '', stored: rec, resolve, reject };
}
