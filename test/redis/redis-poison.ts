/**
 * The poison suite's hook for the Redis storage: corrupts a stored record with plain Redis commands
 * on the queue's keys, as an operator, a bug or another version could leave it (used by the Redis
 * engine and by the RabbitMQ broker paired with the Redis storage).
 */
import type IORedis from 'ioredis';
import type { QTasks } from 'qtasks';
import type { Corruption } from 'qtasks/conformance';

/** Arguments nested `depth` levels, as JSON. */
const deepJson = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

/** Corrupts records of queues kept under `prefix`, through the connection `redis()` gives. */
export function redisCorrupter(redis: () => IORedis, prefix: string): (app: QTasks, id: string, how: Corruption) => Promise<void> {
  return async (app, id, how) => {
    const r = redis();
    const base = `${prefix}:{${app.name}}:`;
    const key = base + 't:' + id;
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
        await r.lset(base + 'i:' + id, 0, '{"not json');
        break;
    }
  };
}
