/**
 * Bulk enqueue on Redis: an `addTasks` larger than one script call (it is sent in several, back to
 * back) keeps the order of its tasks, answers with the stored record of every id that existed, and
 * counts each new task once; a batch with a priority that is not a number writes nothing.
 */
import 'reflect-metadata';
import { Task, TaskRecord } from 'qtasks';
import { countKeys, redisQueueFixture } from './redis-support';

class BulkTasks {
  @Task({ name: 'be.echo' })
  echo(v: unknown): unknown {
    return v;
  }
}

describe('Redis bulk enqueue', () => {
  const fx = redisQueueFixture('be', BulkTasks);

  const record = (id: string, args: unknown[], priority = 0): TaskRecord => {
    const now = Date.now();
    return { id, name: 'be.echo', status: 'new', priority, args, attempt: 0, createdAt: now, updatedAt: now };
  };

  it('a batch of several script calls keeps its order and answers with the stored record of ids that existed', async () => {
    const app = fx.app();
    const earlier = ['be-a', 'be-b', 'be-c'];
    for (const id of earlier) await app.addTask('be.echo', ['earlier ' + id], { id });
    const n = 1_200;
    const at = new Map([
      [7, 'be-a'],
      [600, 'be-b'],
      [1_150, 'be-c'],
    ]);
    // what the engine answers: the stored record where the id existed, the new one elsewhere
    const records = Array.from({ length: n }, (_, i) => record(at.get(i) ?? `be-${i}`, [i]));
    const stored = await app.broker.enqueue(records);
    expect(stored.map((r) => r.args[0])).toEqual(records.map((r, i) => (at.has(i) ? 'earlier ' + r.id : i)));
    expect(stored.map((r) => r.id)).toEqual(records.map((r) => r.id));
    for (const id of earlier) expect((await app.manager.get(id))?.args).toEqual(['earlier ' + id]);
    expect((await app.manager.counts()).new).toBe(n);
    // newest first, in the order given (the earlier ones first of all)
    const listed = (await app.manager.list({ limit: n + 10 })).map((r) => r.id).reverse();
    expect(listed).toEqual([...earlier, ...records.filter((_, i) => !at.has(i)).map((r) => r.id)]);
    // each task runs once
    await app.start();
    const handles = records.map((r) => app.handle(r.id));
    const results = await Promise.all(handles.map((h) => h.result({ timeout: 30_000 })));
    expect(results).toEqual(stored.map((r) => r.args[0]));
  }, 60_000);

  it('a batch with a priority that is not a number is refused and writes none of its tasks', async () => {
    const app = fx.app();
    await app.manager.counts();
    const keys = await countKeys(fx.prefix);
    // what the engine is handed (the app checks priorities first; a broker's caller may not)
    const records = Array.from({ length: 900 }, (_, i) => record(`be-bad-${i}`, [i], i === 800 ? Number.NaN : 0));
    await expect(app.broker.enqueue(records)).rejects.toThrow(/not a number/);
    expect(await countKeys(fx.prefix)).toBe(keys);
    expect(await app.manager.get('be-bad-0')).toBeUndefined();
  });

  it('a batch of delayed and due tasks puts every delayed one in the delayed set at its runAt, the due ones in the queue', async () => {
    const app = fx.app();
    const base = Date.now();
    // more delayed tasks than one command of the script takes (1,000 values: 500 of them)
    const n = 1_300;
    const hs = await app.addTasks(Array.from({ length: n }, (_, i) => ({ name: 'be.echo', args: [i], opts: i % 3 === 0 ? { priority: i % 2 } : { delay: 60_000 + i, priority: i % 2 } })));
    const delayedIds = hs.filter((_, i) => i % 3 !== 0).map((h) => h.id);
    expect(await app.manager.counts()).toMatchObject({ new: n - delayedIds.length, delayed: delayedIds.length });
    const scored = await fx.admin.zrange(fx.base() + 'delayed', 0, -1, 'WITHSCORES');
    const runAt = new Map<string, number>();
    for (let j = 0; j < scored.length; j += 2) runAt.set(scored[j], Number(scored[j + 1]));
    expect([...runAt.keys()].sort()).toEqual([...delayedIds].sort());
    for (const [i, h] of hs.entries()) {
      if (i % 3 === 0) continue;
      const rec = await app.getTask(h.id);
      expect(rec).toMatchObject({ status: 'delayed', priority: i % 2 });
      expect(runAt.get(h.id)).toBe(rec?.runAt);
      expect(rec?.runAt).toBeGreaterThanOrEqual(base + 60_000 + i);
    }
  }, 30_000);
});
