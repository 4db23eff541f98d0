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
  return JSON.stringify(fixedPart(r, r.args));
}

/** The fields of `r` fixed at enqueue, with `args` as given. */
function fixedPart(r: TaskRecord, args: unknown[]): Fixed {
  const f: Fixed = { id: r.id, name: r.name, priority: r.priority, args, createdAt: r.createdAt };
  copyOptionalFixed(r, f);
  return f;
}

/**
 * The name and createdAt of the last common head, written: the records of a bulk add share them
 * mostly (one task name, built within a millisecond), so each is written once per run of records.
 */
const last = { name: '', nameJson: '""', createdAt: NaN, tail: '' };

/**
 * The JSON of field `d` as the enqueue script takes it: without its closing brace and ending in
 * `,"seq":`, so that the script completes it with the enqueue seq by one concatenation.
 */
export function fixedHead(r: TaskRecord): string {
  // the common record (no optional fixed field, finite numbers) written by hand: the same text as
  // JSON.stringify gives, without building the object first
  if (!hasOptionalFixed(r) && Number.isFinite(r.priority) && Number.isFinite(r.createdAt)) {
    const name = r.name;
    if (name !== last.name) {
      last.name = name;
      last.nameJson = JSON.stringify(name);
    }
    const createdAt = r.createdAt;
    if (createdAt !== last.createdAt) {
      last.createdAt = createdAt;
      last.tail = ',"createdAt":' + createdAt + ',"seq":';
    }
    return '{"id":' + JSON.stringify(r.id) + ',"name":' + last.nameJson + ',"priority":' + r.priority + ',"args":' + JSON.stringify(r.args) + last.tail;
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

/** True for a time or count field present but not a number. */
const badNum = (v: string | undefined): boolean => v !== undefined && !Number.isFinite(Number(v));

/** What {@link json} gives for text that does not parse. */
const NOT_JSON: unique symbol = Symbol('not JSON');

/** A JSON array field (logs, attempt history); one that does not decode is left out, not fatal. */
function list(v: string | undefined): unknown[] | undefined {
  const parsed = json(v);
  return Array.isArray(parsed) ? parsed : undefined;
}

/** A JSON field: its value (undefined when absent or empty), or {@link NOT_JSON}. */
function json(v: string | undefined): unknown {
  if (v === undefined || v === '') return undefined;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return NOT_JSON;
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
 * What a reply carries in place of field `d` when the caller gave the record's fixed part (see
 * {@link decodeRecord}'s `known`): never the JSON of a stored body.
 */
export const KNOWN_BODY = '=';

/** The fixed part of a record the caller holds (its args and headers copied). */
function fixedOf(r: TaskRecord): Fixed {
  const f = fixedPart(r, [...r.args]);
  if (r.headers !== undefined) f.headers = { ...r.headers };
  if (r.seq !== undefined) f.seq = r.seq;
  return f;
}

/**
 * The latest of the times given, undefined when none is. A record's `updatedAt` is the latest of
 * its `up`, `sa` and `fa` fields: a start or an end, which every claim and end writes, is not
 * written again as `up` (one field less per record, and per write).
 */
function latest(a: number | undefined, b: number | undefined, c: number | undefined): number | undefined {
  let t = a;
  if (b !== undefined && (t === undefined || b > t)) t = b;
  if (c !== undefined && (t === undefined || c > t)) t = c;
  return t;
}

/** The changing fields a bad record keeps, as read from its hash. */
function changingOf(attempt: number | undefined, up?: string, sa?: string, fa?: string, workerId?: string) {
  return { attempt, updatedAt: latest(num(up), num(sa), num(fa)), startedAt: num(sa), finishedAt: num(fa), workerId };
}

/**
 * A record from an HGETALL reply (flat field/value list) of task `id`; undefined when the hash is
 * gone. Never throws: a record that cannot be decoded comes back as a `QTASKS_ERR_BAD_RECORD`
 * error record (see {@link badRecord}). A reply whose `d` is {@link KNOWN_BODY} takes the fixed
 * part from `known` (the same task, as the caller holds it) instead of decoding it again.
 */
export function decodeRecord(flat: string[] | null | undefined, id: string, known?: TaskRecord): TaskRecord | undefined {
  if (!flat || flat.length === 0) return undefined;
  // the fields read by name, without building a dictionary (this runs twice per task on some paths)
  let d: string | undefined, st: string | undefined, att: string | undefined, up: string | undefined, sa: string | undefined;
  let fa: string | undefined, wid: string | undefined, prog: string | undefined, ret: string | undefined, errText: string | undefined;
  let cr: string | undefined, run: string | undefined, lg: string | undefined, ah: string | undefined, stl: string | undefined;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const v = flat[i + 1];
    switch (flat[i]) {
      case 'd': d = v; break;
      case 'st': st = v; break;
      case 'att': att = v; break;
      case 'up': up = v; break;
      case 'sa': sa = v; break;
      case 'fa': fa = v; break;
      case 'wid': wid = v; break;
      case 'prog': prog = v; break;
      case 'ret': ret = v; break;
      case 'err': errText = v; break;
      case 'cr': cr = v; break;
      case 'run': run = v; break;
      case 'lg': lg = v; break;
      case 'ah': ah = v; break;
      case 'stl': stl = v; break;
    }
  }
  const dec: FixedDecoded = d === KNOWN_BODY && known !== undefined ? { fixed: fixedOf(known) } : decodeFixed(d, id);
  const attempt = num(att ?? '0');
  const err = json(errText);
  if (dec.problem !== undefined) {
    return badRecord(id, dec.problem, { ...dec.partial, ...changingOf(attempt, up, sa, fa, wid), error: err === NOT_JSON ? undefined : err });
  }
  const f = dec.fixed;
  const status = st ?? 'new';
  const progress = json(prog);
  const returning = json(ret);
  const problem = !isStatus(status)
    ? 'its status is unknown'
    : !Number.isSafeInteger(attempt) || (attempt as number) < 0
      ? 'its attempt is not a count'
      : progress === NOT_JSON
        ? 'its progress is not JSON'
        : returning === NOT_JSON
          ? 'its result is not JSON'
          : err === NOT_JSON || (err !== undefined && (err === null || typeof err !== 'object'))
            ? 'its error is not a JSON object'
            : badNum(up) || badNum(sa) || badNum(fa) || badNum(run) || badNum(stl)
              ? 'a time or count on it is not a number'
              : undefined;
  if (problem !== undefined) return badRecord(id, problem, { ...f, ...changingOf(attempt, up, sa, fa, wid) });
  const rec: TaskRecord = {
    id: f.id,
    name: f.name,
    status: status as TaskStatus,
    priority: f.priority,
    args: f.args,
    attempt: attempt as number,
    createdAt: f.createdAt,
    updatedAt: latest(num(up), num(sa), num(fa)) ?? f.createdAt,
  };
  // the optional fields in this order, each only when it has a value
  if (progress !== undefined) rec.progress = progress;
  const startedAt = notBefore(num(sa), f.createdAt);
  if (startedAt !== undefined) rec.startedAt = startedAt;
  if (fa !== undefined) rec.finishedAt = Number(fa);
  if (returning !== undefined) rec.returning = returning;
  if (err !== undefined) rec.error = err as TaskErrorInfo;
  if (status === 'cancel') {
    const reason = decodeOpt(cr);
    if (reason !== undefined) rec.cancelReason = reason;
  }
  if (f.parentId !== undefined) rec.parentId = f.parentId;
  if (wid !== undefined) rec.workerId = wid;
  if (run !== undefined) rec.runAt = Number(run);
  if (f.retry !== undefined) rec.retry = f.retry;
  if (f.backoff !== undefined) rec.backoff = f.backoff;
  if (f.timeout !== undefined) rec.timeout = f.timeout;
  if (f.removeOnComplete !== undefined) rec.removeOnComplete = f.removeOnComplete;
  if (f.removeOnFail !== undefined) rec.removeOnFail = f.removeOnFail;
  const logs = list(lg);
  if (logs !== undefined) rec.logs = logs as TaskRecord['logs'];
  if (f.headers !== undefined) rec.headers = f.headers;
  if (stl !== undefined && stl !== '0') rec.stalls = Number(stl);
  if (f.seq !== undefined) rec.seq = f.seq;
  const attempts = attemptsOf(rec, list(ah) as AttemptInfo[] | undefined);
  if (attempts !== undefined) rec.attempts = attempts;
  return rec;
}
