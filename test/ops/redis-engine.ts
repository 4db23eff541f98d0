/**
 * The Redis engine for the operations suites: apps on a unique key prefix, a reachability check
 * that fails with a clear message, and key cleanup per queue.
 */
import Redis from 'ioredis';
import { QTasks } from 'qtasks';
import type { OpsEngine } from './helpers';

import { REDIS_URL, deleteKeys } from '../redis/redis-support';

export { REDIS_URL, ensureRedis as assertRedisReachable } from '../redis/redis-support';
/** Key prefix of every app these suites make. */
export const prefix = `qt-test-${process.pid}-${Date.now().toString(36)}`;

/** Takes `queue` out of the prefix's set of queue names (the set goes with its last member). */
async function forgetQueue(queue: string): Promise<void> {
  const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    await client.srem(`${prefix}:queues`, queue);
  } finally {
    client.disconnect();
  }
}

/** Apps on Redis; two apps made for one queue share it. */
export const redisEngine: OpsEngine = {
  label: 'Redis',
  shared: true,
  make: (queue, options) => new QTasks({ ...options, name: queue, redis: REDIS_URL, config: { ...options?.config, prefix } }),
  cleanup: async (queue) => {
    await deleteKeys(`${prefix}:{${queue}}`);
    await forgetQueue(queue);
  },
};
