/**
 * How a task record is kept in a `tasks` row: the fields fixed at enqueue are one JSON text
 * (`data`), the rest are columns; JSON payloads (result, error, progress) are text. A row that does
 * not decode (corrupt JSON, wrong types: written by hand or by another version) reads as a record
 * ended `error` with `QTASKS_ERR_BAD_RECORD`, so that one bad row never fails a whole query.
 */
import type { TaskErrorInfo } from '../../errors';
import { AttemptInfo, attemptsOf, TaskLogLine } from '../../task/task-history';
import { TASK_STATUSES, TaskRecord, TaskStatus } from '../../task/task-record';
import { badRecord } from '../bad-record';
import { copyOptionalFixed, OptionalFixed } from '../shared/fixed-fields';

/** The fields fixed at enqueue, kept as one JSON text. */
interface Fixed extends OptionalFixed {
  args: unknown[];
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
  copyOptionalFixed(r, f);
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
  copyOptionalFixed(f, rec);
}

function num(v: string | null): number | undefined {
  return v === null ? undefined : Number(v);
}

function json(v: string | null): unknown {
  return v === null ? undefined : JSON.parse(v);
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

/** What a reader sees of a row that does not decode (the fields that could be read, a bad-record error). */
export function badRecordView(row: Pick<TaskRow, 'id'> & Partial<TaskRow>, why: string): TaskRecord {
  const at = (v: string | null | undefined) => (v == null ? undefined : Number(v));
  let error: unknown;
  try {
    error = row.error == null ? undefined : JSON.parse(row.error);
  } catch {
    error = undefined;
  }
  const now = Date.now();
  return badRecord(row.id, why, {
    name: row.name,
    priority: row.priority,
    attempt: row.attempt,
    createdAt: at(row.created_at) ?? now,
    updatedAt: at(row.updated_at) ?? now,
    error,
  });
}

/** An optional string as kept in `cancel_req`: '-' for none, '=' + value otherwise. */
export function decodeOpt(v: string | null | undefined): string | undefined {
  return v != null && v.charCodeAt(0) === 61 /* = */ ? v.slice(1) : undefined;
}
