/**
 * Errors of the web view's HTTP API: each carries its HTTP status and a stable qtasks code, and is
 * sent as `{ error: { code, message } }`.
 */
import type { ServerResponse } from 'node:http';
import { ErrorCodes, QTasksError } from '../errors';

/** An error with an HTTP status. */
export class HttpError extends QTasksError {
  constructor(readonly status: number, code: string, message: string) {
    super(code, message);
  }
}

/** Writes `body` as JSON. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(text);
}

/** HTTP status of the qtasks errors a view can meet (others are 500). */
const STATUS_OF: Record<string, number> = {
  [ErrorCodes.BROKER_UNAVAILABLE]: 503,
  [ErrorCodes.CLOSED]: 503,
  [ErrorCodes.BAD_OPTION]: 400,
  [ErrorCodes.WORKER_NOT_FOUND]: 404,
  [ErrorCodes.UNKNOWN_QUEUE]: 404,
  [ErrorCodes.WORKER_UNRESPONSIVE]: 504,
  [ErrorCodes.UNSUPPORTED]: 501,
};

/** Writes an error as `{ error: { code, message } }` with its HTTP status. */
export function sendError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (err instanceof HttpError) {
    sendJson(res, err.status, { error: { code: err.code, message: err.message } });
    return;
  }
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : 'QTASKS_ERR_INTERNAL';
  const status = STATUS_OF[code] ?? 500;
  sendJson(res, status, { error: { code, message: typeof e?.message === 'string' ? e.message : String(err) } });
}
