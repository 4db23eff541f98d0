/**
 * The JSON API of the web view. Reads are open; actions need the token. Unknown ids answer 404,
 * actions a task's status does not allow answer 409, and nothing changes in either case.
 */
import type { IncomingMessage } from 'node:http';
import type { WebHost } from './web-host';
import { ErrorCodes } from '../errors';
import type { TaskRecord } from '../task/task-record';
import { hasToken, requireToken } from './auth';
import { HttpError } from './http-error';
import { parseListQuery, parseStatus } from './list-query';

/** What a handler gets. */
export interface ApiRequest {
  app: WebHost;
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

/** A part of a view that could not be read (the rest of the view is still served). */
export interface ViewProblem {
  part: string;
  code: string;
  message: string;
}

/** The value of a read, or `fallback` with the failure noted in `problems`. */
async function settle<T, F>(part: string, read: () => Promise<T>, fallback: F, problems: ViewProblem[]): Promise<T | F> {
  try {
    return await read();
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    problems.push({ part, code: typeof e?.code === 'string' ? e.code : 'QTASKS_ERR_INTERNAL', message: typeof e?.message === 'string' ? e.message : String(err) });
    return fallback;
  }
}

/**
 * The counts, workers and pause flag of the queue (also what `/api/events` pushes). A part that
 * cannot be read (an engine down, an entry it cannot decode) is listed in `problems`; the others
 * are still served, and when every part failed the first failure is thrown.
 */
export async function queueSnapshot(app: WebHost, queue?: string): Promise<Record<string, unknown>> {
  // an unknown queue is a 404, not a view of problems
  if (queue !== undefined) await app.manager.isPaused(queue);
  const problems: ViewProblem[] = [];
  const [counts, workers, paused] = await Promise.all([
    settle('counts', () => app.manager.counts(queue), {}, problems),
    settle('workers', () => app.manager.workers(queue ?? app.name), [], problems),
    settle('paused', () => app.manager.isPaused(queue), false, problems),
  ]);
  if (problems.length === 3) throw new HttpError(503, problems[0].code, problems[0].message);
  return { queue: queue ?? app.name, paused, counts, workers, at: Date.now(), ...(problems.length > 0 ? { problems } : {}) };
}

/** The `?queue=` of a request: the queue a view or action is about (default: the app's own). */
function queueOf(url: URL): string | undefined {
  const q = url.searchParams.get('queue');
  return q === null || q === '' ? undefined : q;
}

const ROUTES: Route[] = [
  {
    method: 'GET',
    pattern: /^\/api\/stats$/,
    action: false,
    handle: async ({ app, url }) => {
      const raw = url.searchParams.get('sinceMs');
      const sinceMs = raw === null ? undefined : Number(raw);
      if (sinceMs !== undefined && !(Number.isFinite(sinceMs) && sinceMs >= 0)) {
        throw new HttpError(400, ErrorCodes.WEB_BAD_REQUEST, 'sinceMs takes a number of milliseconds (0 or more)');
      }
      const queue = queueOf(url);
      return { body: { queue: queue ?? app.name, stats: await app.manager.stats({ ...(sinceMs === undefined ? {} : { sinceMs }), ...(queue === undefined ? {} : { queue }) }) } };
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/schedules$/,
    action: false,
    handle: async ({ app }) => ({ body: { schedules: await app.manager.schedules() } }),
  },
  {
    method: 'POST',
    pattern: /^\/api\/workers\/([^/]+)\/(pause|resume|stop|concurrency)$/,
    action: true,
    handle: async ({ app, params, url }) => {
      const [id, op] = params;
      const m = app.manager;
      if (op === 'pause') await m.pauseWorker(id);
      else if (op === 'resume') await m.resumeWorker(id);
      else if (op === 'stop') await m.stopWorker(id);
      else {
        const n = Number(url.searchParams.get('n'));
        if (!Number.isInteger(n) || n < 1) throw new HttpError(400, ErrorCodes.WEB_BAD_REQUEST, 'concurrency takes ?n= an integer of 1 or more');
        await m.setConcurrency(id, n);
      }
      return { body: { ok: true, workers: await m.workers() } };
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/queue$/,
    action: false,
    handle: async ({ app, req, url, token }) => ({ body: { ...(await queueSnapshot(app, queueOf(url))), canAct: hasToken(req, token) } }),
  },
  {
    method: 'GET',
    pattern: /^\/api\/queues$/,
    action: false,
    handle: async ({ app }) => ({ body: { queue: app.name, queues: await app.manager.queues() } }),
  },
  {
    method: 'GET',
    pattern: /^\/api\/tasks$/,
    action: false,
    handle: async ({ app, url }) => {
      const query = parseListQuery(url.searchParams);
      const queue = queueOf(url);
      return { body: { tasks: await app.manager.list(queue === undefined ? query : { ...query, queue }), limit: query.limit, offset: query.offset } };
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
    handle: async ({ app, params, url }) => {
      const queue = queueOf(url);
      if (params[0] === 'pause') await app.manager.pause(queue);
      else await app.manager.resume(queue);
      return { body: { ok: true, paused: await app.manager.isPaused(queue) } };
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/queue\/purge$/,
    action: true,
    handle: async ({ app, url }) => {
      const status = parseStatus(url.searchParams.get('status'));
      if (status === undefined || status === 'process' || status === 'waiting') {
        throw new HttpError(400, ErrorCodes.WEB_BAD_REQUEST, 'purge takes ?status= one of new, delayed, retry, success, error, cancel (never process or waiting)');
      }
      return { body: { ok: true, removed: await app.manager.purge(status, queueOf(url)) } };
    },
  },
];

/** Finds and runs the route of a request; throws 404/405 HttpErrors for unknown ones. */
export async function handleApi(app: WebHost, req: IncomingMessage, url: URL, token: string): Promise<{ status?: number; body: unknown }> {
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

/**
 * A task with its stream items, parent and children. The record is served as stored, however
 * incomplete; items, parent or children that cannot be read are listed in `problems` instead.
 */
async function taskDetail(app: WebHost, id: string): Promise<Record<string, unknown>> {
  const task = await app.manager.get(id);
  if (task === undefined || task === null) throw notFound(id);
  const problems: ViewProblem[] = [];
  const createdAt = finiteTime(task.createdAt);
  const parentId = typeof task.parentId === 'string' ? task.parentId : undefined;
  const [items, recent, parent] = await Promise.all([
    settle('items', () => app.manager.items(id), [], problems),
    // children are enqueued while the task runs: scan only its lifetime
    createdAt === undefined
      ? []
      : settle('children', () => app.manager.list({ since: createdAt, until: (finiteTime(task.finishedAt) ?? Date.now()) + 1, limit: CHILD_SCAN }), [], problems),
    parentId === undefined ? undefined : settle('parent', () => app.manager.get(parentId), undefined, problems),
  ]);
  const list = Array.isArray(items) ? items : [];
  const children = (Array.isArray(recent) ? recent : []).filter((r) => r?.parentId === id).map(brief);
  return {
    task,
    items: list.slice(0, MAX_ITEMS),
    itemCount: list.length,
    parent: parent ? brief(parent) : parentId === undefined ? undefined : { id: parentId, missing: true },
    children,
    ...(problems.length > 0 ? { problems } : {}),
  };
}

function finiteTime(t: unknown): number | undefined {
  return typeof t === 'number' && Number.isFinite(t) ? t : undefined;
}

function brief(r: TaskRecord): Record<string, unknown> {
  return { id: r.id, name: r.name, status: r.status, attempt: r.attempt };
}

/** After an action the manager refused: 404 for an unknown id, 409 otherwise. */
async function refuse(app: WebHost, id: string, what: string): Promise<never> {
  const rec = await app.manager.get(id);
  if (rec === undefined) throw notFound(id);
  throw new HttpError(409, ErrorCodes.WEB_CONFLICT, `Task ${id} is ${rec.status} and cannot be ${what}`);
}

function notFound(id: string): HttpError {
  return new HttpError(404, ErrorCodes.TASK_NOT_FOUND, `No task with id "${id}": it never existed, was removed, or its record expired`);
}
