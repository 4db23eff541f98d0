/**
 * Storage conformance suite: records, queries (list, counts, get, remove, purge), stream items and
 * shared `@State` stores, exercised through the public API of an app built by the engine's factory.
 */
import 'reflect-metadata';
import { describe, it, expect, afterEach } from './jest-globals';
import { ErrorCodes, QTasks, State, StateStore, Task, TASK_STATUSES, TaskContext } from '..';
import { AppFactory, AppSpec, AppTracker, ConformanceFeatures } from './support';

export type { AppFactory, AppSpec, ConformanceFeatures } from './support';

/** Shared state used by the storage cases. */
@State({ name: 'cs.tally' })
export class Tally extends StateStore<{ n: number; list: number[]; obj: { a: number; when?: string } }> {}

/** Tasks of the storage suite. */
export class StorageTasks {
  @Task({ name: 'cs.echo' })
  echo(value: unknown): unknown {
    return value;
  }

  @Task({ name: 'cs.fail' })
  fail(message: string): never {
    const err = new Error(message) as Error & { code: string };
    err.code = 'E_CONFORMANCE';
    throw err;
  }

  @Task({ name: 'cs.count' })
  async count(tally: Tally, by: number): Promise<number> {
    await tally.update('list', (l) => [...(l ?? []), by]);
    return tally.incr('n', by);
  }

  @Task({ name: 'cs.items' })
  async *items(ctx: TaskContext, n: number): AsyncGenerator<{ i: number; id: string }> {
    for (let i = 0; i < n; i++) yield { i, id: ctx.id };
  }
}

export function storageConformance(name: string, makeApp: AppFactory, cleanup?: () => Promise<void>, features: ConformanceFeatures = {}): void {
  describe(`Storage conformance: ${name}`, () => {
    const tracker = new AppTracker(makeApp, cleanup);
    const make = async (spec: Partial<AppSpec> = {}): Promise<QTasks> => (await tracker.make({ suite: 's', ...spec })).register(StorageTasks, Tally);
    afterEach(() => tracker.closeAll());

    it('keeps a full record: args as JSON, timestamps, result and error', async () => {
      const app = await make();
      await app.start();
      const when = new Date('2024-05-06T07:08:09.000Z');
      const ok = await app.addTask('cs.echo', [{ when, nested: [1, 'two', null], skip: undefined }]);
      const expected = { when: '2024-05-06T07:08:09.000Z', nested: [1, 'two', null] };
      expect(await ok.result({ timeout: 2_000 })).toEqual(expected);
      const rec = (await app.getTask(ok.id))!;
      expect(rec.args).toEqual([expected]);
      expect(rec.returning).toEqual(expected);
      expect(rec.priority).toBe(0);
      expect(rec.createdAt).toBeLessThanOrEqual(rec.startedAt!);
      expect(rec.startedAt).toBeLessThanOrEqual(rec.finishedAt!);
      expect(rec.updatedAt).toBeGreaterThanOrEqual(rec.finishedAt!);

      const bad = await app.addTask('cs.fail', ['broken']);
      await expect(bad.result({ timeout: 2_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_FAILED, cause: { code: 'E_CONFORMANCE' } });
      const err = (await app.getTask(bad.id))!;
      expect(err.status).toBe('error');
      expect(err.error).toMatchObject({ name: 'Error', message: 'broken', code: 'E_CONFORMANCE' });
      expect(typeof err.error!.stack).toBe('string');
    });

    it('gives copies: changing a returned record changes nothing stored', async () => {
      const app = await make();
      const h = await app.addTask('cs.echo', [{ a: 1 }]);
      const rec = (await app.getTask(h.id))!;
      (rec.args[0] as { a: number }).a = 99;
      rec.status = 'success';
      expect(await app.getTask(h.id)).toMatchObject({ status: 'new', args: [{ a: 1 }] });
    });

    it('lists newest first by enqueue order, filtered and paged', async () => {
      const app = await make();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await app.addTask('cs.echo', [i])).id);
      const f = await app.addTask('cs.fail', ['x']);
      expect((await app.manager.list()).map((r) => r.id)).toEqual([f.id, ...[...ids].reverse()]);
      expect((await app.manager.list({ name: 'cs.echo' })).map((r) => r.id)).toEqual([...ids].reverse());
      expect((await app.manager.list({ name: 'cs.echo', limit: 2, offset: 1 })).map((r) => r.id)).toEqual([ids[3], ids[2]]);
      await app.start();
      await f.result({ timeout: 2_000 }).catch(() => undefined);
      await (await app.handle(ids[4])).result({ timeout: 2_000 });
      expect((await app.manager.list({ status: 'error' })).map((r) => r.id)).toEqual([f.id]);
      expect(await app.manager.get(f.id)).toMatchObject({ id: f.id, status: 'error' });
      expect(await app.manager.get('no-such-task')).toBeUndefined();
    });

    it('counts tasks in every status', async () => {
      const app = await make();
      const queued = await app.addTask('cs.echo', [1], { delay: 60_000 });
      const counts0 = await app.manager.counts();
      expect(Object.keys(counts0).sort()).toEqual([...TASK_STATUSES].sort());
      expect(counts0).toMatchObject({ delayed: 1, new: 0, success: 0 });
      await app.start();
      const a = await app.addTask('cs.echo', [1]);
      const b = await app.addTask('cs.echo', [2]);
      const c = await app.addTask('cs.fail', ['x']);
      await Promise.all([a.result(), b.result(), c.result().catch(() => undefined)]);
      await app.cancel(queued.id);
      expect(await app.manager.counts()).toMatchObject({ success: 2, error: 1, cancel: 1, delayed: 0, new: 0, process: 0 });
    });

    it('removes and purges tasks that are not running', async () => {
      const app = await make();
      await app.start();
      const hs = await Promise.all([1, 2, 3].map((n) => app.addTask('cs.echo', [n])));
      await Promise.all(hs.map((h) => h.result({ timeout: 2_000 })));
      const f = await app.addTask('cs.fail', ['x']);
      await f.result().catch(() => undefined);
      expect(await app.manager.remove(hs[0].id)).toBe(true);
      expect(await app.getTask(hs[0].id)).toBeUndefined();
      expect(await app.manager.remove(hs[0].id)).toBe(false);
      expect(await app.manager.purge('success')).toBe(2);
      expect(await app.getTask(hs[1].id)).toBeUndefined();
      expect(await app.getTask(f.id)).toMatchObject({ status: 'error' });
      expect(await app.manager.counts()).toMatchObject({ success: 0, error: 1 });
      expect(await app.manager.purge('success')).toBe(0);
    });

    it('keeps stream items after the end', async () => {
      const app = await make();
      await app.start();
      const h = await app.addTask('cs.items', [3]);
      expect(await h.result({ timeout: 2_000 })).toEqual([0, 1, 2].map((i) => ({ i, id: h.id })));
      const seen: unknown[] = [];
      for await (const x of h.stream()) seen.push(x);
      expect(seen).toEqual([0, 1, 2].map((i) => ({ i, id: h.id })));
    });

    it('State: get, set, update, incr, delete, all', async () => {
      const app = await make();
      const t = app.state(Tally);
      expect(await t.get('n')).toBeUndefined();
      expect(await t.all()).toEqual({});
      await t.set('obj', { a: 1, when: new Date(0).toISOString() });
      expect(await t.get('obj')).toEqual({ a: 1, when: '1970-01-01T00:00:00.000Z' });
      expect(await t.update('obj', (o) => ({ a: (o?.a ?? 0) + 1 }))).toEqual({ a: 2 });
      expect(await t.incr('n')).toBe(1);
      expect(await t.incr('n', 4)).toBe(5);
      expect(await t.all()).toEqual({ obj: { a: 2 }, n: 5 });
      expect(await t.delete('n')).toBe(true);
      expect(await t.delete('n')).toBe(false);
      expect(await t.all()).toEqual({ obj: { a: 2 } });
    });

    it('State: increments of one tick each get the value right after their own', async () => {
      const app = await make();
      const t = app.state(Tally);
      await t.set('obj', { a: 1 });
      // 40 on one key, 10 on another, all before any answer; then three halves on a value that is
      // not a number (it counts as 0)
      const ns = Array.from({ length: 40 }, () => t.incr('n'));
      const twos = Array.from({ length: 10 }, () => t.incr('list', 2));
      const got = await Promise.all([...ns, ...twos]);
      expect(got.slice(0, 40).sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      expect(got.slice(40).sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => 2 * (i + 1)));
      expect(await Promise.all([t.incr('obj', 0.5), t.incr('obj', 0.5), t.incr('obj', -2)])).toEqual([0.5, 1, -1]);
      expect(await t.all()).toEqual({ n: 40, list: 20, obj: -1 });
    });

    it('State: reads and deletes of one tick each get their own answer', async () => {
      const app = await make();
      const t = app.state(Tally);
      await Promise.all([t.set('n', 1), t.set('obj', { a: 2 })]);
      expect(await Promise.all([t.get('n'), t.get('obj'), t.get('list'), t.get('n')])).toEqual([1, { a: 2 }, undefined, 1]);
      expect(await Promise.all([t.delete('n'), t.delete('list'), t.delete('n'), t.delete('obj')])).toEqual([true, false, false, true]);
      expect(await t.all()).toEqual({});
    });

    it('State: incr refuses a step that is not a finite number; the other increments of the tick apply', async () => {
      const app = await make();
      const t = app.state(Tally);
      const bad = [NaN, Infinity, -Infinity, '2' as unknown as number, null as unknown as number];
      const calls = [t.incr('n', 1), ...bad.map((by) => t.incr('n', by)), t.incr('n', 1)];
      const settled = await Promise.allSettled(calls);
      expect(settled.map((x) => x.status)).toEqual(['fulfilled', ...bad.map(() => 'rejected'), 'fulfilled']);
      for (const x of settled.slice(1, -1)) expect((x as PromiseRejectedResult).reason).toMatchObject({ code: ErrorCodes.BAD_OPTION });
      expect(await t.get('n')).toBe(2);
    });

    it('State: stateAddMember keeps a set of whole numbers, each member once, whatever the order of the calls', async () => {
      const app = await make();
      // connects the app (its storage is used directly below)
      await app.state(Tally).get('n');
      const storage = app.storage;
      const add = storage.stateAddMember?.bind(storage);
      if (add === undefined) throw new Error(`the ${storage.engine} storage has no stateAddMember`);
      // 30 members, each added twice, all calls out at once
      const sizes = await Promise.all(Array.from({ length: 60 }, (_, i) => add('cs.sets', 'a', i % 30)));
      for (const n of sizes) expect(n >= 1 && n <= 30).toBe(true);
      expect(await add('cs.sets', 'a', 7)).toBe(30);
      expect([...((await storage.stateGet('cs.sets', 'a')) as number[])].sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, i) => i));
      // a set written as a plain value goes on; a value that is not a set of whole numbers starts a new one
      await storage.stateSet('cs.sets', 'b', [3, 1]);
      expect(await add('cs.sets', 'b', 1)).toBe(2);
      expect(await add('cs.sets', 'b', 2)).toBe(3);
      expect([...((await storage.stateGet('cs.sets', 'b')) as number[])].sort()).toEqual([1, 2, 3]);
      for (const [k, v] of [['c', { a: 1 }], ['d', [1, 'x']], ['e', 'text'], ['f', [1.5]]] as const) {
        await storage.stateSet('cs.sets', k, v);
        expect(await add('cs.sets', k, 5)).toBe(1);
        expect(await storage.stateGet('cs.sets', k)).toEqual([5]);
      }
      for (const bad of [-1, 1.5, NaN]) await expect(add('cs.sets', 'a', bad)).rejects.toMatchObject({ code: ErrorCodes.BAD_OPTION });
      expect(((await storage.stateGet('cs.sets', 'a')) as number[]).length).toBe(30);
    });

    it('State refuses values that are not JSON', async () => {
      const app = await make();
      const t = app.state(Tally);
      await expect(t.set('obj', { a: 1, when: (() => 'x') as unknown as string })).rejects.toMatchObject({ code: ErrorCodes.NOT_SERIALIZABLE });
    });

    it('State updates from concurrent tasks are atomic', async () => {
      const app = await make({ concurrency: 5 });
      await app.start();
      const hs = await Promise.all(Array.from({ length: 20 }, (_, i) => app.addTask('cs.count', [i + 1])));
      await Promise.all(hs.map((h) => h.result({ timeout: 3_000 })));
      const t = app.state(Tally);
      expect(await t.get('n')).toBe(210);
      expect([...((await t.get('list')) ?? [])].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    });

    it('State of one queue is not seen by another queue', async () => {
      const a = await make();
      const b = await make();
      await a.state(Tally).set('n', 7);
      expect(await b.state(Tally).get('n')).toBeUndefined();
    });

    if (features.sharedQueue) {
      it('two apps of one queue share records and state', async () => {
        const producer = await make();
        const worker = await make({ name: producer.name });
        await worker.start();
        const h = await producer.addTask('cs.count', [3]);
        expect(await h.result({ timeout: 3_000 })).toBe(3);
        expect(await producer.state(Tally).get('n')).toBe(3);
        expect(await worker.getTask(h.id)).toMatchObject({ status: 'success', returning: 3 });
        expect((await producer.manager.list()).map((r) => r.id)).toEqual([h.id]);
      });
    }
  });
}
