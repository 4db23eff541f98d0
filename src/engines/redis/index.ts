/**
 * The Redis engine (ioredis), `qtasks/redis`: `redisEngine(urlOrOptions)` gives a broker and a
 * storage sharing one set of connections. `new QTasks({ url: 'redis://…' })`, the `redis`
 * shorthand and `QTASKS_URL` reach it through the engine registry.
 */
import type { Engine } from '../../engine/engine';
import { RedisBroker } from './redis-broker';
import type { RedisEngineInput } from './redis-options';
import { RedisStorage } from './redis-storage';

export { RedisBroker } from './redis-broker';
export { RedisStorage } from './redis-storage';
export type { RedisConnectionOptions, RedisEngineInput } from './redis-options';
export { partitionOf, partitionTags, slotOf } from './partition-tags';

/**
 * The Redis engine: a broker and a storage on one connection set (a URL or ioredis options, with
 * an optional key `prefix`).
 * @example
 * ```ts
 * import { redisEngine } from 'qtasks/redis';
 * const app = new QTasks({ name: 'emails', engine: redisEngine('redis://127.0.0.1:6379') });
 * ```
 */
export function redisEngine(urlOrOptions: RedisEngineInput): Engine {
  return { name: 'redis', broker: new RedisBroker(), storage: new RedisStorage(urlOrOptions) };
}

/**
 * A Redis storage alone, for a broker of another engine that keeps its records in Redis
 * (`new QTasks({ broker, storage: redisStorage(url) })`).
 */
export function redisStorage(urlOrOptions: RedisEngineInput): RedisStorage {
  return new RedisStorage(urlOrOptions);
}

/**
 * A Redis broker and storage, as `{ broker, storage }`.
 * @deprecated use {@link redisEngine}.
 */
export function createRedisEngine(urlOrOptions: RedisEngineInput): Engine {
  return redisEngine(urlOrOptions);
}
