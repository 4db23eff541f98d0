/**
 * How a task record is kept in Redis: one hash per task. The fields fixed at enqueue are one JSON
 * string (`d`); the fields that change are separate hash fields so that Lua scripts update them
 * without decoding JSON.
 */
import type { TaskErrorInfo } from '../../errors';
import type { TaskRecord, TaskStatus } from '../../task/task-record';

/** The fields fixed at enqueue (kept as one JSON string). */
interface Fixed {
  id: string;
  name: string;
  priority: number;
  args: unknown[];
  createdAt: number;
  parentId?: string;
  retry?: number;
  backoff?: TaskRecord['backoff'];
  timeout?: number;
  removeOnComplete?: boolean;
  traceparent?: string;
  /** Enqueue sequence, added by the enqueue script. */
  seq?: number;
}

/** The JSON kept in field `d`. */
export function fixedJson(r: TaskRecord): string {
  const f: Fixed = { id: r.id, name: r.name, priority: r.priority, args: r.args, createdAt: r.createdAt };
  if (r.parentId !== undefined) f.parentId = r.parentId;
  if (r.retry !== undefined) f.retry = r.retry;
  if (r.backoff !== undefined) f.backoff = r.backoff;
  if (r.timeout !== undefined) f.timeout = r.timeout;
  if (r.removeOnComplete !== undefined) f.removeOnComplete = r.removeOnComplete;
  if (r.traceparent !== undefined) f.traceparent = r.traceparent;
  return JSON.stringify(f);
}

/** An optional string as kept in Redis: '-' for none, '=' + value otherwise. */
export function encodeOpt(v: string | undefined): string {
  return v === undefined ? '-' : '=' + v;
}

export function decodeOpt(v: string | undefined): string | undefined {
  return v !== undefined && v.charCodeAt(0) === 61 /* = */ ? v.slice(1) : undefined;
}

/** A record from the fields of a claimed task (status `process`). */
export function claimedRecord(d: string, attempt: number, now: number, workerId: string): TaskRecord {
  const f = JSON.parse(d) as Fixed;
  const rec: TaskRecord = {
    id: f.id,
    name: f.name,
    status: 'process',
    priority: f.priority,
    args: f.args,
    attempt,
    createdAt: f.createdAt,
    updatedAt: now,
    startedAt: now,
    parentId: f.parentId,
    workerId,
    retry: f.retry,
    backoff: f.backoff,
    timeout: f.timeout,
    removeOnComplete: f.removeOnComplete,
  };
  if (f.seq !== undefined) rec.seq = f.seq;
  if (f.traceparent !== undefined) rec.traceparent = f.traceparent;
  return rec;
}

/**
 * The JSON of a record as published at its end, built from the fixed part's JSON as stored (`d`,
 * whose keys are record keys) and the changing fields, without serialising the arguments again.
 */
export function recordJson(d: string, rec: TaskRecord, extra: string): string {
  let s = d.slice(0, -1) + ',"status":"' + rec.status + '","attempt":' + rec.attempt + ',"updatedAt":' + rec.updatedAt;
  if (rec.startedAt !== undefined) s += ',"startedAt":' + rec.startedAt;
  if (rec.finishedAt !== undefined) s += ',"finishedAt":' + rec.finishedAt;
  if (rec.workerId !== undefined) s += ',"workerId":' + JSON.stringify(rec.workerId);
  if (rec.progress !== undefined) s += ',"progress":' + JSON.stringify(rec.progress);
  if (rec.runAt !== undefined) s += ',"runAt":' + rec.runAt;
  return s + extra + '}';
}

const num = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));
const json = (v: string | undefined): unknown => (v === undefined || v === '' ? undefined : JSON.parse(v));

/** A record from an HGETALL reply (flat field/value list); undefined when the hash is gone. */
export function decodeRecord(flat: string[] | null | undefined): TaskRecord | undefined {
  if (!flat || flat.length === 0) return undefined;
  const h: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) h[flat[i]] = flat[i + 1];
  if (h.d === undefined) return undefined;
  const f = JSON.parse(h.d) as Fixed;
  const rec: TaskRecord = {
    id: f.id,
    name: f.name,
    status: (h.st ?? 'new') as TaskStatus,
    priority: f.priority,
    args: f.args,
    attempt: Number(h.att ?? 0),
    createdAt: f.createdAt,
    updatedAt: num(h.up) ?? f.createdAt,
  };
  const opt: Partial<TaskRecord> = {
    progress: json(h.prog),
    startedAt: num(h.sa),
    finishedAt: num(h.fa),
    returning: json(h.ret),
    error: json(h.err) as TaskErrorInfo | undefined,
    cancelReason: h.st === 'cancel' ? decodeOpt(h.cr) : undefined,
    parentId: f.parentId,
    workerId: h.wid,
    runAt: num(h.run),
    retry: f.retry,
    backoff: f.backoff,
    timeout: f.timeout,
    removeOnComplete: f.removeOnComplete,
    traceparent: f.traceparent,
    stalls: h.stl === undefined || h.stl === '0' ? undefined : Number(h.stl),
    seq: f.seq,
  };
  for (const [k, v] of Object.entries(opt)) if (v !== undefined) (rec as unknown as Record<string, unknown>)[k] = v;
  return rec;
}
