/**
 * The finish script's fast path (one end, no retention count, a claim that finds the queue empty)
 * and its general path leave the same state: the same case runs once taking the fast path and once
 * down the general one (the script with its fast path turned off), on two queues set up alike, and
 * every key of both queues and the replies are compared.
 */
import { join } from 'node:path';
import IORedis from 'ioredis';
import { loadScripts } from '../../src/engines/redis/lua-scripts';
import { REDIS_URL, redisScratch, sameEffects } from './redis-support';

const LUA = loadScripts(join(__dirname, '../../src/engines/redis/lua')).find((s) => s.name === 'finish')!.lua;
const FAST = "if ARGV[9] == '1' and";
/** The script with its fast path turned off. */
const GENERAL = LUA.replace(FAST, 'if false and');
const NOW = 1_700_000_000_000;
const WID = 'w1';

interface Case {
  name: string;
  /** the task's id ('a' unless told) */
  id?: string;
  kind: 's' | 'e';
  keep?: string;
  items?: boolean;
  held?: boolean;
  want?: number;
  paused?: boolean;
  cancelAsked?: boolean;
  idleBefore?: boolean;
  json?: string;
  listening?: string;
  delayedLater?: boolean;
  /** expired ids to drop at most from the head of each finished list */
  trim?: number;
  /** finished ids at the head of the lists before the call: expired (no record) or not */
  finishedBefore?: boolean;
}

const CASES: Case[] = [
  { name: 'a success, nothing to claim', kind: 's' },
  { name: 'a success, a claim on an empty queue (idle again)', kind: 's', want: 2 },
  { name: 'an error, a claim on an empty queue', kind: 'e', want: 1 },
  { name: 'a success dropped at once (removeOnComplete)', kind: 's', keep: '1', want: 1, json: '{"id":"a"}' },
  { name: 'an id with quotes and non-ASCII characters, announced by id', id: 'a"\\é✓', kind: 's', want: 1 },
  { name: 'a success with items, published as a record', kind: 's', items: true, json: '{"id":"a"}', listening: 'c' },
  { name: 'a task not held any more', kind: 's', held: false, want: 1 },
  { name: 'a claim on a paused queue', kind: 's', want: 1, paused: true, idleBefore: true },
  { name: 'a cancel asked while it ran', kind: 's', cancelAsked: true, want: 1 },
  { name: 'an idle entry left from before, nothing to claim', kind: 'e', idleBefore: true },
  { name: 'a delayed task not due yet', kind: 's', want: 1, delayedLater: true },
  { name: 'a trim budget with nothing to trim', kind: 's', want: 1, trim: 64 },
  { name: 'a trim budget, expired ids at the head of the finished lists', kind: 's', want: 2, trim: 64, finishedBefore: true },
  { name: 'a trim budget smaller than the expired ids, an error', kind: 'e', trim: 1, finishedBefore: true },
  { name: 'a trim budget, a task not held any more', kind: 's', held: false, want: 1, trim: 64, finishedBefore: true },
];

describe('Redis finish script: fast and general paths', () => {
  const scratch = redisScratch('finish-paths');
  const { r } = scratch;


  async function setUp(base: string, c: Case): Promise<void> {
    const id = c.id ?? 'a';
    const t = base + 't:' + id;
    await r.hset(t, 'd', '{"name":"x","seq":1}', 'st', 'process', 'att', '1', 'sa', String(NOW - 5), 'up', String(NOW - 5), 'wid', WID);
    await r.zadd(base + 'idx', 1, id);
    await r.hset(base + 'cnt', 'process', 1, 'success', 3);
    await r.zadd(base + 'leases', NOW + 1000, WID);
    if (c.held !== false) await r.sadd(base + 'held:' + WID, id);
    if (c.items) await r.rpush(base + 'i:' + id, 'x');
    if (c.paused) await r.hset(base + 'meta', 'paused', '1');
    if (c.cancelAsked) {
      await r.sadd(base + 'cancels', id);
      await r.hset(t, 'cx', '"stop"');
    }
    if (c.idleBefore) await r.hset(base + 'idle', WID, '0:' + (NOW + 100) + ':30000');
    if (c.finishedBefore) {
      // gone (expired), gone, still there; an expired cancel; an error still there
      await r.rpush(base + 'done:success', 'x1', 'x2', 'x3');
      await r.hset(base + 't:x3', 'd', '{"name":"x","seq":5}', 'st', 'success');
      await r.zadd(base + 'idx', 3, 'x1', 4, 'x2', 5, 'x3', 6, 'x4', 7, 'x5');
      await r.rpush(base + 'done:cancel', 'x4');
      await r.rpush(base + 'done:error', 'x5');
      await r.hset(base + 't:x5', 'd', '{"name":"x","seq":7}', 'st', 'error');
      await r.hset(base + 'cnt', 'success', 6, 'cancel', 1, 'error', 1);
    }
    if (c.delayedLater) {
      await r.hset(base + 't:b', 'd', '{"name":"x","seq":2}', 'st', 'delayed', 'run', String(NOW + 60_000));
      await r.zadd(base + 'delayed', NOW + 60_000, 'b');
    }
  }

  async function run(base: string, c: Case, lua = LUA): Promise<unknown> {
    const args = [base + 'chan', NOW, WID, 60_000, NOW + 30_000, c.want ?? 0, c.listening ?? '', c.trim ?? 0, 1, NOW + 6000 + ':30000'];
    args.push(c.id ?? 'a', c.kind + (c.items ? '1' : '0') + (c.keep ?? ''), c.kind === 's' ? '2' : '{"message":"no"}', c.json ?? '');
    return r.eval(lua, 1, base, ...args);
  }

  it('turns its fast path off for these tests', () => {
    expect(LUA).toContain(FAST);
    expect(GENERAL).not.toContain(FAST);
  });

  it('skips asking who listens while the listener mark is the one under which nobody else listened', async () => {
    const base = `${scratch.prefix}:{ql}:`;
    const c: Case = { name: 'listener mark', kind: 's', json: '{"id":"a"}' };
    await setUp(base, c);
    await r.hset(base + 'meta', 'ls', 'm1');
    const sub = new IORedis(REDIS_URL);
    const heard: string[] = [];
    try {
      sub.on('message', (_ch: string, m: string) => heard.push(m));
      await sub.subscribe(base + 'chan');
      // the caller learnt under mark m1 that nobody else listened: not asked, not published
      const quiet = (await run(base, { ...c, listening: ':m1' })) as unknown[];
      expect(quiet[3]).toBe(0);
      expect(quiet[4]).toBe('m1');
      // a listener announced itself since (a new mark): asked again, and published
      await r.hset(base + 'meta', 'ls', 'm2');
      await r.sadd(base + 'held:' + WID, 'a');
      const heardOf = (await run(base, { ...c, listening: ':m1' }, GENERAL)) as unknown[];
      expect(heardOf[3]).toBe(1);
      expect(heardOf[4]).toBe('m2');
      await r.publish(base + 'chan', 'end');
      for (let i = 0; i < 400 && !heard.includes('end'); i++) await new Promise((z) => setTimeout(z, 5));
      expect(heard).toEqual(['F' + WID + ' [{"id":"a"}]', 'end']);
    } finally {
      sub.disconnect();
    }
  });

  it.each(CASES)('$name', async (c) => {
    const fast = `${scratch.prefix}:{qf}:`;
    const general = `${scratch.prefix}:{qg}:`;
    const sub = new IORedis(REDIS_URL);
    const heard: Record<string, string[]> = { [fast]: [], [general]: [] };
    try {
      sub.on('message', (ch: string, m: string) => heard[ch.slice(0, -'chan'.length)].push(m));
      await sub.subscribe(fast + 'chan', general + 'chan');
      await sameEffects(r, fast, general, (base) => setUp(base, c), (base, generalForm) => run(base, c, generalForm ? GENERAL : LUA));
      // the expired ids at the head went (the first at least: a budget of 1 or more)
      if (c.finishedBefore) expect(await r.lindex(fast + 'done:success', 0)).not.toBe('x1');
      // what each path published, up to a last message of the test's own
      await r.publish(fast + 'chan', 'end');
      await r.publish(general + 'chan', 'end');
      for (let i = 0; i < 400 && !(heard[fast].includes('end') && heard[general].includes('end')); i++) await new Promise((z) => setTimeout(z, 5));
      expect(heard[fast]).toEqual(heard[general]);
      // an end announced by id names the id as it is
      if (c.id !== undefined) expect(heard[fast].map((m) => (m.startsWith('f[') ? JSON.parse(m.slice(1)) : m))).toEqual([[c.id], 'end']);
    } finally {
      sub.disconnect();
    }
  });
});
