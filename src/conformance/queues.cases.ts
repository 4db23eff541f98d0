/**
 * Named queues conformance suite: one app consuming several queues each with its own concurrency,
 * routing by the task's queue (or `opts.queue`), tasks of a queue the app does not consume, the
 * manager's calls per queue (`queues()`, `list/counts/pause/resume/purge` with a queue), unknown
 * queue names, and (on a shared engine) a producer app routing to a worker app of another queue.
 */
import 'reflect-metadata';
import { describe, it, expect, afterEach } from './jest-globals';
import { ErrorCodes, QTasks, Task } from '..';
import type { Constructor } from '../metadata';
import { AppFactory, AppTracker, ConformanceFeatures, sleep, uniqueName, waitFor } from './support';

/** A gate tasks wait on, and how many of each queue run at once. */
class Gate {
  private waiters: (() => void)[] = [];
  private opened = false;
  readonly running = new Map<string, number>();
  readonly most = new Map<string, number>();

  reset(): void {
    this.open();
    this.opened = false;
    this.running.clear();
    this.most.clear();
  }

  open(): void {
    this.opened = true;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  async pass(queue: string): Promise<void> {
    const now = (this.running.get(queue) ?? 0) + 1;
    this.running.set(queue, now);
    this.most.set(queue, Math.max(now, this.most.get(queue) ?? 0));
    if (!this.opened) await new Promise<void>((r) => this.waiters.push(r));
    this.running.set(queue, (this.running.get(queue) ?? 1) - 1);
  }
}

const gate = new Gate();

/** Tasks pinned to queues `a` and `b` (made per test: queue names are unique per test). */
function tasksOf(a: string, b: string): { A: Constructor; B: Constructor; Plain: Constructor } {
  @Task({ name: 'cq.a', queue: a })
  class A {
    async run(n: number): Promise<string> {
      await gate.pass(a);
      return `a${n}`;
    }
  }
  @Task({ name: 'cq.b', queue: b })
  class B {
    async run(n: number): Promise<string> {
      await gate.pass(b);
      return `b${n}`;
    }
  }
  @Task({ name: 'cq.plain' })
  class Plain {
    run(n: number): number {
      return n + 1;
    }
  }
  return { A, B, Plain };
}

/** Describes the named-queue cases on the engine `factory` builds apps of. */
export function queuesConformance(title: string, factory: AppFactory, cleanup: (() => Promise<void>) | undefined, features: ConformanceFeatures = {}): void {
  describe(`named queues on ${title}`, () => {
    const tracker = new AppTracker(factory, cleanup);
    const names = () => ({ main: uniqueName('qm'), a: uniqueName('qa'), b: uniqueName('qb') });
    const make = async (name: string, queues: Record<string, { concurrency?: number }> | undefined, ...classes: Constructor[]): Promise<QTasks> => {
      const app = await tracker.make({ name, queues, concurrency: 2 });
      app.register(...classes);
      return app;
    };

    afterEach(async () => {
      gate.reset();
      await tracker.closeAll();
    });

    it('one app consumes several queues, each with its own concurrency, and routes each task to its queue', async () => {
      const q = names();
      const { A, B, Plain } = tasksOf(q.a, q.b);
      const app = await make(q.main, { [q.a]: { concurrency: 1 }, [q.b]: { concurrency: 3 } }, A, B, Plain);
      await app.start();
      const ha = await Promise.all([1, 2, 3].map((n) => app.addTask('cq.a', [n])));
      const hb = await Promise.all([1, 2, 3, 4, 5].map((n) => app.addTask('cq.b', [n])));
      const hp = await app.addTask('cq.plain', [1]);
      await waitFor(() => gate.running.get(q.a) === 1 && gate.running.get(q.b) === 3, 'queue a to run 1 task and queue b 3');
      await sleep(100);
      expect(gate.most.get(q.a)).toBe(1);
      expect(gate.most.get(q.b)).toBe(3);
      // each task is in its own queue's records, none in the others
      expect((await app.manager.list({ queue: q.a })).map((r) => r.name)).toEqual(['cq.a', 'cq.a', 'cq.a']);
      // (an engine may hold claimed tasks beyond what runs: only the sum is fixed)
      const cb = await app.manager.counts(q.b);
      expect(cb.new + cb.process).toBe(5);
      expect(await app.manager.list({ queue: q.main, name: 'cq.a' })).toEqual([]);
      expect(await hp.result({ timeout: 5_000 })).toBe(2);
      gate.open();
      expect(await Promise.all(ha.map((h) => h.result({ timeout: 5_000 })))).toEqual(['a1', 'a2', 'a3']);
      expect(await Promise.all(hb.map((h) => h.result({ timeout: 5_000 })))).toEqual(['b1', 'b2', 'b3', 'b4', 'b5']);
      expect((await app.manager.counts(q.b)).success).toBe(5);
      // every queue's worker is listed with its queue and concurrency
      const workers = await app.manager.workers();
      const byQueue = Object.fromEntries(workers.map((w) => [w.queues?.join(','), w.concurrency]));
      expect(byQueue).toMatchObject({ [q.main]: 2, [q.a]: 1, [q.b]: 3 });
    });

    it("the app's own name listed in queues is consumed once, with those settings", async () => {
      const q = names();
      const { Plain } = tasksOf(q.a, q.b);
      const app = await make(q.main, { [q.main]: { concurrency: 3 } }, Plain);
      await app.start();
      expect(await (await app.addTask('cq.plain', [4])).result({ timeout: 5_000 })).toBe(5);
      const workers = await app.manager.workers();
      expect(workers).toHaveLength(1);
      expect(workers[0]).toMatchObject({ concurrency: 3, queues: [q.main] });
    });

    it('opts.queue sends a task to another known queue; getTask, handle and cancel find it there', async () => {
      const q = names();
      const { A, B } = tasksOf(q.a, q.b);
      const app = await make(q.main, { [q.a]: { concurrency: 1 } }, A, B);
      await app.start();
      gate.open();
      const h = await app.addTask('cq.b', [7], { queue: q.a });
      expect(await h.result({ timeout: 5_000 })).toBe('b7');
      expect((await app.manager.list({ queue: q.a })).map((r) => r.id)).toEqual([h.id]);
      expect(await app.manager.list({ queue: q.b })).toEqual([]);
      expect((await app.getTask(h.id))?.status).toBe('success');
      expect(await app.handle(h.id).result({ timeout: 5_000 })).toBe('b7');
      expect(await app.handle(h.id, { queue: q.a }).status()).toBe('success');
      expect((await app.manager.get(h.id))?.name).toBe('cq.b');
    });

    it('a task of a queue the app does not consume is routed there, waits for its workers, and its handle works', async () => {
      const q = names();
      const { A, B } = tasksOf(q.a, q.b);
      const app = await make(q.main, { [q.a]: {} }, A, B);
      await app.start();
      const h = await app.addTask('cq.b', [1]);
      await sleep(150);
      expect(await h.status()).toBe('new');
      expect((await app.manager.counts(q.b)).new).toBe(1);
      expect(await app.manager.list({ queue: q.a })).toEqual([]);
      expect(await h.cancel('not today')).toBe(true);
      expect(await app.manager.get(h.id)).toMatchObject({ status: 'cancel' });
      await expect(h.result({ timeout: 2_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_CANCELLED });
    });

    it('pause and resume act on one queue; purge takes a queue', async () => {
      const q = names();
      const { A, B } = tasksOf(q.a, q.b);
      const app = await make(q.main, { [q.a]: {}, [q.b]: {} }, A, B);
      gate.open();
      await app.manager.pause(q.a);
      expect(await app.manager.isPaused(q.a)).toBe(true);
      expect(await app.manager.isPaused(q.b)).toBe(false);
      expect(await app.manager.isPaused()).toBe(false);
      await app.start();
      const ha = await app.addTask('cq.a', [1]);
      const hb = await app.addTask('cq.b', [1]);
      expect(await hb.result({ timeout: 5_000 })).toBe('b1');
      await sleep(150);
      expect(await ha.status()).toBe('new');
      // purge reads one queue: the success of b, not of a (none) nor of the app's own
      expect(await app.manager.purge('success', q.a)).toBe(0);
      expect(await app.manager.purge('success')).toBe(0);
      expect(await app.manager.purge('success', q.b)).toBe(1);
      expect((await app.manager.counts(q.b)).success).toBe(0);
      await app.manager.resume(q.a);
      expect(await ha.result({ timeout: 5_000 })).toBe('a1');
    });

    it('manager.queues() lists every queue with its counts, pause and workers', async () => {
      const q = names();
      const { A, B } = tasksOf(q.a, q.b);
      const app = await make(q.main, { [q.a]: { concurrency: 2 } }, A, B);
      await app.start();
      gate.open();
      await (await app.addTask('cq.a', [1])).result({ timeout: 5_000 });
      await app.addTask('cq.b', [1]);
      await app.manager.pause(q.b);
      const list = await app.manager.queues();
      const by = new Map(list.map((i) => [i.name, i]));
      expect(list[0].name).toBe(q.main);
      expect(by.get(q.a)).toMatchObject({ paused: false, counts: { success: 1 } });
      expect(by.get(q.a)!.workers.map((w) => w.queues)).toEqual([[q.a]]);
      expect(by.get(q.b)).toMatchObject({ paused: true, counts: { new: 1 }, workers: [] });
      expect(by.get(q.main)!.workers).toHaveLength(1);
    });

    it('an unknown queue name is QTASKS_ERR_UNKNOWN_QUEUE naming the closest known queue', async () => {
      const q = names();
      const { A, Plain } = tasksOf(q.a, q.b);
      const app = await make(q.main, undefined, A, Plain);
      const typo = q.a.slice(0, -1) + 'x';
      await expect(app.addTask('cq.plain', [1], { queue: typo })).rejects.toMatchObject({ code: ErrorCodes.UNKNOWN_QUEUE, details: { closest: q.a } });
      await expect(app.manager.counts(typo)).rejects.toMatchObject({ code: ErrorCodes.UNKNOWN_QUEUE, details: { closest: q.a } });
      await expect(app.manager.list({ queue: 'nowhere-at-all' })).rejects.toMatchObject({ code: ErrorCodes.UNKNOWN_QUEUE });
      await expect(app.manager.pause('nowhere-at-all')).rejects.toMatchObject({ code: ErrorCodes.UNKNOWN_QUEUE });
      await expect(app.manager.purge('new', 'nowhere-at-all')).rejects.toMatchObject({ code: ErrorCodes.UNKNOWN_QUEUE });
      await expect(app.manager.counts(42 as unknown as string)).rejects.toMatchObject({ code: ErrorCodes.BAD_OPTION });
      // the task's own queue is known once registered: counts work before anything ran there
      expect((await app.manager.counts(q.a)).new).toBe(0);
    });

    if (features.sharedQueue && features.sharedEvents) {
      it("a producer routes to another app's queue; that app's worker runs it and the producer's manager sees the queue", async () => {
        const q = names();
        const { B } = tasksOf(q.a, q.b);
        const producer = await make(q.main, undefined, B);
        const worker = await make(q.b, undefined, B);
        await worker.start();
        gate.open();
        const h = await producer.addTask('cq.b', [9]);
        expect(await h.result({ timeout: 5_000 })).toBe('b9');
        expect((await worker.manager.get(h.id))?.status).toBe('success');
        const listed = (await producer.manager.queues()).find((i) => i.name === q.b);
        expect(listed).toMatchObject({ counts: { success: 1 } });
        expect(listed!.workers).toHaveLength(1);
        // a queue only the engine knows is readable by name
        const other = await make(uniqueName('qo'), undefined);
        expect((await other.manager.counts(q.b)).success).toBe(1);
      });
    }
  });
}
