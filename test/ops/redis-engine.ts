/**
 * The Redis engine for the operations suites: apps on a unique key prefix, a reachability check
 * that fails with a clear message, and key cleanup per queue.
 */
import Redis from 'ioredis';
import { QTasks } from 'qtasks';
import type { OpsEngine } from './helpers';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Key prefix of every app these suites make. */
export const prefix = `qt-test-${process.pid}-${Date.now().toString(36)}`;

/** Fails (never skips) when Redis cannot be reached. */
export async function assertRedisReachable(): Promise<void> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2_000 });
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    throw new Error(`Redis is not reachable at ${REDIS_URL} (set REDIS_URL): ${(err as Error).message}`);
  } finally {
    client.disconnect();
  }
}

async function deleteKeys(pattern: string): Promise<void> {
  const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await client.del(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

/** Apps on Redis; two apps made for one queue share it. */
export const redisEngine: OpsEngine = {
  label: 'Redis',
  shared: true,
  make: (queue, options) => new QTasks({ ...options, name: queue, redis: REDIS_URL, config: { ...options?.config, prefix } }),
  cleanup: (queue) => deleteKeys(`${prefix}:{${queue}}*`),
};
