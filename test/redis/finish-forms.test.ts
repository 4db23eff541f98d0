/**
 * The finish script's two forms of a batch of ends: 4 arguments per end, or 2 per end (id, data)
 * after `<how many>:<head>` when every end has that head and no record to publish. The same batch
 * sent both ways, on two queues set up alike, gives the same reply and leaves the same keys; and
 * the records it finishes expire the result ttl after the call.
 */
import { join } from 'node:path';
import { loadScripts } from '../../src/engines/redis/lua-scripts';
import { redisScratch, sameEffects } from './redis-support';

const LUA = loadScripts(join(__dirname, '../../src/engines/redis/lua')).find((s) => s.name === 'finish')!.lua;
const NOW = 1_700_000_000_000;
const WID = 'w1';
const TTL = 60_000;

interface Batch {
  name: string;
  head: string;
  /** the data of each end (result JSON, error JSON) */
  data: string[];
  /** ends whose task the worker does not hold any more */
  notHeld?: number[];
  /** ends whose task was asked to stop while it ran */
  cancelAsked?: number[];
  /** how many tasks to claim (three wait) */
  want?: number;
}

const BATCHES: Batch[] = [
  { name: 'successes, one not held any more, one asked to stop, then a claim', head: 's0', data: ['1', '"two"', '{"x":3}', 'null'], notHeld: [1], cancelAsked: [2], want: 2 },
  { name: 'errors with items', head: 'e1', data: ['{"message":"a"}', '{"message":"b"}'] },
  { name: 'successes dropped at once', head: 's01', data: ['1', '2', '3'], want: 5 },
  { name: 'ten successes', head: 's0', data: Array.from({ length: 10 }, (_, i) => String(i)), notHeld: [4], want: 1 },
];

describe('Redis finish script: 4 or 2 arguments per end', () => {
  const scratch = redisScratch('finish-forms');
  const { r } = scratch;

  const idOf = (i: number): string => (i === 0 ? 'a"\\é✓' : `t${i}`);

  async function setUp(base: string, b: Batch): Promise<void> {
    for (let i = 0; i < b.data.length; i++) {
      const id = idOf(i);
      const t = base + 't:' + id;
      await r.hset(t, 'd', `{"name":"x","seq":${i + 1}}`, 'st', 'process', 'att', '1', 'sa', String(NOW - 5), 'up', String(NOW - 5), 'wid', WID);
      await r.zadd(base + 'idx', i + 1, id);
      if (!b.notHeld?.includes(i)) await r.sadd(base + 'held:' + WID, id);
      if (b.head[1] === '1') await r.rpush(base + 'i:' + id, 'x');
      if (b.cancelAsked?.includes(i)) {
        await r.sadd(base + 'cancels', id);
        await r.hset(t, 'cx', '"stop"');
      }
    }
    for (let i = 0; i < 3; i++) {
      await r.hset(base + 't:w' + i, 'd', `{"name":"x","seq":${10 + i}}`);
      await r.zadd(base + 'idx', 10 + i, 'w' + i);
      await r.rpush(base + 'w:0', 'w' + i);
    }
    await r.zadd(base + 'prios', 0, '0');
    await r.hset(base + 'cnt', 'process', b.data.length, 'new', 3);
    await r.zadd(base + 'leases', NOW + 1000, WID);
  }

  async function run(base: string, b: Batch, perEnd: 2 | 4): Promise<unknown> {
    const n = b.data.length;
    const args: (string | number)[] = [base + 'chan', NOW, WID, TTL, NOW + 30_000, b.want ?? 0, '', 0, perEnd === 2 ? `${n}:${b.head}` : n, NOW + 6000 + ':30000'];
    for (let i = 0; i < n; i++) {
      if (perEnd === 2) args.push(idOf(i), b.data[i]);
      else args.push(idOf(i), b.head, b.data[i], '');
    }
    return r.eval(LUA, 1, base, ...args);
  }

  it.each(BATCHES)('$name', async (b) => {
    const { first: a } = await sameEffects(r, `${scratch.prefix}:{q4}:`, `${scratch.prefix}:{q2}:`, (base) => setUp(base, b), (base, two) => run(base, b, two ? 2 : 4));
    expect((a as string[])[0]).toBe(b.data.map((_, i) => (b.notHeld?.includes(i) ? '0' : '1')).join(''));
  });

  // PEXPIREAT from Redis's clock in a call of 8 ends or more, PEXPIRE below
  it.each([3, 9])('has finished records and their items expire the result ttl after a call of %i ends', async (n) => {
    const base = `${scratch.prefix}:{qt${n}}:`;
    const b: Batch = { name: 'ttl', head: 'e1', data: Array.from({ length: n }, (_, i) => `{"message":"${i}"}`) };
    await setUp(base, b);
    const before = Date.now();
    await run(base, b, 2);
    for (let i = 0; i < n; i++) {
      for (const k of [base + 't:' + idOf(i), base + 'i:' + idOf(i)]) {
        const left = await r.pttl(k);
        expect(left).toBeLessThanOrEqual(TTL);
        expect(left).toBeGreaterThanOrEqual(TTL - (Date.now() - before) - 5);
      }
    }
  });
});
