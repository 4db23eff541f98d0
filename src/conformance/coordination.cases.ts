/**
 * Coordination conformance suite: what apps of one queue agree on through the engine — the rate
 * limit of a task (`@Task({ rateLimit })`, `broker.rateLimit`) and the timer lock (`broker.tryLock`,
 * which makes each tick of `app.timer` enqueue once however many apps run the timer).
 */
import 'reflect-metadata';
import { describe, it, expect, beforeEach, afterEach } from './jest-globals';
import { ErrorCodes, QTasks } from '..';
import { coordinationProbe, CoordinationTasks, LIMIT } from './coordination-tasks';
import { AppFactory, AppSpec, AppTracker, ConformanceFeatures, sleep, uniqueName, waitFor } from './support';

/**
 * The body start times allow at most `max` starts in a window of `per` ms. A start is granted at
 * the time the worker asks and the body runs after the answer: half a window of slack for that
 * lag on a loaded machine (without the limit, the starts are a few ms apart).
 */
function expectWindows(starts: number[]): void {
  const sorted = [...starts].sort((a, b) => a - b);
  for (let i = 0; i + LIMIT.max < sorted.length; i++) expect(sorted[i + LIMIT.max] - sorted[i]).toBeGreaterThanOrEqual(LIMIT.per / 2);
}

/**
 * Defines the coordination cases for an engine.
 * @param name label of the engine in test names
 * @param makeApp builds an app on the engine
 * @param cleanup run after each case, once its apps are closed
 * @param features with `sharedQueue`, the cases of two apps of one queue run too
 */
export function coordinationConformance(name: string, makeApp: AppFactory, cleanup?: () => Promise<void>, features: ConformanceFeatures = {}): void {
  describe(`Coordination conformance: ${name}`, () => {
    const tracker = new AppTracker(makeApp, cleanup);
    const make = async (spec: Partial<AppSpec> = {}): Promise<QTasks> =>
      (await tracker.make({ suite: 'co', concurrency: 8, ...spec })).register(CoordinationTasks);
    beforeEach(() => coordinationProbe.reset());
    afterEach(() => tracker.closeAll());

    describe('rate limit', () => {
      it('starts at most max tasks in any window of per ms; other tasks are not held up', async () => {
        const app = await make();
        await app.start();
        const handles = await app.addTasks([0, 1, 2, 3, 4].map((i) => ({ name: 'co.limited', args: [i] })));
        expect(await (await app.addTask<number>('co.plain')).result({ timeout: 5_000 })).toBeLessThan(5);
        expect((await Promise.all(handles.map((h) => h.result({ timeout: 10_000 })))).sort()).toEqual([0, 1, 2, 3, 4]);
        expectWindows(coordinationProbe.starts);
      });

      it('ends a task waiting for its slot when it is cancelled; it never starts', async () => {
        const app = await make();
        await app.start();
        const first = await app.addTasks([0, 1].map((i) => ({ name: 'co.limited', args: [i] })));
        await Promise.all(first.map((h) => h.result({ timeout: 5_000 })));
        const waiting = await app.addTask('co.limited', [9]);
        await waitFor(async () => (await app.getTask(waiting.id))?.status === 'process', 'the task to wait for its slot');
        expect(await waiting.cancel('not needed')).toBe(true);
        await expect(waiting.result({ timeout: 5_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_CANCELLED });
        await sleep(LIMIT.per);
        expect(coordinationProbe.starts).toHaveLength(2);
      });

      it('broker.rateLimit grants max calls per window and says how long to wait after', async () => {
        const app = await make();
        await app.init();
        const key = uniqueName('rl');
        const waits = [];
        for (let i = 0; i < 4; i++) waits.push(await app.broker.rateLimit(key, 3, 60_000));
        expect(waits.slice(0, 3)).toEqual([0, 0, 0]);
        expect(waits[3]).toBeGreaterThan(0);
        expect(waits[3]).toBeLessThanOrEqual(60_000);
        expect(await app.broker.rateLimit(uniqueName('rl'), 1, 60_000)).toBe(0);
      });

      if (features.sharedQueue) {
        it('is shared by the apps of one queue', async () => {
          const q = uniqueName('co');
          const [one, two] = [await make({ name: q }), await make({ name: q })];
          await Promise.all([one.init(), two.init()]);
          const waits = await Promise.all([one, two, one, two].map((app) => app.broker.rateLimit('shared', 3, 60_000)));
          expect(waits.filter((w) => w === 0)).toHaveLength(3);
          await Promise.all([one.start(), two.start()]);
          const handles = await one.addTasks([0, 1, 2, 3, 4].map((i) => ({ name: 'co.limited', args: [i] })));
          expect((await Promise.all(handles.map((h) => h.result({ timeout: 10_000 })))).sort()).toEqual([0, 1, 2, 3, 4]);
          expectWindows(coordinationProbe.starts);
        });
      }
    });

    describe('timer lock', () => {
      it('broker.tryLock is taken once until its ttl passes', async () => {
        const app = await make();
        await app.init();
        const key = uniqueName('lock');
        expect(await app.broker.tryLock(key, 60_000)).toBe(true);
        expect(await app.broker.tryLock(key, 60_000)).toBe(false);
        const short = uniqueName('lock');
        expect(await app.broker.tryLock(short, 50)).toBe(true);
        await sleep(120);
        expect(await app.broker.tryLock(short, 60_000)).toBe(true);
        expect(await app.broker.tryLock(short, 60_000)).toBe(false);
      });

      if (features.sharedQueue) {
        it('is shared by the apps of one queue: each timer tick is enqueued once', async () => {
          const q = uniqueName('co');
          const [one, two] = [await make({ name: q }), await make({ name: q })];
          await Promise.all([one.init(), two.init()]);
          expect(await one.broker.tryLock('held', 60_000)).toBe(true);
          expect(await two.broker.tryLock('held', 60_000)).toBe(false);
          // count what each app's timer tries and wins
          const tries = new Map<string, number>();
          let wins = 0;
          // apps of one queue may share one broker object (the memory engine): wrap each once
          for (const broker of new Set([one.broker, two.broker])) {
            const take = broker.tryLock.bind(broker);
            broker.tryLock = async (key: string, ttlMs: number) => {
              const won = await take(key, ttlMs);
              if (key.startsWith('timer:')) {
                tries.set(key, (tries.get(key) ?? 0) + 1);
                if (won) wins++;
              }
              return won;
            };
          }
          const timers = [one, two].map((app) => app.timer.every(100, 'co.tick'));
          await Promise.all([one.start(), two.start()]);
          await waitFor(() => [...tries.values()].filter((n) => n === 2).length >= 4, 'both timers to try four ticks', 10_000);
          for (const t of timers) t.stop();
          await sleep(150);
          expect(wins).toBe(tries.size);
          await waitFor(() => coordinationProbe.ticks >= wins, 'every won tick to run', 10_000);
          await sleep(200);
          expect(coordinationProbe.ticks).toBe(wins);
        });
      }
    });
  });
}
