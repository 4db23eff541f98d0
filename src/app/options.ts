/**
 * Options of `new QTasks(...)`.
 */
import type { Broker } from '../engine/broker';
import type { ConfigValues } from '../config';
import type { Logger } from '../logger';
import type { Storage } from '../engine/storage';

/** Connection options for the Redis engine (ioredis options, or a URL in `url`). */
export interface RedisConnectionOptions {
  url?: string;
  host?: string;
  port?: number;
  password?: string;
  username?: string;
  db?: number;
  [key: string]: unknown;
}

/** Options of an app. Each config key can also be set by a `QTASKS_*` environment variable. */
export interface QTasksOptions {
  /** Queue name (default `'default'`). */
  name?: string;
  /** Use Redis for both broker and storage (also `QTASKS_REDIS_URL`). */
  redis?: string | RedisConnectionOptions;
  broker?: Broker;
  storage?: Storage;
  logger?: Logger;
  /** Tasks run at once by this process's worker (default 10). */
  concurrency?: number;
  /** `true` (default): every @Task class imported so far is included; `false`: only registered ones. */
  discover?: boolean;
  config?: Partial<ConfigValues>;
}

/**
 * Every option `new QTasks(...)` knows. A key not listed here is refused with
 * `QTASKS_ERR_BAD_OPTION` at construction: add a new option here with its field above.
 */
export const QTASKS_OPTION_KEYS: readonly (keyof QTasksOptions)[] = [
  'name',
  'redis',
  'broker',
  'storage',
  'logger',
  'concurrency',
  'discover',
  'config',
];
