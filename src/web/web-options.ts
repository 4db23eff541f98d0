/**
 * Settings of the web view that can be given when the app is made (`new QTasks({ web })`), by
 * `app.web.listen()`, or by environment variables; `listen()` wins, then the app's, then the env.
 */
import { ErrorCodes, QTasksError } from '../errors';
import { validateAllowedHosts } from './host-check';

/** Settings of the web view: `new QTasks({ web: { allowedHosts, maxClients } })`. */
export interface WebOptions {
  /**
   * Host names answered besides the bound address and `localhost` / `127.0.0.1` / `[::1]` with the
   * bound port: `"queue.example.com"` (any port) or `"queue.example.com:8443"`, e.g. behind a proxy.
   * Any other `Host` gets 403. Also `QTASKS_WEB_ALLOWED_HOSTS` (comma-separated).
   */
  allowedHosts?: string[];
  /**
   * Event-stream clients at once (default 64); one more gets 503 `QTASKS_ERR_WEB_BUSY`.
   * Also `QTASKS_WEB_MAX_CLIENTS`.
   */
  maxClients?: number;
}

/** Default of {@link WebOptions.maxClients}. */
export const DEFAULT_WEB_MAX_CLIENTS = 64;

/** The settings in force for one `listen()`. */
export interface ResolvedWebOptions {
  allowedHosts: string[];
  maxClients: number;
}

/** Merges `listen()` options over the app's over the environment, checking each. */
export function resolveWebOptions(given: WebOptions, app: WebOptions | undefined, env: NodeJS.ProcessEnv = process.env): ResolvedWebOptions {
  let allowedHosts: string[] = [];
  if (given.allowedHosts !== undefined) allowedHosts = validateAllowedHosts(given.allowedHosts, 'listen({ allowedHosts })');
  else if (app?.allowedHosts !== undefined) allowedHosts = validateAllowedHosts(app.allowedHosts, 'web.allowedHosts');
  else if (env.QTASKS_WEB_ALLOWED_HOSTS) {
    allowedHosts = validateAllowedHosts(env.QTASKS_WEB_ALLOWED_HOSTS.split(',').map((h) => h.trim()).filter(Boolean), 'QTASKS_WEB_ALLOWED_HOSTS');
  }
  let maxClients = DEFAULT_WEB_MAX_CLIENTS;
  if (given.maxClients !== undefined) maxClients = positiveInt(given.maxClients, 'listen({ maxClients })');
  else if (app?.maxClients !== undefined) maxClients = positiveInt(app.maxClients, 'web.maxClients');
  else if (env.QTASKS_WEB_MAX_CLIENTS) maxClients = positiveInt(Number(env.QTASKS_WEB_MAX_CLIENTS), 'QTASKS_WEB_MAX_CLIENTS');
  return { allowedHosts, maxClients };
}

function positiveInt(n: unknown, source: string): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
    throw new QTasksError(ErrorCodes.BAD_OPTION, `${source} must be a positive integer, got ${JSON.stringify(n)}`);
  }
  return n;
}
