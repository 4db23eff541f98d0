/**
 * How a task record is kept in a `tasks` row: the fields fixed at enqueue are one JSON text
 * (`data`), the rest are columns; JSON payloads (result, error, progress) are text. A row that does
 * not decode (corrupt JSON, wrong types: written by hand or by another version) reads as a record
 * ended `error` with `QTASKS_ERR_BAD_RECORD`, so that one bad row never fails a whole query.
 */
import { ErrorCodes, TaskErrorInfo } from '../../errors';
import type { RetentionOption } from '../../task/retention';
import { AttemptInfo, attemptsOf, TaskLogLine } from '../../task/task-history';
import { TASK_STATUSES, TaskRecord, TaskStatus } from '../../task/task-record';

/** The fields fixed at enqueue, kept as one JSON text. */
interface Fixed {
  args: unknown[];
  parentId?: string;
  retry?: number;
  backoff?: TaskRecord['backoff'];
  timeout?: number;
  removeOnComplete?: RetentionOption;
  removeOnFail?: RetentionOption;
  headers?: Record<string, string>;
}

/** A `tasks` row as the driver returns it (bigints come as strings). */
export interface TaskRow {
  id: string;
  name: string;
  status: string;
  priority: number;
  run_at: string | null;
  attempt: number;
  stalls: number;
  data: string;
  seq: string;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  finished_at: string | null;
  worker_id: string | null;
  result: string | null;
  error: string | null;
  cancel_reason: string | null;
  progress: string | null;
  /** `ctx.log()` lines, a JSON array (null: none). */
  logs?: string | null;
  /** History of retried attempts, a JSON array (null: none). */
  attempts?: string | null;
}

const STATUSES = new Set<string>(TASK_STATUSES);

/** The JSON kept in `data`. */
export function fixedJson(r: TaskRecord): string {
  const f: Fixed = { args: r.args };
  if (r.parentId !== undefined) f.parentId = r.parentId;
  if (r.retry !== undefined) f.retry = r.retry;
  if (r.backoff !== undefined) f.backoff = r.backoff;
  if (r.timeout !== undefined) f.timeout = r.timeout;
  if (r.removeOnComplete !== undefined) f.removeOnComplete = r.removeOnComplete;
  if (r.removeOnFail !== undefined) f.removeOnFail = r.removeOnFail;
  if (r.headers !== undefined) f.headers = r.headers;
  return JSON.stringify(f);
}

/** Parses `data`; throws when it is not the expected shape. */
export function parseFixed(data: string): Fixed {
  const f = JSON.parse(data) as Fixed;
  if (f === null || typeof f !== 'object' || !Array.isArray(f.args)) throw new TypeError('its data has no args list');
  return f;
}

/** Copies the fixed fields onto a record. */
export function applyFixed(rec: TaskRecord, f: Fixed): void {
  if (f.parentId !== undefined) rec.parentId = f.parentId;
  if (f.retry !== undefined) rec.retry = f.retry;
  if (f.backoff !== undefined) rec.backoff = f.backoff;
  if (f.timeout !== undefined) rec.timeout = f.timeout;
  if (f.removeOnComplete !== undefined) rec.removeOnComplete = f.removeOnComplete;
  if (f.removeOnFail !== undefined) rec.removeOnFail = f.removeOnFail;
  if (f.headers !== undefined) rec.headers = f.headers;
}

function num(v: string | null): number | undefined {
  return v === null ? undefined : Number(v);
}

function json(v: string | null): unknown {
  return v === null ? undefined : JSON.parse(v);
}

/** The error of a record that cannot be decoded. */
export function badRecordError(why: string): TaskErrorInfo {
  return { name: 'BadRecordError', code: ErrorCodes.BAD_RECORD, message: `The stored task record cannot be read (${why}); it was ended` };
}

/** A record from a row; a row that does not decode gives the `BAD_RECORD` view of it. */
export function decodeRow(row: TaskRow): TaskRecord {
  try {
    if (!STATUSES.has(row.status)) throw new TypeError(`unknown status ${JSON.stringify(row.status)}`);
    if (!Number.isFinite(row.priority)) throw new TypeError(`priority ${String(row.priority)} is not a number`);
    const f = parseFixed(row.data);
    const rec: TaskRecord = {
      id: row.id,
      name: row.name,
      status: row.status as TaskStatus,
      priority: row.priority,
      args: f.args,
      attempt: row.attempt,
      createdAt: Number(row.created_at),
      updatedAt: Number(row.updated_at),
      seq: Number(row.seq),
    };
    applyFixed(rec, f);
    if (row.started_at !== null) rec.startedAt = num(row.started_at);
    if (row.finished_at !== null) rec.finishedAt = num(row.finished_at);
    if (row.worker_id !== null) rec.workerId = row.worker_id;
    if (row.run_at !== null) rec.runAt = num(row.run_at);
    if (row.result !== null) rec.returning = json(row.result);
    if (row.error !== null) rec.error = json(row.error) as TaskErrorInfo;
    if (row.cancel_reason !== null) rec.cancelReason = row.cancel_reason;
    if (row.progress !== null) rec.progress = json(row.progress);
    if (row.stalls > 0) rec.stalls = row.stalls;
    if (row.logs != null) rec.logs = json(row.logs) as TaskLogLine[];
    const attempts = attemptsOf(rec, row.attempts == null ? undefined : (json(row.attempts) as AttemptInfo[]));
    if (attempts !== undefined) rec.attempts = attempts;
    return rec;
  } catch (err) {
    return badRecordView(row, (err as Error).message);
  }
}

/** What a reader sees of a row that does not decode. */
export function badRecordView(row: Pick<TaskRow, 'id'> & Partial<TaskRow>, why: string): TaskRecord {
  const now = Date.now();
  const at = (v: string | null | undefined) => (v == null || !Number.isFinite(Number(v)) ? now : Number(v));
  return {
    id: row.id,
    name: typeof row.name === 'string' ? row.name : '',
    status: 'error',
    priority: typeof row.priority === 'number' ? row.priority : 0,
    args: [],
    attempt: typeof row.attempt === 'number' ? row.attempt : 0,
    createdAt: at(row.created_at),
    updatedAt: at(row.updated_at),
    error: badRecordError(why),
  };
}

/** An optional string as kept in `cancel_req`: '-' for none, '=' + value otherwise. */
export function decodeOpt(v: string | null | undefined): string | undefined {
  return v != null && v.charCodeAt(0) === 61 /* = */ ? v.slice(1) : undefined;
}
