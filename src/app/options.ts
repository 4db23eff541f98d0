/**
 * Options of `new QTasks(...)`.
 */
import type { Broker } from '../engine/broker';
import type { ConfigValues } from '../config';
import type { Engine } from '../engine/engine';
import type { Logger } from '../logger';
import type { QueueOptions } from '../engine/queue-options';
import type { Storage } from '../engine/storage';
import type { WebOptions } from '../web/web-options';

/** Options of an app. Each config key can also be set by a `QTASKS_*` environment variable. */
export interface QTasksOptions {
  /** Queue name (default `'default'`). */
  name?: string;
  /**
   * The engine: `memoryEngine()` (the default), `redisEngine(url)` from `qtasks/redis`, or any
   * other engine factory's result.
   */
  engine?: Engine;
  /**
   * The engine by URL (also `QTASKS_URL`, and the CLI's `--url`): `memory:`, `redis://…`,
   * `rediss://…`, `postgres://…`, `postgresql://…`.
   */
  url?: string;
  /**
   * Shorthand for `engine: redisEngine(redis)`: a Redis URL or connection options (also
   * `QTASKS_REDIS_URL`).
   */
  redis?: string | { url?: string; prefix?: string; [key: string]: unknown };
  /**
   * A broker, alone or with a `storage` of another engine when both support it (a broker that
   * keeps its records in any storage); an impossible pairing throws `QTASKS_ERR_INCOMPATIBLE_ENGINE`.
   */
  broker?: Broker;
  /** A storage, with `broker` (see there). */
  storage?: Storage;
  logger?: Logger;
  /** Tasks run at once by this process's worker (default 10). */
  concurrency?: number;
  /**
   * Named queues this app consumes when started, each with its own settings:
   * `{ emails: { concurrency: 5 }, images: { concurrency: 1 } }`. The app's `name` is consumed too
   * (once: with its settings here when listed, else with `concurrency`). `partitions` splits a
   * queue over several Redis Cluster hash tags (the same on producers and workers).
   */
  queues?: Record<string, QueueOptions>;
  /** `true` (default): every @Task class imported so far is included; `false`: only registered ones. */
  discover?: boolean;
  config?: Partial<ConfigValues>;
  /** Settings of the web view (`app.web`): `allowedHosts`, `maxClients`. */
  web?: WebOptions;
}

/**
 * Every option `new QTasks(...)` knows. A key not listed here is refused with
 * `QTASKS_ERR_BAD_OPTION` at construction: add a new option here with its field above.
 */
export const QTASKS_OPTION_KEYS: readonly (keyof QTasksOptions)[] = [
  'name',
  'engine',
  'url',
  'redis',
  'broker',
  'storage',
  'logger',
  'concurrency',
  'queues',
  'discover',
  'config',
  'web',
];

/** Every key of the `web` option (checked at construction, like the others). */
export const WEB_OPTION_KEYS: readonly string[] = ['allowedHosts', 'maxClients'];

/** Every setting of one queue in the `queues` option. */
export const QUEUE_OPTION_KEYS: readonly string[] = ['concurrency', 'partitions'];
