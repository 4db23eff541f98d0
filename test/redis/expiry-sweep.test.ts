/**
 * The sweep of finished records past their ttl on the Redis engine: each finished list is walked
 * from its head, ids whose record is gone or moved on leave it (and the id index when the record is
 * gone), the first record still in the list's status stops the walk, and a call drops at most its
 * budget. Lists are laid out by hand here (long runs of gone records, ids reused by a new task,
 * records that moved on) and swept by `counts()`, which drops up to 1,000 ids per list and call.
 * Retention (`removeOnComplete` by count or age) walks the same lists when a task ends: the records
 * it pops that are still of the list's status are deleted with their items and index entries, the
 * others only leave the list.
 */
import 'reflect-metadata';
import { Task } from 'qtasks';
import { RedisStorage } from 'qtasks/redis';
import { redisQueueFixture, sleep } from './redis-support';

class SweepTasks {
  @Task({ name: 'sw.echo' })
  echo(v: unknown): unknown {
    return v;
  }
}

describe('Redis engine: sweeping finished records past their ttl', () => {
  const fx = redisQueueFixture('sw', SweepTasks);

  /** The queue's keys, and a list of finished successes laid out as `ids` (live ones get a record). */
  async function layOut(ids: string[], records: Record<string, Record<string, string>>): Promise<{ done: string; all: string; task: string; items: string; cnt: string }> {
    const app = fx.app();
    // connects the storage (its keys are set then)
    await app.getTask('none');
    const k = (app.storage as RedisStorage).keys;
    const r = fx.admin;
    for (let s = 0; s < ids.length; s += 500) {
      const part = ids.slice(s, s + 500);
      await r.rpush(k.doneSuccess, ...part);
      await r.zadd(k.all, ...part.flatMap((id, j) => [s + j + 1, id]));
    }
    for (const [id, fields] of Object.entries(records)) await r.hset(k.task + id, fields);
    await r.hset(k.cnt, 'success', ids.length);
    return { done: k.doneSuccess, all: k.all, task: k.task, items: k.items, cnt: k.cnt };
  }
  const ids = (label: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${label}-${i}`);
  const live = { st: 'success', d: '{}', fa: String(Date.now()) };

  it('drops a long run of gone records at once and stops at the first live one', async () => {
    const gone = ids('gone', 700);
    const kept = ids('live', 5);
    const keys = await layOut([...gone, ...kept], Object.fromEntries(kept.map((id) => [id, live])));
    expect((await fx.app().manager.counts()).success).toBe(5);
    expect(await fx.admin.lrange(keys.done, 0, -1)).toEqual(kept);
    expect(await fx.admin.zrange(keys.all, 0, -1)).toEqual(kept);
  });

  it('takes ids reused by a new task and records that moved on out of the list, but keeps them indexed', async () => {
    // the walk meets them inside a chunk after whole chunks of gone records; gone records after the
    // live one stay (they are not at the head)
    const after = ids('d', 10);
    const order = [...ids('a', 10), 'reused', ...ids('b', 3), 'moved', ...ids('c', 20), 'live', ...after];
    const keys = await layOut(order, { reused: { d: '{}' }, moved: { st: 'error', d: '{}' }, live });
    expect((await fx.app().manager.counts()).success).toBe(11);
    expect(await fx.admin.lrange(keys.done, 0, -1)).toEqual(['live', ...after]);
    expect((await fx.admin.zrange(keys.all, 0, -1)).sort()).toEqual([...after, 'live', 'moved', 'reused'].sort());
    // a second sweep finds the live head and changes nothing
    expect((await fx.app().manager.counts()).success).toBe(11);
    expect(await fx.admin.llen(keys.done)).toBe(11);
  });

  it('drops at most its budget per call, and the next call goes on', async () => {
    const gone = ids('gone', 1_300);
    const keys = await layOut([...gone, 'live'], { live });
    expect((await fx.app().manager.counts()).success).toBe(301);
    expect(await fx.admin.llen(keys.done)).toBe(301);
    expect(await fx.admin.zcard(keys.all)).toBe(301);
    expect((await fx.app().manager.counts()).success).toBe(1);
    expect(await fx.admin.lrange(keys.done, 0, -1)).toEqual(['live']);
    expect(await fx.admin.zrange(keys.all, 0, -1)).toEqual(['live']);
  });

  it('drops records that Redis expired, head and all', async () => {
    const expiring = ids('exp', 50);
    const keys = await layOut([...expiring, 'live'], Object.fromEntries([...expiring, 'live'].map((id) => [id, live])));
    for (const id of expiring) await fx.admin.pexpire(keys.task + id, 1);
    await sleep(20);
    expect((await fx.app().manager.counts()).success).toBe(1);
    expect(await fx.admin.lrange(keys.done, 0, -1)).toEqual(['live']);
    expect(await fx.admin.zrange(keys.all, 0, -1)).toEqual(['live']);
  });

  it('leaves a list whose head is live untouched', async () => {
    const gone = ids('gone', 3);
    const keys = await layOut(['live', ...gone], { live });
    expect((await fx.app().manager.counts()).success).toBe(4);
    expect(await fx.admin.llen(keys.done)).toBe(4);
    expect(await fx.admin.zcard(keys.all)).toBe(4);
  });

  describe('retention', () => {
    const old = { st: 'success', d: '{}', fa: String(Date.now() - 600_000) };

    it('by count: pops the oldest beyond it, deleting those still successes with their items', async () => {
      const own = ids('s', 10);
      // after a live head (the sweep of expired ids stops there): a record that moved on and an id
      // taken by a new task
      const order = [own[0], 'moved', own[1], 'reused', ...own.slice(2)];
      const keys = await layOut(order, { moved: { st: 'error', d: '{}' }, reused: { d: '{}' }, ...Object.fromEntries(own.map((id) => [id, old])) });
      for (const id of own) await fx.admin.rpush(keys.items + id, '"item"');
      const app = fx.app({ concurrency: 1 });
      await app.start();
      const h = await app.addTask('sw.echo', ['new'], { removeOnComplete: 3 });
      expect(await h.result({ timeout: 5_000 })).toBe('new');
      expect(await fx.admin.lrange(keys.done, 0, -1)).toEqual(['s-8', 's-9', h.id]);
      for (const id of own.slice(0, 8)) {
        expect(await fx.admin.exists(keys.task + id, keys.items + id)).toBe(0);
      }
      expect(await fx.admin.exists(keys.task + 's-8', keys.items + 's-8', keys.task + 'moved', keys.task + 'reused')).toBe(4);
      expect((await fx.admin.zrange(keys.all, 0, -1)).sort()).toEqual(['moved', 'reused', 's-8', 's-9', h.id].sort());
      expect((await app.manager.counts()).success).toBe(3);
    });

    it('by age: pops those that finished before it, across chunks, and stops at the first within it', async () => {
      const before = ids('old', 30);
      const within = ids('new', 3);
      const fresh = { st: 'success', d: '{}', fa: String(Date.now()) };
      // a record that moved on sits among the old ones
      const order = [...before.slice(0, 12), 'moved', ...before.slice(12), ...within];
      const keys = await layOut(order, { moved: { st: 'error', d: '{}' }, ...Object.fromEntries(before.map((id) => [id, old])), ...Object.fromEntries(within.map((id) => [id, fresh])) });
      const app = fx.app({ concurrency: 1 });
      await app.start();
      const h = await app.addTask('sw.echo', ['new'], { removeOnComplete: { age: 60_000 } });
      await h.result({ timeout: 5_000 });
      expect(await fx.admin.lrange(keys.done, 0, -1)).toEqual([...within, h.id]);
      expect(await fx.admin.exists(...before.map((id) => keys.task + id))).toBe(0);
      expect(await fx.admin.hget(keys.task + 'moved', 'st')).toBe('error');
      expect((await fx.admin.zrange(keys.all, 0, -1)).sort()).toEqual(['moved', ...within, h.id].sort());
      expect((await app.manager.counts()).success).toBe(4);
    });
  });
});
