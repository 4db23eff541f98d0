/**
 * The JSON API of the web view. Reads are open; actions need the token. Unknown ids answer 404,
 * actions a task's status does not allow answer 409, and nothing changes in either case.
 */
import type { IncomingMessage } from 'node:http';
import type { QTasks } from '../app/qtasks';
import { ErrorCodes } from '../errors';
import type { ListQuery } from '../engine/storage';
import { TASK_STATUSES, TaskRecord, TaskStatus } from '../task/task-record';
import { hasToken, requireToken } from './auth';
import { HttpError } from './http-error';

/** What a handler gets. */
export interface ApiRequest {
  app: QTasks;
  req: IncomingMessage;
  url: URL;
  params: string[];
  token: string;
}

/** One route: method, path pattern, and whether it changes anything (then it needs the token). */
interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  pattern: RegExp;
  action: boolean;
  handle: (r: ApiRequest) => Promise<{ status?: number; body: unknown }>;
}

/** Stream items returned with a task's detail at most. */
const MAX_ITEMS = 1_000;
/** Tasks scanned for the children of a task (the newest of its lifetime). */
const CHILD_SCAN = 1_000;

/** The counts, workers and pause flag of the queue (also what `/api/events` pushes). */
export async function queueSnapshot(app: QTasks): Promise<Record<string, unknown>> {
  const [counts, workers, paused] = await Promise.all([app.manager.counts(), app.manager.workers(), app.manager.isPaused()]);
  return { queue: app.name, paused, counts, workers, at: Date.now() };
}

const ROUTES: Route[] = [
  {
    method: 'GET',
    pattern: /^\/api\/queue$/,
    action: false,
    handle: async ({ app, req, token }) => ({ body: { ...(await queueSnapshot(app)), canAct: hasToken(req, token) } }),
  },
  {
    method: 'GET',
    pattern: /^\/api\/tasks$/,
    action: false,
    handle: async ({ app, url }) => {
      const query = listQuery(url.searchParams);
      return { body: { tasks: await app.manager.list(query), limit: query.limit, offset: query.offset } };
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/tasks\/([^/]+)$/,
    action: false,
    handle: async ({ app, params }) => ({ body: await taskDetail(app, params[0]) }),
  },
  {
    method: 'POST',
    pattern: /^\/api\/tasks\/([^/]+)\/retry$/,
    action: true,
    handle: async ({ app, params }) => {
      const id = params[0];
      if (!(await app.manager.retry(id))) await refuse(app, id, 'retried: only error and cancel tasks can be retried');
      return { body: { ok: true, task: await app.manager.get(id) } };
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/tasks\/([^/]+)\/cancel$/,
    action: true,
    handle: async ({ app, params, url }) => {
      const id = params[0];
      const reason = url.searchParams.get('reason') ?? 'cancelled from the web view';
      if (!(await app.manager.cancel(id, reason))) await refuse(app, id, 'cancelled: it has ended already');
      return { body: { ok: true, task: await app.manager.get(id) } };
    },
  },
  {
    method: 'DELETE',
    pattern: /^\/api\/tasks\/([^/]+)$/,
    action: true,
    handle: async ({ app, params }) => {
      const id = params[0];
      if (!(await app.manager.remove(id))) await refuse(app, id, 'removed while it runs: cancel it first');
      return { body: { ok: true, id } };
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/queue\/(pause|resume)$/,
    action: true,
    handle: async ({ app, params }) => {
      if (params[0] === 'pause') await app.manager.pause();
      else await app.manager.resume();
      return { body: { ok: true, paused: await app.manager.isPaused() } };
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/queue\/purge$/,
    action: true,
    handle: async ({ app, url }) => {
      const status = parseStatus(url.searchParams.get('status'));
      if (status === undefined || status === 'process') {
        throw new HttpError(400, ErrorCodes.WEB_BAD_REQUEST, 'purge takes ?status= one of new, delayed, retry, success, error, cancel (never process)');
      }
      return { body: { ok: true, removed: await app.manager.purge(status) } };
    },
  },
];

/** Finds and runs the route of a request; throws 404/405 HttpErrors for unknown ones. */
export async function handleApi(app: QTasks, req: IncomingMessage, url: URL, token: string): Promise<{ status?: number; body: unknown }> {
  let pathMatched = false;
  for (const route of ROUTES) {
    const m = route.pattern.exec(url.pathname);
    if (!m) continue;
    pathMatched = true;
    if (route.method !== req.method) continue;
    if (route.action) requireToken(req, token);
    const params = m.slice(1).map(decodeParam);
    return route.handle({ app, req, url, params, token });
  }
  if (pathMatched) throw new HttpError(405, ErrorCodes.WEB_BAD_REQUEST, `${req.method} is not allowed on ${url.pathname}`);
  throw new HttpError(404, ErrorCodes.WEB_NOT_FOUND, `No API route ${req.method} ${url.pathname}`);
}

function decodeParam(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    throw new HttpError(400, ErrorCodes.WEB_BAD_REQUEST, `Malformed path segment "${p}"`);
  }
}

/** A task with its stream items, parent and children. */
async function taskDetail(app: QTasks, id: string): Promise<Record<string, unknown>> {
  const task = await app.manager.get(id);
  if (task === undefined) throw notFound(id);
  const [items, recent, parent] = await Promise.all([
    app.storage.items(id),
    // children are enqueued while the task runs: scan only its lifetime
    app.manager.list({ since: task.createdAt, until: (task.finishedAt ?? Date.now()) + 1, limit: CHILD_SCAN }),
    task.parentId === undefined ? undefined : app.manager.get(task.parentId),
  ]);
  const children = recent.filter((r) => r.parentId === id).map(brief);
  return {
    task,
    items: items.slice(0, MAX_ITEMS),
    itemCount: items.length,
    parent: parent ? brief(parent) : task.parentId === undefined ? undefined : { id: task.parentId, missing: true },
    children,
  };
}

function brief(r: TaskRecord): Record<string, unknown> {
  return { id: r.id, name: r.name, status: r.status, attempt: r.attempt };
}

/** After an action the manager refused: 404 for an unknown id, 409 otherwise. */
async function refuse(app: QTasks, id: string, what: string): Promise<never> {
  const rec = await app.manager.get(id);
  if (rec === undefined) throw notFound(id);
  throw new HttpError(409, ErrorCodes.WEB_CONFLICT, `Task ${id} is ${rec.status} and cannot be ${what}`);
}

function notFound(id: string): HttpError {
  return new HttpError(404, ErrorCodes.TASK_NOT_FOUND, `No task with id "${id}": it never existed, was removed, or its record expired`);
}

function parseStatus(raw: string | null): TaskStatus | undefined {
  if (raw === null || raw === '') return undefined;
  if (!(TASK_STATUSES as readonly string[]).includes(raw)) {
    throw new HttpError(400, ErrorCodes.WEB_BAD_REQUEST, `Unknown status "${raw}": use one of ${TASK_STATUSES.join(', ')}`);
  }
  return raw as TaskStatus;
}

function listQuery(params: URLSearchParams): ListQuery & { limit: number; offset: number } {
  const statuses = (params.get('status') ?? '').split(',').filter(Boolean).map((s) => parseStatus(s)!);
  const query: ListQuery & { limit: number; offset: number } = {
    limit: intParam(params, 'limit', 50, 1, 1_000),
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
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new HttpError(400, ErrorCodes.WEB_BAD_REQUEST, `${key} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return n;
}

/** A time as ms since epoch or an ISO date. */
function timeParam(raw: string, key: string): number {
  const n = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(n)) throw new HttpError(400, ErrorCodes.WEB_BAD_REQUEST, `${key} must be ms since epoch or an ISO date, got "${raw}"`);
  return n;
}
