/**
 * How a task record is kept in Redis: one hash per task. The fields fixed at enqueue are one JSON
 * string (`d`); the fields that change are separate hash fields so that Lua scripts update them
 * without decoding JSON.
 */
import type { TaskErrorInfo } from '../../errors';
import { AttemptInfo, attemptsOf } from '../../task/task-history';
import type { TaskRecord, TaskStatus } from '../../task/task-record';
import { badRecord, isFiniteNumber, isStatus, recordProblem } from '../bad-record';
import { copyOptionalFixed, hasOptionalFixed, OptionalFixed } from '../shared/fixed-fields';

/** The fields fixed at enqueue (kept as one JSON string). */
export interface Fixed extends OptionalFixed {
  id: string;
  name: string;
  priority: number;
  args: unknown[];
  createdAt: number;
  /** Enqueue sequence, added by the enqueue script. */
  seq?: number;
}

/** The JSON kept in field `d`. */
export function fixedJson(r: TaskRecord): string {
  const f: Fixed = { id: r.id, name: r.name, priority: r.priority, args: r.args, createdAt: r.createdAt };
  copyOptionalFixed(r, f);
  return JSON.stringify(f);
}

/**
 * The JSON of field `d` as the enqueue script takes it: without its closing brace and ending in
 * `,"seq":`, so that the script completes it with the enqueue seq by one concatenation.
 */
export function fixedHead(r: TaskRecord): string {
  // the common record (no optional fixed field, finite numbers) written by hand: the same text as
  // JSON.stringify gives, without building the object first
  if (!hasOptionalFixed(r) && Number.isFinite(r.priority) && Number.isFinite(r.createdAt)) {
    return '{"id":' + JSON.stringify(r.id) + ',"name":' + JSON.stringify(r.name) + ',"priority":' + r.priority + ',"args":' + JSON.stringify(r.args) + ',"createdAt":' + r.createdAt + ',"seq":';
  }
  const json = fixedJson(r);
  return json.slice(0, -1) + ',"seq":';
}

/** An optional string as kept in Redis: '-' for none, '=' + value otherwise. */
export function encodeOpt(v: string | undefined): string {
  return v === undefined ? '-' : '=' + v;
}

export function decodeOpt(v: string | undefined): string | undefined {
  return v !== undefined && v.charCodeAt(0) === 61 /* = */ ? v.slice(1) : undefined;
}

/** The fixed part stored in `d`, or what is wrong with it. */
export type FixedDecoded = { fixed: Fixed; problem?: undefined } | { fixed?: undefined; problem: string; partial: Partial<Fixed> };

/** Decodes and checks the fixed part of task `id`; never throws. */
export function decodeFixed(d: string | undefined, id: string): FixedDecoded {
  if (d === undefined || d === '') return { problem: 'its body is missing', partial: {} };
  let f: unknown;
  try {
    f = JSON.parse(d);
  } catch {
    return { problem: 'its body is not JSON', partial: {} };
  }
  if (f === null || typeof f !== 'object' || Array.isArray(f)) return { problem: 'its body is not an object', partial: {} };
  const fixed = f as Fixed;
  const problem = recordProblem(fixed, id) ?? (fixed.seq !== undefined && !isFiniteNumber(fixed.seq) ? 'its seq is not a number' : undefined);
  return problem === undefined ? { fixed } : { problem, partial: fixed };
}

/** A claimed task: its record (status `process`), or the reason it cannot run. */
export type Claimed = { rec: TaskRecord; bad?: undefined } | { rec: TaskRecord; bad: string };

/** A record from the fields of a claimed task (status `process`); never throws. */
export function claimedRecord(id: string, d: string, attempt: number, now: number, workerId: string): Claimed {
  const dec = decodeFixed(d, id);
  if (dec.problem !== undefined) {
    const f = dec.partial;
    const rec: TaskRecord = {
      id,
      name: typeof f.name === 'string' ? f.name : '',
      status: 'process',
      priority: 0,
      args: [],
      attempt,
      createdAt: isFiniteNumber(f.createdAt) ? f.createdAt : now,
      updatedAt: now,
      startedAt: now,
      workerId,
    };
    return { rec, bad: dec.problem };
  }
  const f = dec.fixed;
  const rec: TaskRecord = {
    id: f.id,
    name: f.name,
    status: 'process',
    priority: f.priority,
    args: f.args,
    attempt,
    createdAt: f.createdAt,
    updatedAt: now,
    startedAt: notBefore(now, f.createdAt),
    parentId: f.parentId,
    workerId,
    retry: f.retry,
    backoff: f.backoff,
    timeout: f.timeout,
    removeOnComplete: f.removeOnComplete,
    removeOnFail: f.removeOnFail,
  };
  if (f.seq !== undefined) rec.seq = f.seq;
  if (f.headers !== undefined) rec.headers = f.headers;
  return { rec };
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

/** A number field, NaN when present but not a number. */
const num = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));

/** A JSON field: `{ v }`, or undefined when it does not parse. */
/** A JSON array field (logs, attempt history); one that does not decode is left out, not fatal. */
function list(v: string | undefined): unknown[] | undefined {
  const parsed = json(v)?.v;
  return Array.isArray(parsed) ? parsed : undefined;
}

function json(v: string | undefined): { v: unknown } | undefined {
  if (v === undefined || v === '') return { v: undefined };
  try {
    return { v: JSON.parse(v) };
  } catch {
    return undefined;
  }
}

/**
 * A start time never shown before the task's creation: a claim sent just before the task was
 * enqueued (it takes it as it arrives) carries the earlier time of its call, and the producer's
 * and the worker's clocks may differ by a few ms.
 */
function notBefore(t: number | undefined, createdAt: number): number | undefined {
  return t === undefined || t >= createdAt ? t : createdAt;
}

/**
 * A record from an HGETALL reply (flat field/value list) of task `id`; undefined when the hash is
 * gone. Never throws: a record that cannot be decoded comes back as a `QTASKS_ERR_BAD_RECORD`
 * error record (see {@link badRecord}).
 */
export function decodeRecord(flat: string[] | null | undefined, id: string): TaskRecord | undefined {
  if (!flat || flat.length === 0) return undefined;
  const h: Record<string, string> = Object.create(null) as Record<string, string>;
  for (let i = 0; i + 1 < flat.length; i += 2) h[flat[i]] = flat[i + 1];
  const dec = decodeFixed(h.d, id);
  const att = num(h.att ?? '0');
  const known = {
    attempt: att,
    updatedAt: num(h.up),
    startedAt: num(h.sa),
    finishedAt: num(h.fa),
    workerId: h.wid,
  };
  const err = json(h.err);
  if (dec.problem !== undefined) return badRecord(id, dec.problem, { ...dec.partial, ...known, error: err?.v });
  const f = dec.fixed;
  const st = h.st ?? 'new';
  const prog = json(h.prog);
  const ret = json(h.ret);
  const problem = !isStatus(st)
    ? 'its status is unknown'
    : !Number.isSafeInteger(att) || (att as number) < 0
      ? 'its attempt is not a count'
      : prog === undefined
        ? 'its progress is not JSON'
        : ret === undefined
          ? 'its result is not JSON'
          : err === undefined || (err.v !== undefined && (err.v === null || typeof err.v !== 'object'))
            ? 'its error is not a JSON object'
            : [h.up, h.sa, h.fa, h.run, h.stl].some((v) => v !== undefined && !Number.isFinite(Number(v)))
              ? 'a time or count on it is not a number'
              : undefined;
  if (problem !== undefined || prog === undefined || ret === undefined || err === undefined) {
    return badRecord(id, problem ?? 'a field is not JSON', { ...f, ...known });
  }
  const rec: TaskRecord = {
    id: f.id,
    name: f.name,
    status: st as TaskStatus,
    priority: f.priority,
    args: f.args,
    attempt: att as number,
    createdAt: f.createdAt,
    updatedAt: num(h.up) ?? f.createdAt,
  };
  const opt: Partial<TaskRecord> = {
    progress: prog.v,
    startedAt: notBefore(num(h.sa), f.createdAt),
    finishedAt: num(h.fa),
    returning: ret.v,
    error: err.v as TaskErrorInfo | undefined,
    cancelReason: st === 'cancel' ? decodeOpt(h.cr) : undefined,
    parentId: f.parentId,
    workerId: h.wid,
    runAt: num(h.run),
    retry: f.retry,
    backoff: f.backoff,
    timeout: f.timeout,
    removeOnComplete: f.removeOnComplete,
    removeOnFail: f.removeOnFail,
    logs: list(h.lg) as TaskRecord['logs'],
    headers: f.headers,
    stalls: h.stl === undefined || h.stl === '0' ? undefined : Number(h.stl),
    seq: f.seq,
  };
  for (const [k, v] of Object.entries(opt)) if (v !== undefined) (rec as unknown as Record<string, unknown>)[k] = v;
  const attempts = attemptsOf(rec, list(h.ah) as AttemptInfo[] | undefined);
  if (attempts !== undefined) rec.attempts = attempts;
  return rec;
}
