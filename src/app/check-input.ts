/**
 * Checks of what callers pass to the app's and the manager's calls (ids, list queries, statuses),
 * so that a wrong value is a `QTASKS_ERR_BAD_OPTION` saying what to pass, on every engine — never a
 * TypeError from deep inside an engine, or a different answer from one engine to the next.
 */
import { ErrorCodes, QTasksError } from '../errors';
import type { ListQuery } from '../engine/storage';
import { TASK_STATUSES, TaskStatus } from '../task/task-record';

/** Longest task id accepted (ids are keys in every engine). */
export const MAX_ID_LENGTH = 1024;

/** Throws unless `id` is a non-empty string of at most {@link MAX_ID_LENGTH} characters. */
export function checkId(id: unknown, call: string): asserts id is string {
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) {
    throw new QTasksError(
      ErrorCodes.BAD_OPTION,
      `${call}: a task id is a non-empty string of at most ${MAX_ID_LENGTH} characters, got ${describe(id)}`,
    );
  }
}

/** Throws unless a cancel reason is a string (or absent). */
export function checkReason(reason: unknown, call: string): asserts reason is string | undefined {
  if (reason !== undefined && typeof reason !== 'string') {
    throw new QTasksError(ErrorCodes.BAD_OPTION, `${call}: the reason is a string, got ${describe(reason)}`);
  }
}

/** Throws unless `s` is a task status. */
export function checkStatus(s: unknown, call: string): asserts s is TaskStatus {
  if (!(TASK_STATUSES as readonly unknown[]).includes(s)) {
    throw new QTasksError(ErrorCodes.BAD_OPTION, `${call}: status must be one of ${TASK_STATUSES.join(', ')}, got ${describe(s)}`);
  }
}

/** Throws unless `q` is a list query (undefined is the empty one). */
export function checkListQuery(q: unknown): asserts q is ListQuery | undefined {
  if (q === undefined) return;
  const fail = (msg: string) => new QTasksError(ErrorCodes.BAD_OPTION, `manager.list(): ${msg}`);
  if (q === null || typeof q !== 'object' || Array.isArray(q)) throw fail(`takes an object { status?, name?, since?, until?, limit?, offset? }, got ${describe(q)}`);
  const o = q as Record<string, unknown>;
  if (o.status !== undefined) for (const s of Array.isArray(o.status) ? o.status : [o.status]) checkStatus(s, 'manager.list()');
  if (o.name !== undefined && typeof o.name !== 'string') throw fail('name must be a string');
  for (const key of ['since', 'until'] as const) {
    if (o[key] !== undefined && !(typeof o[key] === 'number' && Number.isFinite(o[key]))) throw fail(`${key} must be a time in ms since the epoch`);
  }
  for (const key of ['limit', 'offset'] as const) {
    if (o[key] !== undefined && !(Number.isInteger(o[key]) && (o[key] as number) >= 0)) throw fail(`${key} must be a non-negative integer`);
  }
}

function describe(v: unknown): string {
  if (typeof v === 'string') return v.length > 40 ? `a string of ${v.length} characters` : JSON.stringify(v);
  if (v === null) return 'null';
  return Array.isArray(v) ? 'an array' : typeof v;
}
