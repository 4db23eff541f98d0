/**
 * Cancel requests of running tasks (the queue's `cancels` set, the reason in the task's `cx`
 * field) across the scripts that write and read them: a lease round tells a worker of the requests
 * its tasks carry; an end takes its task's request out of the set (a success that beat its request
 * leaves nothing behind for the next task of its id); a retry asked to stop ends cancelled. Each
 * case runs the engine's scripts on keys set up by hand.
 */
import { join } from 'node:path';
import { loadScripts } from '../../src/engines/redis/lua-scripts';
import { redisScratch } from './redis-support';

const SCRIPTS = loadScripts(join(__dirname, '../../src/engines/redis/lua'));
const lua = (name: string): string => SCRIPTS.find((s) => s.name === name)!.lua;
const NOW = 1_700_000_000_000;

describe('Redis cancel requests', () => {
  const scratch = redisScratch('cancel-requests');
  const { r } = scratch;
  let n = 0;
  const queue = (): string => `${scratch.prefix}:{cr${++n}}:`;

  /** Task `id` runs on worker `wid` (held, leased), asked to stop (`cx`) when `reason` is given. */
  async function running(base: string, id: string, wid: string, reason?: string): Promise<void> {
    await r.hset(base + 't:' + id, 'd', `{"id":"${id}","name":"x","priority":0,"args":[],"createdAt":${NOW - 10},"seq":1}`, 'st', 'process', 'att', '1', 'sa', String(NOW - 5), 'wid', wid);
    await r.zadd(base + 'idx', 1, id);
    await r.hincrby(base + 'cnt', 'process', 1);
    await r.sadd(base + 'held:' + wid, id);
    await r.zadd(base + 'leases', NOW + 30_000, wid);
    if (reason !== undefined) {
      await r.hset(base + 't:' + id, 'cx', '=' + reason);
      await r.sadd(base + 'cancels', id);
    }
  }

  /** The finish script: one end of task `id` (kind `s`, `e`, `r` …) by worker `wid`, nothing claimed. */
  function finish(base: string, id: string, wid: string, head: string, data: string): Promise<unknown> {
    const args = [base + 'chan', NOW, wid, 60_000, NOW + 30_000, 0, '', 0, 1, '', id, head, data, ''];
    return r.eval(lua('finish'), 1, base, ...args);
  }

  /** A lease round of worker `wid`: the cancel requests it is told of (flat: id, reason as stored). */
  async function leaseRound(base: string, wid: string): Promise<string[]> {
    const keys = ['prios', 'leases', 'cnt', 'marker', 'workers', 'seen', 'done:success', 'done:error', 'done:cancel', 'idx', 'cancels', 'meta', 'idle'].map((k) => base + k);
    const args = [base + 't:', base + 'i:', base + 'w:', base + 'held:', base + 'chan', NOW, NOW + 30_000, wid, '{}', 1, 60_000, 45_000, base + 'inbox:'];
    return (await r.eval(lua('lease'), keys.length, ...keys, ...args)) as string[];
  }

  it('tells the worker of a request its running task carries', async () => {
    const base = queue();
    await running(base, 'a', 'w1', 'stop');
    expect(await leaseRound(base, 'w1')).toEqual(['a', '=stop']);
    // still asked: the worker has not ended it yet
    expect(await r.sismember(base + 'cancels', 'a')).toBe(1);
  });

  it('a task that succeeds while its request is on the way ends a success, and the next task of its id is not told to stop', async () => {
    const base = queue();
    await running(base, 'a', 'w1', 'stop');
    const res = (await finish(base, 'a', 'w1', 's0', '1')) as unknown[];
    expect(res[0]).toBe('1');
    expect(await r.hget(base + 't:a', 'st')).toBe('success');
    // its record goes (expired or removed); a new task takes the id and runs on another worker
    await r.del(base + 't:a');
    await running(base, 'a', 'w2');
    expect(await leaseRound(base, 'w2')).toEqual([]);
    expect(await r.scard(base + 'cancels')).toBe(0);
    expect(await r.hget(base + 't:a', 'st')).toBe('process');
  });

  it('keeps only the requests of tasks that still run', async () => {
    const base = queue();
    await running(base, 'a', 'w1', 'stop');
    await running(base, 'b', 'w1', 'stop');
    await running(base, 'c', 'w1', 'stop');
    await finish(base, 'a', 'w1', 's0', '1');
    await finish(base, 'b', 'w1', 'e0', '{"message":"no"}');
    // `c` still runs: its request stays; the ended ones are gone, and no other worker is told
    expect(await leaseRound(base, 'w9')).toEqual([]);
    expect((await r.smembers(base + 'cancels')).sort()).toEqual(['c']);
    expect(await leaseRound(base, 'w1')).toEqual(['c', '=stop']);
  });

  it('a retry of a task asked to stop ends it cancelled, with the reason, and the request goes', async () => {
    const base = queue();
    await running(base, 'a', 'w1', 'stop');
    // a retry due now: kind r, no items, runAt, no history
    await finish(base, 'a', 'w1', `r0${NOW} `, '{"message":"again"}');
    expect(await r.hmget(base + 't:a', 'st', 'cr')).toEqual(['cancel', '=stop']);
    expect(await r.sismember(base + 'cancels', 'a')).toBe(0);
    expect(await r.llen(base + 'w:0')).toBe(0);
    expect(await r.hget(base + 'cnt', 'cancel')).toBe('1');
  });
});
