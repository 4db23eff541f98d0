/**
 * The Redis engine (ioredis): `createRedisEngine(redis)` gives a broker and a storage sharing one
 * set of connections. `new QTasks({ redis })` and `QTASKS_REDIS_URL` use it.
 */
import type { Broker } from '../../engine/broker';
import type { Storage } from '../../engine/storage';
import type { RedisConnectionOptions } from '../../app/options';
import { RedisBroker } from './redis-broker';
import { RedisStorage } from './redis-storage';

export { RedisBroker } from './redis-broker';
export { RedisStorage } from './redis-storage';

/**
 * A Redis broker and storage on one connection set (a URL or ioredis options).
 * @example
 * ```ts
 * const { broker, storage } = createRedisEngine('redis://127.0.0.1:6379');
 * const app = new QTasks({ name: 'emails', broker, storage });
 * ```
 */
export function createRedisEngine(redis: string | RedisConnectionOptions): { broker: Broker; storage: Storage } {
  return { broker: new RedisBroker(), storage: new RedisStorage(redis) };
}
