/**
 * The web view of one app: a small HTTP server (Node's `http`, no framework) serving the page,
 * the JSON API and the event stream. Bound to 127.0.0.1 unless told otherwise; answers only the
 * Host names it is reached by (host-check.ts); actions need a token, generated at `listen()` when
 * none is given.
 */
import { readFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { WebHost } from './web-host';
import { unknownOption } from '../config/unknown-option';
import { ErrorCodes, QTasksError } from '../errors';
import { handleApi, queueSnapshot } from './api-routes';
import { randomToken } from './auth';
import { EventStream } from './event-stream';
import { createHostCheck } from './host-check';
import { HttpError, sendError, sendJson } from './http-error';
import { resolveWebOptions, WebOptions } from './web-options';

/** Options of `app.web.listen()`; `allowedHosts` and `maxClients` override the app's `web` options. */
export interface WebListenOptions extends WebOptions {
  /** TCP port (default 7420; 0 picks a free one). */
  port?: number;
  /** Interface to bind (default `127.0.0.1`: only this machine). */
  host?: string;
  /** Token that actions need (default: `QTASKS_WEB_TOKEN`, else a random one). */
  token?: string;
  /** How often the queue snapshot is pushed to connected pages, in ms (default 1000). */
  refreshMs?: number;
}

/** Where the web view listens. */
export interface WebAddress {
  /** `http://host:port/` */
  url: string;
  host: string;
  port: number;
  /** The token actions need. */
  token: string;
  /** True when the token was generated (print it for the operator). */
  generatedToken: boolean;
}

const LISTEN_KEYS: readonly string[] = ['port', 'host', 'token', 'refreshMs', 'allowedHosts', 'maxClients'];

/** Default port of the web view. */
export const DEFAULT_WEB_PORT = 7420;

let pageCache: string | undefined;

/** The page, read once from `page.html` beside this module. */
function page(): string {
  return (pageCache ??= readFileSync(join(__dirname, 'page.html'), 'utf8'));
}

/**
 * Serves the web view of an app.
 * @example
 * ```ts
 * const { url, token } = await app.web.listen({ port: 7420 });
 * ```
 */
export class WebServer {
  private server: Server | undefined;
  private events: EventStream | undefined;
  private current: WebAddress | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly app: WebHost,
    private readonly options: WebOptions = {},
  ) {}

  /** Where it listens, undefined when it does not. */
  get address(): WebAddress | undefined {
    return this.current;
  }

  /**
   * Starts listening. Rejects `QTASKS_ERR_WEB_PORT_IN_USE` when the port is taken and
   * `QTASKS_ERR_INVALID_STATE` when already listening.
   */
  async listen(options: WebListenOptions = {}): Promise<WebAddress> {
    if (this.server) throw new QTasksError(ErrorCodes.INVALID_STATE, `The web view listens already on ${this.current?.url}; close() it first`);
    if (this.app.isClosed) throw new QTasksError(ErrorCodes.CLOSED, 'web.listen() after close(): create a new app to go on');
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? DEFAULT_WEB_PORT;
    if (!Number.isInteger(port) || port < 0 || port > 65_535) {
      throw new QTasksError(ErrorCodes.BAD_OPTION, `The web view port must be an integer from 0 to 65535, got ${port}`);
    }
    for (const key of Object.keys(options)) {
      if ((options as Record<string, unknown>)[key] !== undefined && !LISTEN_KEYS.includes(key)) throw unknownOption(`listen() has no option "${key}"`, key, LISTEN_KEYS);
    }
    const settings = resolveWebOptions(options, this.options);
    const given = options.token ?? process.env.QTASKS_WEB_TOKEN;
    const token = given && given.length > 0 ? given : randomToken();
    const events = new EventStream(this.app, queueSnapshot, options.refreshMs ?? 1_000, settings.maxClients);
    // the check needs the bound port (port 0 picks one): set once listening, refuse everything before
    let hostAllowed: (header: string | undefined) => boolean = () => false;
    const server = createServer((req, res) => void this.handle(req, res, token, events, hostAllowed));
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        server.off('listening', onListening);
        reject(
          err.code === 'EADDRINUSE'
            ? new QTasksError(ErrorCodes.WEB_PORT_IN_USE, `Port ${port} on ${host} is in use: stop what uses it or pick another port (--port / listen({ port }))`, { cause: err })
            : new QTasksError(ErrorCodes.BAD_OPTION, `The web view cannot listen on ${host}:${port}: ${err.message}`, { cause: err }),
        );
      };
      const onListening = () => {
        server.off('error', onError);
        resolve();
      };
      server.once('error', onError);
      server.once('listening', onListening);
      server.listen(port, host);
    });
    const bound = (server.address() as AddressInfo).port;
    hostAllowed = createHostCheck({ boundHost: host, port: bound, allowedHosts: settings.allowedHosts });
    const urlHost = host.includes(':') ? `[${host}]` : host;
    this.server = server;
    this.events = events;
    this.closing = undefined;
    this.current = { url: `http://${urlHost}:${bound}/`, host, port: bound, token, generatedToken: token !== given };
    this.app.logger.info('Web view listening', { url: this.current.url, ...(this.current.generatedToken ? { token } : {}) });
    return this.current;
  }

  /** Stops listening and ends every event stream; idempotent. */
  close(): Promise<void> {
    const server = this.server;
    if (!server) return this.closing ?? Promise.resolve();
    this.server = undefined;
    this.current = undefined;
    this.events?.close();
    this.events = undefined;
    this.closing = new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return this.closing;
  }

  private async handle(
    req: IncomingMessage,
    res: ServerResponse,
    token: string,
    events: EventStream,
    hostAllowed: (header: string | undefined) => boolean,
  ): Promise<void> {
    try {
      if (!hostAllowed(req.headers.host)) {
        throw new HttpError(
          403,
          ErrorCodes.WEB_FORBIDDEN,
          `Host "${String(req.headers.host ?? '')}" is not how this web view is reached: open it at ${this.current?.url ?? 'its address'}, or list the name in web.allowedHosts`,
        );
      }
      const url = requestUrl(req.url);
      if (url.pathname === '/' || url.pathname === '/index.html') {
        if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, ErrorCodes.WEB_BAD_REQUEST, `${req.method} is not allowed on /`);
        const html = page();
        res.writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'content-length': Buffer.byteLength(html),
          'cache-control': 'no-store',
          'x-content-type-options': 'nosniff',
          'x-frame-options': 'DENY',
          'content-security-policy': "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:",
        });
        res.end(req.method === 'HEAD' ? undefined : html);
        return;
      }
      if (url.pathname === '/favicon.ico') {
        res.writeHead(204, { 'cache-control': 'max-age=86400' });
        res.end();
        return;
      }
      if (url.pathname === '/api/events' && req.method === 'GET') {
        events.open(req, res);
        return;
      }
      const { status, body } = await handleApi(this.app, req, url, token);
      sendJson(res, status ?? 200, body);
    } catch (err) {
      sendError(res, err);
    }
  }
}

/** The request target as a URL; 400 for one that does not parse. */
function requestUrl(target: string | undefined): URL {
  const path = target ?? '/';
  if (!path.startsWith('/')) throw new HttpError(400, ErrorCodes.WEB_BAD_REQUEST, 'The request target must be a path starting with "/"');
  try {
    return new URL(`http://localhost${path}`);
  } catch {
    throw new HttpError(400, ErrorCodes.WEB_BAD_REQUEST, 'The request target does not parse as a URL path');
  }
}

/** A web view for `app` (not listening yet). `app.web` is the same, made once per app with its `web` options. */
export function createWebServer(app: WebHost, options?: WebOptions): WebServer {
  return new WebServer(app, options);
}
