/**
 * Shared state on Redis. Increments, reads, sets, deletes and set adds of one tick go in one call per state and
 * kind (a task that bumps a counter or reads a setting at every run costs Redis one call per tick,
 * not one per task), every call answered on its own and run in the order the calls were made, and a
 * close sends the calls of its tick before the connections go. A stateAddMember
 * set keeps its count beside it, hidden from the state's readers, and counts again when the array
 * was written some other way (an older version's update).
 */
import 'reflect-metadata';
import IORedis, { Command } from 'ioredis';
import { State, StateStore } from 'qtasks';
import { RedisStorage } from 'qtasks/redis';
import { deleteKeys, ensureRedis, REDIS_URL, redisApp, testPrefix } from './redis-support';

@State({ name: 'incr.counts' })
class Counts extends StateStore<{ a: number; b: number }> {}

@State({ name: 'incr.other' })
class Other extends StateStore<{ a: number }> {}

describe('Redis shared state', () => {
  const prefix = testPrefix('incr');
  beforeAll(ensureRedis);
  afterAll(() => deleteKeys(prefix));

  /** An app (not started) and the script calls its command connection sends, by script name. */
  async function setUp(name: string) {
    const app = redisApp({ name, prefix });
    const counts = app.state(Counts);
    // connect, then watch the command connection
    await counts.get('a');
    const conn = (app.storage as RedisStorage).link.cmd as IORedis;
    const scripts: string[] = [];
    const reads: string[] = [];
    const send = conn.sendCommand.bind(conn);
    jest.spyOn(conn, 'sendCommand').mockImplementation((command: Command, stream?: Parameters<IORedis['sendCommand']>[1]) => {
      if (command.name === 'eval' || command.name === 'evalsha') scripts.push(command.name);
      if (command.name === 'hget' || command.name === 'hmget') reads.push(command.name);
      return send(command, stream);
    });
    return { app, counts, other: app.state(Other), scripts, reads };
  }

  it('sends the increments of one tick in one call per state, each answered with its own value', async () => {
    const { app, counts, other, scripts } = await setUp('incr-tick');
    try {
      const calls = [counts.incr('a'), counts.incr('b', 10), counts.incr('a', 2), other.incr('a', 5), counts.incr('a'), counts.incr('b', -3)];
      expect(await Promise.all(calls)).toEqual([1, 10, 3, 5, 4, 7]);
      expect(scripts).toHaveLength(2);
      // the next tick is a call of its own, from the stored values
      expect(await counts.incr('a', 100)).toBe(104);
      expect(scripts).toHaveLength(3);
      expect(await counts.all()).toEqual({ a: 104, b: 7 });
      expect(await other.all()).toEqual({ a: 5 });
    } finally {
      await app.close();
    }
  });

  it('reads the values of one tick in one HMGET per state and deletes them in one call, each answered on its own', async () => {
    const { app, counts, other, scripts, reads } = await setUp('get-del');
    try {
      await Promise.all([counts.set('a', 1), counts.set('b', 2), other.set('a', 3)]);
      scripts.length = 0;
      expect(await Promise.all([counts.get('a'), counts.get('b'), other.get('a'), counts.get('a')])).toEqual([1, 2, 3, 1]);
      expect(reads).toEqual(['hmget', 'hmget']);
      expect(await Promise.all([counts.delete('a'), counts.delete('a'), counts.delete('b'), other.delete('a')])).toEqual([true, false, true, true]);
      expect(scripts).toHaveLength(2);
      expect(await counts.all()).toEqual({});
    } finally {
      await app.close();
    }
  });

  it('runs the calls of one tick in the order they were made, whatever their kinds', async () => {
    const { app, counts } = await setUp('order');
    try {
      await counts.set('a', 10);
      const calls = [counts.get('a'), counts.incr('a'), counts.get('a'), counts.set('a', 100), counts.incr('a', 5), counts.get('a'), counts.delete('a'), counts.get('a')];
      expect(await Promise.all(calls)).toEqual([10, 11, 11, undefined, 105, 105, true, undefined]);
    } finally {
      await app.close();
    }
  });

  it('answers every increment of a tick larger than one call', async () => {
    const { app, counts, scripts } = await setUp('incr-large');
    try {
      const got = await Promise.all(Array.from({ length: 1_234 }, (_, i) => counts.incr(i % 2 === 0 ? 'a' : 'b')));
      expect(got.filter((_, i) => i % 2 === 0)).toEqual(Array.from({ length: 617 }, (_, i) => i + 1));
      expect(got.filter((_, i) => i % 2 === 1)).toEqual(Array.from({ length: 617 }, (_, i) => i + 1));
      expect(scripts.length).toBeGreaterThan(1);
      expect(scripts.length).toBeLessThanOrEqual(3);
    } finally {
      await app.close();
    }
  });

  it('sends the increments made right before close()', async () => {
    const { app, counts } = await setUp('incr-close');
    const pending = [counts.incr('a', 3), counts.incr('a', 4)];
    await app.close();
    expect(await Promise.all(pending)).toEqual([3, 7]);
    const again = redisApp({ name: 'incr-close', prefix });
    try {
      expect(await again.state(Counts).get('a')).toBe(7);
    } finally {
      await again.close();
    }
  });

  it('fails the whole call, writing nothing, when the script is given a step that is not a number', async () => {
    const { app, counts } = await setUp('incr-script');
    try {
      await counts.incr('a', 1);
      const link = (app.storage as RedisStorage).link;
      const hash = (app.storage as RedisStorage).keys.state('incr.counts');
      await expect(link.script('stateIncr')([hash], ['a', 1, 'b', 'nan'])).rejects.toThrow(/not a finite number/);
      await expect(link.script('stateIncr')([hash], ['a', 1, 'b', 'x'])).rejects.toThrow(/not a finite number/);
      expect(await counts.all()).toEqual({ a: 1 });
    } finally {
      await app.close();
    }
  });

  it("keeps a set's count beside it, hidden from all() and deleted with it; a write by anything else is counted again", async () => {
    const { app, counts } = await setUp('set-count');
    try {
      const storage = app.storage as RedisStorage;
      const add = (m: number) => storage.stateAddMember('incr.counts', 'members', m);
      expect(await add(4)).toBe(1);
      expect(await add(10)).toBe(2);
      expect(await add(4)).toBe(2);
      expect(await counts.all()).toEqual({ members: [4, 10] });
      // an older version's update appends to the array text itself
      await storage.stateUpdate('incr.counts', 'members', (v) => [...(v as number[]), 7]);
      expect(await add(1)).toBe(4);
      expect(await add(7)).toBe(4);
      // a write of the same length with another count ("[4,10,7,1]", then "[1234,567]") is counted again
      await storage.stateSet('incr.counts', 'members', [1234, 567]);
      expect(await add(99)).toBe(3);
      await storage.stateUpdate('incr.counts', 'members', () => [1, 2, 3, 45]);
      expect(await add(5)).toBe(5);
      expect(await counts.all()).toEqual({ members: [1, 2, 3, 45, 5] });
      expect(await storage.stateDelete('incr.counts', 'members')).toBe(true);
      expect(await storage.stateDelete('incr.counts', 'members')).toBe(false);
      const r = new IORedis(REDIS_URL);
      try {
        expect(await r.hkeys(storage.keys.state('incr.counts'))).toEqual([]);
      } finally {
        r.disconnect();
      }
    } finally {
      await app.close();
    }
  });

  it('sends the set adds of one tick in one call per state, each answered with the size right after it', async () => {
    const { app, counts, other, scripts } = await setUp('add-tick');
    try {
      const storage = app.storage as RedisStorage;
      const add = (state: string, field: string, m: number) => storage.stateAddMember(state, field, m);
      // two sets of one state, one of another, a member given twice: two script calls
      const calls = [
        add('incr.counts', 'g1', 3),
        add('incr.counts', 'g2', 3),
        add('incr.counts', 'g1', 8),
        add('incr.counts', 'g1', 3),
        add('incr.other', 'g1', 1),
        add('incr.counts', 'g1', 12),
      ];
      expect(await Promise.all(calls)).toEqual([1, 1, 2, 2, 1, 3]);
      expect(scripts).toHaveLength(2);
      expect(await counts.all()).toEqual({ g1: [3, 8, 12], g2: [3] });
      expect(await other.all()).toEqual({ g1: [1] });
      // the next tick adds to what is stored, a member already there counted once
      expect(await Promise.all([add('incr.counts', 'g1', 8), add('incr.counts', 'g1', 100)])).toEqual([3, 4]);
      expect(scripts).toHaveLength(3);
      // a set in the same tick, after the adds, replaces the array (and the count kept beside it)
      const [a, , b] = await Promise.all([add('incr.counts', 'g2', 4), storage.stateSet('incr.counts', 'g2', [7, 70, 700]), add('incr.counts', 'g2', 5)]);
      expect([a, b]).toEqual([2, 4]);
      expect(await counts.all()).toEqual({ g1: [3, 8, 12, 100], g2: [7, 70, 700, 5] });
    } finally {
      await app.close();
    }
  });

  it('sends the sets of one tick in one call per state, in the order made', async () => {
    const { app, counts, other, scripts } = await setUp('set-tick');
    try {
      await Promise.all([counts.set('a', 1), counts.set('b', 2), other.set('a', 3), counts.set('a', 4)]);
      expect(scripts).toHaveLength(2);
      expect(await counts.all()).toEqual({ a: 4, b: 2 });
      expect(await other.all()).toEqual({ a: 3 });
      // an increment, a set and an increment of one field in one tick: each after the one before
      expect(await Promise.all([counts.incr('a'), counts.set('a', 10), counts.incr('a', 5)])).toEqual([5, undefined, 15]);
    } finally {
      await app.close();
    }
  });
});
