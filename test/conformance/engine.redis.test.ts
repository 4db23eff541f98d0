/**
 * Every published suite (qtasks/conformance) on the Redis engine, on a fresh key prefix deleted
 * after each test. The poison cases corrupt records with plain Redis commands on the queue's keys,
 * as an operator, a bug or another version could leave them.
 */
import IORedis from 'ioredis';
import type { QTasks } from 'qtasks';
import { Corruption, describeEngineConformance } from 'qtasks/conformance';
import { redisConformanceEngine } from '../redis/redis-factory';
import { REDIS_URL } from '../redis/redis-support';

const engine = redisConformanceEngine('ce');
let r: IORedis;
beforeAll(async () => {
  await engine.check();
  r = new IORedis(REDIS_URL);
});
afterAll(() => r.quit());

const base = (app: QTasks): string => `${engine.prefix}:{${app.name}}:`;

/** Arguments nested `depth` levels, as JSON. */
const deepJson = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

async function corrupt(app: QTasks, id: string, how: Corruption): Promise<void> {
  const key = base(app) + 't:' + id;
  const d = await r.hget(key, 'd');
  if (d === null) throw new Error(`No stored record ${id}`);
  switch (how) {
    case 'body':
      await r.hset(key, 'd', d.slice(0, Math.floor(d.length / 2)));
      break;
    case 'no-id': {
      const f = JSON.parse(d) as Record<string, unknown>;
      delete f.id;
      await r.hset(key, 'd', JSON.stringify(f));
      break;
    }
    case 'priority':
      await r.hset(key, 'pri', 'high');
      break;
    case 'result':
      await r.hset(key, 'ret', '{"cut');
      break;
    case 'error':
      await r.hset(key, 'err', '{"name":');
      break;
    case 'deep-args': {
      const f = JSON.parse(d) as Record<string, unknown>;
      f.args = '@deep@';
      await r.hset(key, 'd', JSON.stringify(f).replace('"@deep@"', '[' + deepJson(1_001) + ']'));
      break;
    }
    case 'item':
      await r.lset(base(app) + 'i:' + id, 0, '{"not json');
      break;
  }
}

describeEngineConformance('redis', {
  app: engine.factory,
  cleanup: engine.cleanup,
  features: { sharedQueue: true, sharedEvents: true },
  poison: {
    corrupt,
    corruptWorker: async (app, workerId) => {
      await r.hset(base(app) + 'workers', workerId, '{"id":');
    },
  },
});
