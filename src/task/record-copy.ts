/**
 * Copies of records for user code (hooks, events): the public fields, with the JSON ones (args,
 * result, progress, error) copied deeply, so that a plugin or listener that changes what it was
 * given never changes what an engine keeps. Made only when someone hooks or listens.
 */
import { publicRecord } from '../engines/memory/mem-record';
import { cloneJson } from './json';
import type { TaskRecord } from './task-record';

const JSON_FIELDS = ['args', 'returning', 'progress', 'error'] as const;

/** A copy of `rec` sharing nothing with it. */
export function recordCopy(rec: TaskRecord): TaskRecord {
  const out = publicRecord(rec) as unknown as Record<string, unknown>;
  for (const key of JSON_FIELDS) {
    const v = out[key];
    if (v !== null && typeof v === 'object') out[key] = cloneJson(v);
  }
  return out as unknown as TaskRecord;
}
