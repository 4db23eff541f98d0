/**
 * The finish script's general path over a call of more ends than one command takes (1,000 ids):
 * only the ends of tasks the worker still holds are recorded (flag, status, finished list, counts,
 * announcement), those of tasks it no longer holds are ignored, and the held set keeps only the
 * tasks the call did not end. Ids with quotes and non-ASCII characters are announced as they are.
 * Tasks dropped at their end (removeOnComplete: true) leave with their items and index entries,
 * however many a call drops.
 */
import { join } from 'node:path';
import IORedis from 'ioredis';
import { loadScripts } from '../../src/engines/redis/lua-scripts';
import { REDIS_URL, redisScratch } from './redis-support';

const LUA = loadScripts(join(__dirname, '../../src/engines/redis/lua')).find((s) => s.name === 'finish')!.lua;
const NOW = 1_700_000_000_000;
const WID = 'w1';
/** More ends than one command of the script takes. */
const ENDS = 2_003;

describe('Redis finish script: a call of many ends', () => {
  const scratch = redisScratch('finish-ends');
  const { r } = scratch;

  it('records the ends of held tasks only, in their order, and leaves the rest of the held set', async () => {
    const base = `${scratch.prefix}:{qe}:`;
    const ids = Array.from({ length: ENDS }, (_, i) => (i % 7 === 0 ? `q"${i}\\é✓` : `t${i}`));
    // every third task was taken from the worker (a lease sweep, a release) before its end came
    const held = ids.filter((_, i) => i % 3 !== 0);
    const pipe = r.pipeline();
    for (const id of ids) pipe.hset(base + 't:' + id, 'd', '{"name":"x"}', 'st', 'process', 'att', '1', 'wid', WID);
    pipe.sadd(base + 'held:' + WID, ...held, 'still-running');
    pipe.hset(base + 'cnt', 'process', held.length + 1);
    await pipe.exec();

    const sub = new IORedis(REDIS_URL);
    const heard: string[] = [];
    try {
      sub.on('message', (_ch: string, m: string) => heard.push(m));
      await sub.subscribe(base + 'chan');
      const args: (string | number)[] = [base + 'chan', NOW, WID, 60_000, NOW + 30_000, 0, '', 0, ENDS, ''];
      for (const id of ids) args.push(id, 's0', '1', '');
      const reply = (await r.eval(LUA, 1, base, ...args)) as unknown[];

      expect(reply[0]).toBe(ids.map((_, i) => (i % 3 !== 0 ? '1' : '0')).join(''));
      expect(await r.smembers(base + 'held:' + WID)).toEqual(['still-running']);
      expect(await r.hgetall(base + 'cnt')).toEqual({ process: '1', success: String(held.length) });
      expect(await r.lrange(base + 'done:success', 0, -1)).toEqual(held);
      const st = await Promise.all(ids.map((id) => r.hget(base + 't:' + id, 'st')));
      expect(st).toEqual(ids.map((_, i) => (i % 3 !== 0 ? 'success' : 'process')));

      await r.publish(base + 'chan', 'end');
      for (let i = 0; i < 400 && !heard.includes('end'); i++) await new Promise((z) => setTimeout(z, 5));
      expect(heard).toHaveLength(2);
      expect(heard[0].startsWith('f')).toBe(true);
      expect(JSON.parse(heard[0].slice(1))).toEqual(held);
    } finally {
      sub.disconnect();
    }
  });

  it('drops the tasks dropped at their end, with their items and index entries, and records the others', async () => {
    const base = `${scratch.prefix}:{qd}:`;
    const n = 1_203;
    const ids = Array.from({ length: n }, (_, i) => `d${i}`);
    // i % 4: 0 dropped, 1 dropped with items, 2 and 3 kept (3 with items)
    const heads = ids.map((_, i) => ['s01', 's11', 's0', 's1'][i % 4]);
    const pipe = r.pipeline();
    for (const [i, id] of ids.entries()) {
      pipe.hset(base + 't:' + id, 'd', '{"name":"x"}', 'st', 'process', 'att', '1', 'wid', WID);
      pipe.zadd(base + 'idx', i + 1, id);
      if (i % 2 === 1) pipe.rpush(base + 'i:' + id, '"item"');
    }
    pipe.sadd(base + 'held:' + WID, ...ids);
    pipe.hset(base + 'cnt', 'process', n);
    await pipe.exec();

    const args: (string | number)[] = [base + 'chan', NOW, WID, 60_000, NOW + 30_000, 0, '', 0, n, ''];
    for (const [i, id] of ids.entries()) args.push(id, heads[i], String(i), i % 4 < 2 ? `{"id":"${id}","status":"success"}` : '');
    const reply = (await r.eval(LUA, 1, base, ...args)) as unknown[];

    expect(reply[0]).toBe('1'.repeat(n));
    const kept = ids.filter((_, i) => i % 4 >= 2);
    const dropped = ids.filter((_, i) => i % 4 < 2);
    expect(await r.lrange(base + 'done:success', 0, -1)).toEqual(kept);
    expect(await r.zrange(base + 'idx', 0, -1)).toEqual(kept);
    expect(await r.hgetall(base + 'cnt')).toEqual({ process: '0', success: String(kept.length) });
    expect(await r.exists(...dropped.map((id) => base + 't:' + id), ...dropped.map((id) => base + 'i:' + id))).toBe(0);
    expect(await Promise.all(kept.map((id) => r.hget(base + 't:' + id, 'st')))).toEqual(kept.map(() => 'success'));
    const keptItems = kept.filter((_, j) => j % 2 === 1);
    expect(await r.exists(...keptItems.map((id) => base + 'i:' + id))).toBe(keptItems.length);
  });
});
