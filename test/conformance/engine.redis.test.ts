/**
 * Every published suite (qtasks/conformance) on the Redis engine, on a fresh key prefix deleted
 * after each test. The poison cases corrupt records with plain Redis commands on the queue's keys,
 * as an operator, a bug or another version could leave them.
 */
import IORedis from 'ioredis';
import type { QTasks } from 'qtasks';
import type { RedisStorage } from 'qtasks/redis';
import { describeEngineConformance } from 'qtasks/conformance';
import { redisConformanceEngine } from '../redis/redis-factory';
import { REDIS_URL } from '../redis/redis-support';
import { redisCorrupter } from '../redis/redis-poison';

const engine = redisConformanceEngine('ce');
let r: IORedis;
beforeAll(async () => {
  await engine.check();
  r = new IORedis(REDIS_URL);
});
afterAll(() => r.quit());

const base = (app: QTasks): string => `${engine.prefix}:{${app.name}}:`;
const corrupt = redisCorrupter(() => r, engine.prefix);

describeEngineConformance('redis', {
  app: engine.factory,
  cleanup: engine.cleanup,
  features: { sharedQueue: true, sharedEvents: true },
  poison: {
    corrupt,
    corruptWorker: async (app, workerId) => {
      await r.hset(base(app) + 'workers', workerId, '{"id":');
    },
    corruptState: async (app, state, key, json) => {
      const hash = (app.storage as RedisStorage).keys.state(state);
      if ((await r.hexists(hash, key)) === 0) throw new Error(`No stored state value ${state}.${key}`);
      await r.hset(hash, key, json);
    },
  },
});
