/**
 * Poison conformance suite: records and queue entries corrupted straight in the store (as a bug,
 * an operator or another version may leave them) end their task `error` with
 * `QTASKS_ERR_BAD_RECORD`, never stop a worker, never change what happens to the other tasks of
 * the same batch, and never make a read fail for the rest of the queue. Each engine passes a hook
 * that corrupts one stored record in its own way (see {@link Corruption}).
 */
import 'reflect-metadata';
import { describe, it, expect, beforeAll, beforeEach, afterAll, afterEach } from './jest-globals';
import { ErrorCodes, QTasks, State, StateStore, Task, TaskContext } from '..';
import { AppFactory, AppSpec, AppTracker, ConformanceFeatures, Probe, sleep, waitFor } from './support';

export type { AppFactory, AppSpec, ConformanceFeatures } from './support';

/** What a hook does to a stored record, in the engine's own terms. */
export type Corruption =
  /** The record cannot be decoded at all (e.g. its stored JSON is cut, or its fields have the wrong types). */
  | 'body'
  /** The stored record has lost its id. */
  | 'no-id'
  /** Its priority is not a number. */
  | 'priority'
  /** Its stored result cannot be decoded (or copied). */
  | 'result'
  /** Its stored error cannot be decoded (or copied). */
  | 'error'
  /** Its arguments are nested 1,001 levels deep (written past every payload limit). */
  | 'deep-args'
  /** Its first stream item cannot be decoded (or copied). */
  | 'item';

/** How the suite reaches into an engine's store. */
export interface PoisonHooks {
  /** Corrupts the stored record `id` of `app`'s queue as `how` says. */
  corrupt(app: QTasks, id: string, how: Corruption): Promise<void>;
  /**
   * Writes `json` (not valid JSON) as the stored value of `key` in shared state `state` of `app`'s
   * queue; left out by engines that keep state values as objects (they cannot be corrupt).
   */
  corruptState?(app: QTasks, state: string, key: string, json: string): Promise<void>;
  /** Corrupts the stored entry of worker `workerId`; left out by engines that keep none. */
  corruptWorker?(app: QTasks, workerId: string): Promise<void>;
}

/** What the poison tasks saw; reset before each case. */
export const poisonProbe = new Probe();

/** Tasks of the poison suite. */
export class PoisonTasks {
  @Task({ name: 'cp.echo' })
  echo(ctx: TaskContext, value: unknown): unknown {
    poisonProbe.start(ctx.id);
    return value;
  }

  @Task({ name: 'cp.fail' })
  fail(ctx: TaskContext): never {
    poisonProbe.start(ctx.id);
    throw new Error('cp.fail fails');
  }

  /** Fails its first attempt. */
  @Task({ name: 'cp.flaky', retry: 2 })
  flaky(ctx: TaskContext): number {
    poisonProbe.start(ctx.id);
    if (ctx.attempt === 1) throw new Error('first attempt fails');
    return ctx.attempt;
  }

  @Task({ name: 'cp.items' })
  async *items(n: number): AsyncGenerator<number> {
    for (let i = 0; i < n; i++) yield i;
  }
}

const BAD = { code: ErrorCodes.BAD_RECORD };

/** Shared state of the poison suite. */
@State({ name: 'cp.tally' })
export class PoisonTally extends StateStore<{ good: number; bad: number; other: string }> {}

/**
 * Defines the poison cases for an engine.
 * @param name label of the engine in test names
 * @param makeApp builds an app on the engine (see {@link AppFactory})
 * @param hooks corrupt records in the engine's store
 * @param cleanup run after each case, once its apps are closed
 */
export function poisonConformance(name: string, makeApp: AppFactory, hooks: PoisonHooks, cleanup?: () => Promise<void>, _features: ConformanceFeatures = {}): void {
  describe(`Poison conformance: ${name}`, () => {
    const tracker = new AppTracker(makeApp, cleanup);
    const make = async (spec: Partial<AppSpec> = {}): Promise<QTasks> => (await tracker.make({ suite: 'p', ...spec })).register(PoisonTasks);
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown) => unhandled.push(err);
    beforeAll(() => {
      process.on('unhandledRejection', onUnhandled);
    });
    afterAll(() => {
      process.off('unhandledRejection', onUnhandled);
    });
    beforeEach(() => {
      poisonProbe.reset();
      unhandled.length = 0;
    });
    afterEach(async () => {
      await tracker.closeAll();
      expect(unhandled).toEqual([]);
    });

    for (const how of ['body', 'no-id'] as const) {
      it(`a queued record that cannot be decoded (${how}) ends error BAD_RECORD; its batch runs and the worker goes on`, async () => {
        const app = await make({ concurrency: 10, config: { leaseMs: 300 } });
        const before = await Promise.all([0, 1, 2, 3, 4].map((i) => app.addTask('cp.echo', [i])));
        const bad = await app.addTask('cp.echo', ['bad']);
        const after = await Promise.all([5, 6, 7].map((i) => app.addTask('cp.echo', [i])));
        await hooks.corrupt(app, bad.id, how);
        await app.start();
        const good = [...before, ...after];
        expect(await Promise.all(good.map((h) => h.result({ timeout: 5_000 })))).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
        await expect(bad.result({ timeout: 5_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_FAILED, cause: BAD });
        expect(await app.getTask(bad.id)).toMatchObject({ id: bad.id, status: 'error', error: BAD });
        expect(poisonProbe.runs(bad.id)).toBe(0);
        for (const h of good) expect(poisonProbe.runs(h.id)).toBe(1);
        // it stays ended through later lease rounds, and the worker goes on
        await sleep(800);
        expect(await app.getTask(bad.id)).toMatchObject({ id: bad.id, status: 'error', error: BAD });
        expect(await app.manager.counts()).toMatchObject({ new: 0, process: 0, retry: 0, success: 8, error: 1 });
        expect(await (await app.addTask('cp.echo', ['later'])).result({ timeout: 5_000 })).toBe('later');
        expect(poisonProbe.runs(bad.id)).toBe(0);
      });
    }

    it('a failing task whose priority is not a number ends BAD_RECORD; the successes of its batch are recorded once', async () => {
      const app = await make({ concurrency: 10 });
      const oks = await Promise.all([0, 1, 2, 3, 4].map((i) => app.addTask('cp.echo', [i])));
      const flaky = await app.addTask('cp.flaky');
      await hooks.corrupt(app, flaky.id, 'priority');
      await app.start();
      expect(await Promise.all(oks.map((h) => h.result({ timeout: 5_000 })))).toEqual([0, 1, 2, 3, 4]);
      await expect(flaky.result({ timeout: 5_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_FAILED, cause: BAD });
      await sleep(300);
      for (const h of oks) expect(poisonProbe.runs(h.id)).toBe(1);
      // it ran once at most (an engine may see the bad priority before running it)
      expect(poisonProbe.runs(flaky.id)).toBeLessThanOrEqual(1);
      expect(await app.getTask(flaky.id)).toMatchObject({ id: flaky.id, status: 'error', error: BAD });
      expect(await app.manager.counts()).toMatchObject({ new: 0, process: 0, retry: 0, success: 5, error: 1 });
      expect(await (await app.addTask('cp.echo', ['later'])).result({ timeout: 5_000 })).toBe('later');
    });

    it('a delayed task whose priority is not a number ends BAD_RECORD when due; the others due with it run', async () => {
      const app = await make();
      await app.start();
      // long enough for the corruption to land before they are due, even on a loaded machine
      const a = await app.addTask('cp.echo', ['a'], { delay: 1_000 });
      const bad = await app.addTask('cp.echo', ['bad'], { delay: 1_000 });
      const c = await app.addTask('cp.echo', ['c'], { delay: 1_000 });
      await hooks.corrupt(app, bad.id, 'priority');
      expect(await a.result({ timeout: 5_000 })).toBe('a');
      expect(await c.result({ timeout: 5_000 })).toBe('c');
      await expect(bad.result({ timeout: 5_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_FAILED, cause: BAD });
      expect(poisonProbe.runs(bad.id)).toBe(0);
      // a read of the corrupt record already says error; the stored status follows once a worker
      // reaches the task (at once on most engines, with its delivery on a broker of another engine)
      await waitFor(async () => (await app.manager.counts()).error === 1, 'the bad task to be stored as error', 5_000);
      expect(await app.manager.counts()).toMatchObject({ delayed: 0, new: 0, process: 0, success: 2, error: 1 });
    });

    for (const how of ['result', 'error'] as const) {
      it(`a finished record whose ${how} cannot be decoded is flagged by reads; the rest of the queue reads as usual`, async () => {
        const app = await make();
        await app.start();
        const ok = await app.addTask('cp.echo', ['ok']);
        const victim = await app.addTask(how === 'result' ? 'cp.echo' : 'cp.fail', ['victim']);
        const failed = await app.addTask('cp.fail');
        await ok.result({ timeout: 5_000 });
        await victim.result({ timeout: 5_000 }).catch(() => undefined);
        await failed.result({ timeout: 5_000 }).catch(() => undefined);
        await hooks.corrupt(app, victim.id, how);

        expect(await app.getTask(victim.id)).toMatchObject({ id: victim.id, status: 'error', error: BAD });
        expect(await app.manager.get(victim.id)).toMatchObject({ id: victim.id, status: 'error', error: BAD });
        const all = await app.manager.list();
        expect(all.map((r) => r.id)).toEqual([failed.id, victim.id, ok.id]);
        expect(all[1]).toMatchObject({ status: 'error', error: BAD });
        expect(all[2]).toMatchObject({ status: 'success', returning: 'ok' });
        expect((await app.manager.list({ status: 'success' })).map((r) => r.id)).toEqual([ok.id]);
        expect((await app.manager.list({ name: 'cp.fail' })).map((r) => r.id)).toContain(failed.id);
        expect((await app.manager.list({ limit: 1, offset: 2 })).map((r) => r.id)).toEqual([ok.id]);
        expect(await app.manager.counts()).toMatchObject({ success: expect.any(Number), error: expect.any(Number) });
        expect(Array.isArray(await app.manager.workers())).toBe(true);
        await expect(victim.result({ timeout: 2_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_FAILED, cause: BAD });
      });
    }

    it('a record whose arguments are nested 1,001 levels does not break list, get or counts', async () => {
      const app = await make();
      const deep = await app.addTask('cp.echo', ['deep'], { delay: 60_000 });
      const plain = await app.addTask('cp.echo', ['plain'], { delay: 60_000 });
      await hooks.corrupt(app, deep.id, 'deep-args');
      expect(await app.getTask(deep.id)).toMatchObject({ id: deep.id });
      expect((await app.manager.list({ name: 'cp.echo' })).map((r) => r.id)).toEqual([plain.id, deep.id]);
      expect((await app.manager.list({ since: 0, status: 'delayed' })).map((r) => r.id)).toContain(plain.id);
      expect(await app.manager.counts()).toMatchObject({ delayed: 2 });
    });

    it('a stream item that cannot be decoded is skipped: the other items stream and the task ends', async () => {
      const app = await make();
      await app.start();
      const h = await app.addTask('cp.items', [4]);
      expect(await h.result({ timeout: 5_000 })).toEqual([0, 1, 2, 3]);
      await hooks.corrupt(app, h.id, 'item');
      const seen: unknown[] = [];
      for await (const x of h.stream()) seen.push(x);
      expect(seen.slice(-3)).toEqual([1, 2, 3]);
      expect(await app.getTask(h.id)).toMatchObject({ status: 'success' });
      expect((await app.storage.items(h.id)).slice(-3)).toEqual([1, 2, 3]);
    });

    if (hooks.corruptState) {
      const corruptState = hooks.corruptState;
      it('a state value that cannot be decoded rejects BAD_RECORD on read; the other keys read, and set() repairs it', async () => {
        const app = await make();
        const tally = app.state(PoisonTally);
        await tally.set('good', 1);
        await tally.set('other', 'x');
        await tally.set('bad', 2);
        await corruptState(app, tally.name, 'bad', '{"cut');
        await expect(tally.get('bad')).rejects.toMatchObject({ code: ErrorCodes.BAD_RECORD, details: { state: tally.name, key: 'bad' } });
        // update never hands the corrupt value to user code
        let called = 0;
        await expect(tally.update('bad', (v) => (called++, (v ?? 0) + 1))).rejects.toMatchObject({ code: ErrorCodes.BAD_RECORD });
        expect(called).toBe(0);
        expect(await tally.get('good')).toBe(1);
        expect(await tally.all()).toEqual({ good: 1, other: 'x' });
        // a counter over a value that is not a number starts again from 0, as with any non-number
        await corruptState(app, tally.name, 'good', 'not json');
        expect(await tally.incr('good', 5)).toBe(5);
        await tally.set('bad', 7);
        expect(await tally.get('bad')).toBe(7);
        await corruptState(app, tally.name, 'other', '[');
        expect(await tally.delete('other')).toBe(true);
        expect(await tally.all()).toEqual({ good: 5, bad: 7 });
      });
    }

    if (hooks.corruptWorker) {
      const corruptWorker = hooks.corruptWorker;
      it('a worker entry that cannot be decoded is skipped by workers(); counts and list still work', async () => {
        const app = await make();
        await app.start();
        const h = await app.addTask('cp.echo', [1]);
        await h.result({ timeout: 5_000 });
        const [me] = await app.manager.workers();
        await corruptWorker(app, me.id);
        const seen = await app.manager.workers();
        expect(Array.isArray(seen)).toBe(true);
        for (const w of seen) expect(typeof w.id).toBe('string');
        expect(await app.manager.counts()).toMatchObject({ success: 1 });
        expect((await app.manager.list()).map((r) => r.id)).toEqual([h.id]);
      });
    }
  });
}
