/**
 * How the end of one attempt is sent to the `step` function: its kind and value, and the record
 * updated in place to what will be stored (the worker is done with it), whose JSON goes to the
 * other processes with the notification (its id only when it would not fit in one).
 */
import type { Outcome } from '../../engine/broker';
import { retentionOf } from '../../task/retention';
import type { TaskRecord } from '../../task/task-record';

/** One end waiting to be recorded. */
export interface PendingEnd {
  rec: TaskRecord;
  /** s success, S success then removed, e error, c cancel, r retry, h handback. */
  kind: string;
  val: string | null;
  runAt: number | null;
  /** The attempt the end is about (a stale end is ignored). */
  attempt: number;
  /** The record's JSON for other processes ('' for none). */
  js: string;
  /** The record as stored once recorded; undefined for a handback. */
  stored: TaskRecord | undefined;
  resolve: (r: TaskRecord | undefined) => void;
  reject: (e: Error) => void;
}

/** Records larger than this (bytes) go by id in notifications (a payload holds at most 8000). */
const INLINE_MAX = 7_000;

function recordJson(rec: TaskRecord): string {
  const { seq: _seq, ...view } = rec;
  const js = JSON.stringify(view);
  // up to 3 bytes per UTF-16 unit: only long strings need counting
  return js.length > INLINE_MAX / 3 && Buffer.byteLength(js) > INLINE_MAX ? JSON.stringify(rec.id) : js;
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
  switch (o.status) {
    case 'success':
      kind = retentionOf(rec.removeOnComplete)?.now ? 'S' : 's';
      val = JSON.stringify(o.returning) ?? null;
      rec.status = 'success';
      rec.returning = o.returning;
      rec.finishedAt = now;
      break;
    case 'error':
      kind = 'e';
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
      return { rec, kind: 'h', val: null, runAt: null, attempt, js: '', stored: undefined, resolve, reject };
  }
  return { rec, kind, val, runAt, attempt, js: recordJson(rec), stored: rec, resolve, reject };
}
