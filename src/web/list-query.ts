/**
 * The query string of `GET /api/tasks` → a `ListQuery`. Total: any query string gives a query or a
 * 400 `HttpError` (`QTASKS_ERR_WEB_BAD_REQUEST`) naming the parameter; it never throws anything else.
 */
import type { ListQuery } from '../engine/storage';
import { ErrorCodes } from '../errors';
import { TASK_STATUSES, TaskStatus } from '../task/task-record';
import { HttpError } from './http-error';

/** A list query with its paging resolved. */
export type WebListQuery = ListQuery & { limit: number; offset: number };

/** Largest page. */
export const MAX_LIMIT = 1_000;
/** Page size when none is given. */
export const DEFAULT_LIMIT = 50;
/** Farthest a time may be from the epoch (what a JavaScript Date holds). */
const MAX_TIME = 8.64e15;

/** A status, undefined for none; 400 for a name that is not a status. */
export function parseStatus(raw: string | null): TaskStatus | undefined {
  if (raw === null || raw === '') return undefined;
  if (!(TASK_STATUSES as readonly string[]).includes(raw)) {
    throw new HttpError(400, ErrorCodes.WEB_BAD_REQUEST, `Unknown status "${clip(raw)}": use one of ${TASK_STATUSES.join(', ')}`);
  }
  return raw as TaskStatus;
}

/** `status`, `name`, `since`, `until`, `limit`, `offset` → a list query. */
export function parseListQuery(params: URLSearchParams): WebListQuery {
  const statuses = [...new Set((params.get('status') ?? '').split(',').filter(Boolean))].map((s) => parseStatus(s) as TaskStatus);
  const query: WebListQuery = {
    limit: intParam(params, 'limit', DEFAULT_LIMIT, 1, MAX_LIMIT),
    offset: intParam(params, 'offset', 0, 0, Number.MAX_SAFE_INTEGER),
  };
  if (statuses.length > 0) query.status = statuses.length === 1 ? statuses[0] : statuses;
  const name = params.get('name');
  if (name) query.name = name;
  const since = params.get('since');
  const until = params.get('until');
  if (since) query.since = timeParam(since, 'since');
  if (until) query.until = timeParam(until, 'until');
  return query;
}

function intParam(params: URLSearchParams, key: string, dflt: number, min: number, max: number): number {
  const raw = params.get(key);
  if (raw === null || raw === '') return dflt;
  const n = /^\d{1,16}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new HttpError(400, ErrorCodes.WEB_BAD_REQUEST, `${key} must be an integer from ${min} to ${max}, got "${clip(raw)}"`);
  }
  return n;
}

/** A time as ms since epoch or an ISO date. */
function timeParam(raw: string, key: string): number {
  const n = /^\d{1,16}$/.test(raw) ? Number(raw) : /^\d+$/.test(raw) ? NaN : Date.parse(raw);
  if (!Number.isFinite(n) || Math.abs(n) > MAX_TIME) {
    throw new HttpError(400, ErrorCodes.WEB_BAD_REQUEST, `${key} must be ms since epoch or an ISO date, got "${clip(raw)}"`);
  }
  return n;
}

/** A parameter as quoted in an error message: long ones cut. */
function clip(raw: string): string {
  return raw.length > 64 ? `${raw.slice(0, 64)}…` : raw;
}
