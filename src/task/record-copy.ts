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
  const out: Record<string, unknown> = {};
  for (const key of RECORD_KEYS) {
    const v = (rec as unknown as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = v;
  }
  if (out.stalls === 0) delete out.stalls;
  return out as unknown as TaskRecord;
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
