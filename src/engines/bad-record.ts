/**
 * Poison records, shared by the engines: what makes a stored record unusable, the error its task
 * ends with (`QTASKS_ERR_BAD_RECORD`), and the record a reader gets in its place, so that one bad
 * record never stops a worker or a read of the rest of the queue.
 */
import { BadRecordError, BadStateValueError, ErrorCodes } from '../errors';
import type { TaskErrorInfo } from '../errors';
import { statusIndex, TaskRecord, TaskStatus } from '../task/task-record';

/** True for a finite number. */
export function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** True for one of the task statuses. */
export function isStatus(v: unknown): v is TaskStatus {
  return statusIndex(v) >= 0;
}

/**
 * What is wrong with the fields a worker needs to run a task (`id`, `name`, `priority`, `args`,
 * `createdAt`, `attempt` and the retry options), or undefined when they are sound.
 */
export function recordProblem(r: Partial<Record<keyof TaskRecord, unknown>>, id: string): string | undefined {
  if (r.id !== id) return typeof r.id === 'string' ? `it names another id (${JSON.stringify(r.id.slice(0, 64))})` : 'it has no id';
  if (typeof r.name !== 'string') return 'its name is not a string';
  if (!isFiniteNumber(r.priority)) return 'its priority is not a number';
  if (!Array.isArray(r.args)) return 'its args are not a list';
  if (!isFiniteNumber(r.createdAt)) return 'its createdAt is not a number';
  if (r.attempt !== undefined && !isFiniteNumber(r.attempt)) return 'its attempt is not a number';
  if (r.retry !== undefined && !isFiniteNumber(r.retry)) return 'its retry is not a number';
  if (r.timeout !== undefined && !isFiniteNumber(r.timeout)) return 'its timeout is not a number';
  if (r.parentId !== undefined && typeof r.parentId !== 'string') return 'its parentId is not a string';
  if (r.backoff !== undefined && (r.backoff === null || typeof r.backoff !== 'object')) return 'its backoff is not an object';
  return undefined;
}

/** The error kept on a task whose record could not be decoded. */
export function badRecordError(id: string, reason: string): TaskErrorInfo {
  const err = new BadRecordError(id, reason);
  return { name: err.name, message: err.message, code: ErrorCodes.BAD_RECORD };
}

/** True for an error recorded by {@link badRecordError}. */
export function isBadRecordError(e: unknown): boolean {
  return e !== null && typeof e === 'object' && (e as { code?: unknown }).code === ErrorCodes.BAD_RECORD;
}

/**
 * The record a reader gets for a stored record it cannot decode: status `error` with a
 * `QTASKS_ERR_BAD_RECORD` error (the stored one when the worker recorded it already), and the
 * fields that could be read.
 */
export function badRecord(id: string, reason: string, known: Partial<Record<keyof TaskRecord, unknown>> = {}): TaskRecord {
  const createdAt = isFiniteNumber(known.createdAt) ? known.createdAt : 0;
  const rec: TaskRecord = {
    id,
    name: typeof known.name === 'string' ? known.name : '',
    status: 'error',
    priority: isFiniteNumber(known.priority) ? known.priority : 0,
    args: Array.isArray(known.args) ? known.args : [],
    attempt: isFiniteNumber(known.attempt) ? known.attempt : 0,
    createdAt,
    updatedAt: isFiniteNumber(known.updatedAt) ? known.updatedAt : createdAt,
    error: isBadRecordError(known.error) ? (known.error as TaskErrorInfo) : badRecordError(id, reason),
  };
  if (isFiniteNumber(known.startedAt)) rec.startedAt = known.startedAt;
  if (isFiniteNumber(known.finishedAt)) rec.finishedAt = known.finishedAt;
  if (typeof known.workerId === 'string') rec.workerId = known.workerId;
  if (typeof known.parentId === 'string') rec.parentId = known.parentId;
  return rec;
}

/** Decodes a stored shared-state value; corrupt JSON is a {@link BadStateValueError}. */
export function decodeStateValue(state: string, key: string, json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    throw new BadStateValueError(state, key);
  }
}

/** Decodes every value of a state; a corrupt one is left out instead of failing the whole read. */
export function decodeStateValues(entries: Iterable<[string, string]>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) {
    try {
      // defineProperty: a key named __proto__ stays an own property
      Object.defineProperty(out, k, { value: JSON.parse(v), enumerable: true, writable: true, configurable: true });
    } catch {
      // a corrupt value: left out (get() of that key rejects with QTASKS_ERR_BAD_RECORD)
    }
  }
  return out;
}
