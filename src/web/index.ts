/**
 * The web view (`qtasks/web`): queues, counts, workers and tasks live in a browser, with actions.
 * Loaded only when used (`app.web`, `qtasks -A app web`).
 */
export { WebServer, createWebServer, DEFAULT_WEB_PORT } from './web-server';
export type { WebListenOptions, WebAddress } from './web-server';
export { DEFAULT_WEB_MAX_CLIENTS } from './web-options';
export type { WebOptions } from './web-options';
export { HttpError } from './http-error';
export type { WebHost } from './web-host';
