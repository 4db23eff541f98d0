/**
 * Options of the Redis engine: where Redis is (a URL or ioredis options) and the key prefix.
 */

/** Connection options for the Redis engine (ioredis options, or a URL in `url`), and its key prefix. */
export interface RedisConnectionOptions {
  url?: string;
  host?: string;
  port?: number;
  password?: string;
  username?: string;
  db?: number;
  /** A Redis Cluster: the nodes to start from (see `RedisConnectionInput`). */
  cluster?: { host: string; port: number }[];
  /**
   * Start of every key of this engine (default: the app's `config.prefix`, itself `'qtasks'`): keys
   * read `<prefix>:{<queue>}:…`. Apps that share a queue must use the same prefix.
   */
  prefix?: string;
  [key: string]: unknown;
}

/** What `redisEngine` and `redisStorage` take: a `redis://` / `rediss://` URL or the options. */
export type RedisEngineInput = string | RedisConnectionOptions;
