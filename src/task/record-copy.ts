/**
 * Plain copies of task records, whatever object an engine keeps (a class with accessors, a decoded
 * hash, a row): `copyRecord` for the app's own use, `recordCopy` for user code (hooks, events),
 * with the JSON fields (args, result, progress, error) copied deeply, so that a plugin or listener
 * that changes what it was given never changes what an engine keeps. Made only when someone hooks
 * or listens.
 */
import { cloneJson } from './json';
import type { TaskRecord } from './task-record';

/** The fields of a public record, in the order a copy lists them. */
export const RECORD_KEYS = [
  'id', 'name', 'status', 'priority', 'args', 'attempt', 'progress', 'createdAt', 'updatedAt', 'startedAt', 'finishedAt',
  'returning', 'error', 'cancelReason', 'parentId', 'workerId', 'runAt', 'retry', 'backoff', 'timeout', 'removeOnComplete',
  'removeOnFail', 'logs', 'stalls', 'seq', 'headers',
] as const satisfies readonly (keyof TaskRecord)[];

const JSON_FIELDS = ['args', 'returning', 'progress', 'error', 'headers'] as const;

/**
 * A plain object with the record's public fields, leaving out those that are unset. Values are
 * shared with `rec` (a shallow copy).
 */
export function copyRecord(rec: TaskRecord): TaskRecord {
  // each field read by name, in RECORD_KEYS order (a loop over the names reads every record's
  // fields by computed key, which costs more on the path every ended task takes)
  const out: Partial<TaskRecord> = {};
  if (rec.id !== undefined) out.id = rec.id;
  if (rec.name !== undefined) out.name = rec.name;
  if (rec.status !== undefined) out.status = rec.status;
  if (rec.priority !== undefined) out.priority = rec.priority;
  if (rec.args !== undefined) out.args = rec.args;
  if (rec.attempt !== undefined) out.attempt = rec.attempt;
  if (rec.progress !== undefined) out.progress = rec.progress;
  if (rec.createdAt !== undefined) out.createdAt = rec.createdAt;
  if (rec.updatedAt !== undefined) out.updatedAt = rec.updatedAt;
  if (rec.startedAt !== undefined) out.startedAt = rec.startedAt;
  if (rec.finishedAt !== undefined) out.finishedAt = rec.finishedAt;
  if (rec.returning !== undefined) out.returning = rec.returning;
  if (rec.error !== undefined) out.error = rec.error;
  if (rec.cancelReason !== undefined) out.cancelReason = rec.cancelReason;
  if (rec.parentId !== undefined) out.parentId = rec.parentId;
  if (rec.workerId !== undefined) out.workerId = rec.workerId;
  if (rec.runAt !== undefined) out.runAt = rec.runAt;
  if (rec.retry !== undefined) out.retry = rec.retry;
  if (rec.backoff !== undefined) out.backoff = rec.backoff;
  if (rec.timeout !== undefined) out.timeout = rec.timeout;
  if (rec.removeOnComplete !== undefined) out.removeOnComplete = rec.removeOnComplete;
  if (rec.removeOnFail !== undefined) out.removeOnFail = rec.removeOnFail;
  if (rec.logs !== undefined) out.logs = rec.logs;
  if (rec.stalls !== undefined && rec.stalls !== 0) out.stalls = rec.stalls;
  if (rec.seq !== undefined) out.seq = rec.seq;
  if (rec.headers !== undefined) out.headers = rec.headers;
  return out as TaskRecord;
}

/** A copy of `rec` sharing nothing with it. */
export function recordCopy(rec: TaskRecord): TaskRecord {
  const out = copyRecord(rec) as unknown as Record<string, unknown>;
  for (const key of JSON_FIELDS) {
    const v = out[key];
    if (v !== null && typeof v === 'object') out[key] = cloneJson(v);
  }
  return out as unknown as TaskRecord;
}
