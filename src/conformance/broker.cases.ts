/**
 * Broker conformance suite: every broker runs these cases through the public API of an app built
 * by its factory. A runner file calls `brokerConformance('memory', factory)`.
 */
import 'reflect-metadata';
import { describe, it, expect, beforeEach, afterEach } from './jest-globals';
import { ErrorCodes, QTasks, ResultTimeoutError, TaskRecord } from '..';
import { BrokerTasks, probe } from './broker-tasks';
import { brokerFailureCases } from './broker-failure.cases';
import { AppFactory, AppSpec, AppTracker, ConformanceFeatures, onePartition, sleep, waitFor } from './support';

export type { AppFactory, AppSpec, ConformanceFeatures } from './support';

/** Makes an app of the suite with its tasks registered. */
export type MakeApp = (spec?: Partial<AppSpec>) => Promise<QTasks>;

/**
 * Defines the broker cases for an engine.
 * @param name label of the engine in test names
 * @param makeApp builds an app on the engine (see {@link AppFactory})
 * @param cleanup run after each case, once its apps are closed (e.g. delete keys)
 * @param features optional abilities that enable more cases
 */
export function brokerConformance(name: string, makeApp: AppFactory, cleanup?: () => Promise<void>, features: ConformanceFeatures = {}): void {
  describe(`Broker conformance: ${name}`, () => {
    const tracker = new AppTracker(makeApp, cleanup);
    const make: MakeApp = async (spec = {}) => (await tracker.make({ suite: 'b', ...spec })).register(BrokerTasks);
    beforeEach(() => probe.reset());
    afterEach(() => tracker.closeAll());

    it('runs a task and keeps its result on the record', async () => {
      const app = await make();
      await app.start();
      const h = await app.addTask('cb.add', [1, 2]);
      expect(await h.result({ timeout: 2_000 })).toBe(3);
      const rec = await app.getTask(h.id);
      expect(rec).toMatchObject({ id: h.id, name: 'cb.add', status: 'success', returning: 3, attempt: 1, args: [1, 2] });
      expect(rec!.finishedAt).toBeGreaterThanOrEqual(rec!.startedAt!);
      expect(await h.status()).toBe('success');
      const workers = await app.manager.workers();
      expect(workers).toHaveLength(1);
      expect(workers[0]).toMatchObject({ pid: process.pid, concurrency: expect.any(Number) });
      expect(rec!.workerId).toBe(workers[0].id);
    });

    it('keeps tasks added before start queued, then runs them', async () => {
      const app = await make();
      const h = await app.addTask('cb.add', [2, 2]);
      await sleep(30);
      expect(await app.getTask(h.id)).toMatchObject({ status: 'new', attempt: 0 });
      expect(probe.runs(h.id)).toBe(0);
      await app.start();
      expect(await h.result({ timeout: 2_000 })).toBe(4);
    });

    it('dedups by id: a second add returns the existing task', async () => {
      const app = await make();
      const a = await app.addTask('cb.add', [1, 1], { id: 'same-id' });
      const b = await app.addTask('cb.add', [5, 5], { id: 'same-id' });
      expect(b.id).toBe('same-id');
      expect(a.id).toBe('same-id');
      await app.start();
      expect(await b.result({ timeout: 2_000 })).toBe(2);
      expect(await app.manager.list({ name: 'cb.add' })).toHaveLength(1);
      expect(probe.runs('same-id')).toBe(1);
    });

    it('runs lower priorities first, FIFO among equals', async () => {
      const app = await make({ concurrency: 1 });
      const plan: [string, number][] = [['a5', 5], ['b1', 1], ['c3', 3], ['d1', 1], ['e0', 0], ['f3', 3], ['g1', 1]];
      const handles = [];
      const ids = onePartition(features, plan.length);
      for (const [i, [label, priority]] of plan.entries()) handles.push(await app.addTask('cb.order', [label], { priority, ...ids[i] }));
      await app.start();
      for (const h of handles) await h.result({ timeout: 2_000 });
      expect(probe.marks.get('order')).toEqual(['e0', 'b1', 'd1', 'g1', 'c3', 'f3', 'a5']);
    });

    it('applies the @Task defaults (priority, timeout) unless addTask overrides them', async () => {
      const app = await make();
      const d = await app.addTask('cb.defaults', [500]);
      const o = await app.addTask('cb.defaults', [1], { priority: 2, timeout: 2_000 });
      expect(await app.getTask(d.id)).toMatchObject({ priority: 7 });
      expect(await app.getTask(o.id)).toMatchObject({ priority: 2 });
      await app.start();
      await expect(d.result({ timeout: 3_000 })).rejects.toMatchObject({ cause: { code: ErrorCodes.TASK_TIMEOUT } });
      expect(await o.result({ timeout: 3_000 })).toBe('waited');
    });

    it('runs a delayed task not before its time, and soon after', async () => {
      const app = await make();
      await app.start();
      const h = await app.addTask('cb.add', [3, 4], { delay: 300 });
      expect(await h.status()).toBe('delayed');
      await sleep(50);
      expect(probe.runs(h.id)).toBe(0);
      expect(await h.result({ timeout: 3_000 })).toBe(7);
      const rec = (await app.getTask(h.id))!;
      expect(rec.startedAt! - rec.createdAt).toBeGreaterThanOrEqual(300);
      // due within ~150 ms of its time (generous bound: loaded CI machines)
      expect(rec.startedAt! - rec.createdAt).toBeLessThan(300 + 1_000);
    });

    it('streams generator items in order and returns their list', async () => {
      const app = await make();
      await app.start();
      const h = await app.addTask('cb.gen', [4, 5]);
      const seen: unknown[] = [];
      for await (const x of h.stream()) seen.push(x);
      expect(seen).toEqual([0, 10, 20, 30]);
      expect(await h.result()).toEqual([0, 10, 20, 30]);
    });

    it('streams a burst of items yielded with no pause, in order, each stored before the end', async () => {
      const app = await make();
      await app.start();
      // more items than a generator may run ahead of the store: it waits for the store on the way
      const h = await app.addTask('cb.gen', [2_500, 0]);
      const live: unknown[] = [];
      for await (const x of h.stream()) live.push(x);
      const all = Array.from({ length: 2_500 }, (_, i) => i * 10);
      expect(live).toEqual(all);
      expect(await h.result({ timeout: 5_000 })).toEqual(all);
      expect(await app.storage.items(h.id)).toEqual(all);
    });

    it('stream() called after the end still yields every item', async () => {
      const app = await make();
      await app.start();
      const h = await app.addTask('cb.gen', [3, 0]);
      expect(await h.result({ timeout: 2_000 })).toEqual([0, 10, 20]);
      const seen: unknown[] = [];
      for await (const x of h.stream()) seen.push(x);
      expect(seen).toEqual([0, 10, 20]);
    });

    it('stores progress on the record and emits task:progress', async () => {
      const app = await make();
      const seen: unknown[] = [];
      app.on('task:progress', (e) => seen.push([e.id, e.name, e.progress]));
      await app.start();
      const h = await app.addTask('cb.progress', [42]);
      await h.result({ timeout: 2_000 });
      expect((await app.getTask(h.id))?.progress).toBe(42);
      await waitFor(() => seen.length > 0, 'task:progress');
      expect(seen).toEqual([[h.id, 'cb.progress', 42]]);
    });

    it('fires task:success, task:error, task:retry and task:cancel once each', async () => {
      const app = await make();
      const seen: string[] = [];
      const records: TaskRecord[] = [];
      for (const ev of ['task:success', 'task:error', 'task:retry', 'task:cancel'] as const) {
        app.on(ev, (e) => {
          seen.push(`${ev}:${e.record.id}`);
          records.push(e.record);
        });
      }
      const queued = await app.addTask('cb.add', [0, 0], { delay: 60_000 });
      expect(await app.cancel(queued.id)).toBe(true);
      await app.start();
      const ok = await app.addTask('cb.add', [1, 1]);
      const bad = await app.addTask('cb.flaky', [5], { retry: 1 });
      await ok.result({ timeout: 2_000 });
      await expect(bad.result({ timeout: 2_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_FAILED });
      await waitFor(() => seen.length >= 4, 'four events');
      await sleep(50);
      expect(seen.sort()).toEqual(
        [`task:cancel:${queued.id}`, `task:error:${bad.id}`, `task:retry:${bad.id}`, `task:success:${ok.id}`].sort(),
      );
      const success = records.find((r) => r.id === ok.id)!;
      expect(success).toMatchObject({ status: 'success', returning: 2 });
    });

    it('getTask is undefined and result() rejects TASK_NOT_FOUND for an unknown id', async () => {
      const app = await make();
      expect(await app.getTask('no-such-task')).toBeUndefined();
      await expect(app.handle('no-such-task').result({ timeout: 1_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_NOT_FOUND });
      const h = await app.addTask('cb.add', [1, 1]);
      expect(await app.manager.remove(h.id)).toBe(true);
      await expect(h.result({ timeout: 1_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_NOT_FOUND });
    });

    it('result({ timeout }) throws ResultTimeoutError and result() may be called again', async () => {
      const app = await make();
      await app.start();
      const h = await app.addTask('cb.wait', [150]);
      const err = await h.result({ timeout: 20 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ResultTimeoutError);
      expect(err).toMatchObject({ code: ErrorCodes.RESULT_TIMEOUT });
      expect(await h.result({ timeout: 3_000 })).toBe('waited');
    });

    it('pauses and resumes claiming through the manager', async () => {
      const app = await make();
      await app.start();
      await app.manager.pause();
      expect(await app.manager.isPaused()).toBe(true);
      const h = await app.addTask('cb.add', [1, 2]);
      await sleep(80);
      expect(probe.runs(h.id)).toBe(0);
      expect(await h.status()).toBe('new');
      await app.manager.resume();
      expect(await app.manager.isPaused()).toBe(false);
      expect(await h.result({ timeout: 2_000 })).toBe(3);
    });

    it('manager.retry queues a failed task again with the same id', async () => {
      const app = await make();
      await app.start();
      const h = await app.addTask('cb.onceBroken', []);
      await expect(h.result({ timeout: 2_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_FAILED });
      expect(await app.manager.retry(h.id)).toBe(true);
      expect(await h.result({ timeout: 2_000 })).toBe('fixed');
      expect(await app.getTask(h.id)).toMatchObject({ id: h.id, status: 'success', attempt: 1 });
      expect(await app.manager.retry(h.id)).toBe(false);
      expect(await app.manager.retry('no-such-task')).toBe(false);
    });

    it('close() is idempotent and addTask after close rejects QTASKS_ERR_CLOSED', async () => {
      const app = await make();
      await app.start();
      await (await app.addTask('cb.add', [1, 1])).result({ timeout: 2_000 });
      await Promise.all([app.close(), app.close()]);
      await app.close();
      await expect(app.addTask('cb.add', [1, 1])).rejects.toMatchObject({ code: ErrorCodes.CLOSED });
    });

    brokerFailureCases(make);

    if (features.sharedQueue) {
      it('a producer app (never started) and a worker app share one queue', async () => {
        const producer = await make();
        const worker = await make({ name: producer.name });
        await worker.start();
        const h = await producer.addTask('cb.add', [20, 22]);
        expect(await h.result({ timeout: 3_000 })).toBe(42);
        expect(await producer.getTask(h.id)).toMatchObject({ status: 'success', returning: 42 });
        const g = await producer.addTask('cb.gen', [2, 0]);
        const seen: unknown[] = [];
        for await (const x of g.stream()) seen.push(x);
        expect(seen).toEqual([0, 10]);
        expect((await producer.manager.counts()).success).toBe(2);
      });

      it('a task dropped at its end (removeOnComplete / removeOnFail: true) settles result() in the producer app that added it, also when asked after the drop', async () => {
        const producer = await make();
        const worker = await make({ name: producer.name });
        await worker.start();
        const ok = await producer.addTask('cb.add', [20, 22], { removeOnComplete: true });
        const bad = await producer.addTask('cb.throwAsync', [], { removeOnFail: true });
        for (const h of [ok, bad]) await waitFor(async () => (await worker.getTask(h.id)) === undefined, `task ${h.id} to be dropped`);
        expect(await ok.result({ timeout: 3_000 })).toBe(42);
        await expect(bad.result({ timeout: 3_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_FAILED });
        expect(await producer.getTask(ok.id)).toBeUndefined();
      });

      it('a producer cancels a task running in the worker app: its signal aborts there', async () => {
        const producer = await make();
        const worker = await make({ name: producer.name });
        await worker.start();
        const h = await producer.addTask('cb.wait', [5_000]);
        await waitFor(() => probe.runs(h.id) === 1, 'the task to start');
        expect(await producer.cancel(h.id, 'from producer')).toBe(true);
        await expect(h.result({ timeout: 3_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_CANCELLED });
        await waitFor(() => probe.aborted.has(h.id), 'the signal to abort in the worker', 1_000);
        expect(await producer.getTask(h.id)).toMatchObject({ status: 'cancel', cancelReason: 'from producer' });
      });
    }

    if (features.sharedQueue && features.sharedEvents) {
      it('every app of the queue sees each event once, the worker included', async () => {
        const producer = await make();
        const worker = await make({ name: producer.name });
        const seen: string[] = [];
        producer.on('task:success', (e) => seen.push(`producer:${e.record.id}`));
        worker.on('task:success', (e) => seen.push(`worker:${e.record.id}`));
        await worker.start();
        const h = await producer.addTask('cb.add', [1, 1]);
        await h.result({ timeout: 3_000 });
        await waitFor(() => seen.length >= 2, 'both apps to see task:success');
        await sleep(50);
        expect(seen.sort()).toEqual([`producer:${h.id}`, `worker:${h.id}`]);
      });
    }
  });
}
