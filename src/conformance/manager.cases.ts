/**
 * The TaskManager suite, written over an engine so that the in-memory and the Redis engines run the
 * same cases: list (status, name, time, paging), counts, get, retry, cancel, remove, purge,
 * pause/resume and workers.
 */
import 'reflect-metadata';
import { describe, it, expect, beforeEach, afterEach } from './jest-globals';
import type { QTasks, TaskHandle, TaskRecord } from '..';
import { gate, ManagerTasks, runs, started } from './manager-tasks';
import { ManagerEngine, waitForValue } from './manager-support';
import { sleep, uniqueName } from './support';

/** Declares the TaskManager cases on `engine`. */
export function describeManager(engine: ManagerEngine): void {
  describe(`TaskManager on ${engine.label}`, () => {
    let apps: QTasks[] = [];
    let queue: string;

    const make = (start = false, leaseMs?: number): QTasks => {
      const config = { logLevel: 'silent' as const, shutdownTimeoutMs: 200, ...(leaseMs === undefined ? {} : { leaseMs }) };
      const app = engine.make(queue, { discover: false, concurrency: 4, config });
      app.register(ManagerTasks);
      apps.push(app);
      if (start) void app.start();
      return app;
    };
    const status = async (app: QTasks, id: string) => (await app.manager.get(id))?.status;
    /** The one live worker of the queue, once it is listed. */
    const onlyWorker = async (app: QTasks) => {
      const list = await waitForValue('the worker to be listed', async () => {
        const l = await app.manager.workers();
        return l.length === 1 ? l : undefined;
      });
      return list[0];
    };
    const final = (app: QTasks, id: string) =>
      waitForValue(`${id} to end`, async () => {
        const r = await app.manager.get(id);
        return r && ['success', 'error', 'cancel'].includes(r.status) ? r : undefined;
      });

    beforeEach(() => {
      queue = uniqueName('mgr');
      gate.reset();
      runs.clear();
      started.clear();
      apps = [];
    });

    afterEach(async () => {
      gate.open();
      for (const app of apps) await app.close();
      await engine.cleanup(queue);
    });

    it('lists newest first, filtered by status and name, and pages without overlap', async () => {
      const app = make();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await app.addTask('cm.echo', [i])).id);
      for (let i = 0; i < 2; i++) ids.push((await app.addTask('cm.fail', [])).id);
      const delayed = (await app.addTask('cm.echo', ['later'], { delay: 60_000 })).id;
      ids.push(delayed);

      const all = await app.manager.list();
      expect(all.map((r) => r.id)).toEqual([...ids].reverse());
      expect((await app.manager.list({ name: 'cm.fail' })).map((r) => r.id)).toEqual([ids[6], ids[5]]);
      expect((await app.manager.list({ status: 'delayed' })).map((r) => r.id)).toEqual([delayed]);
      expect(await app.manager.list({ status: 'new', name: 'cm.echo' })).toHaveLength(5);
      expect(await app.manager.list({ status: ['new', 'delayed'] })).toHaveLength(8);
      expect(await app.manager.list({ status: 'success' })).toEqual([]);

      const pages: TaskRecord[][] = [];
      for (let offset = 0; offset < 9; offset += 3) pages.push(await app.manager.list({ limit: 3, offset }));
      expect(pages.map((p) => p.length)).toEqual([3, 3, 2]);
      expect(pages.flat().map((r) => r.id)).toEqual(all.map((r) => r.id));
      expect(await app.manager.list({ limit: 3, offset: 8 })).toEqual([]);
    });

    it('lists by creation time (since inclusive, until exclusive)', async () => {
      const app = make();
      const early = [(await app.addTask('cm.echo', [1])).id, (await app.addTask('cm.echo', [2])).id];
      await sleep(5);
      const cut = Date.now();
      await sleep(5);
      const late = [(await app.addTask('cm.echo', [3])).id];
      expect((await app.manager.list({ since: cut })).map((r) => r.id)).toEqual(late);
      expect((await app.manager.list({ until: cut })).map((r) => r.id)).toEqual([...early].reverse());
      expect(await app.manager.list({ since: Date.now() + 60_000 })).toEqual([]);
    });

    it('counts by status and gets one record', async () => {
      const app = make();
      const before = await app.manager.counts();
      expect(Object.keys(before).sort()).toEqual(['cancel', 'delayed', 'error', 'new', 'process', 'retry', 'success', 'waiting']);
      expect(Object.values(before).every((n) => n === 0)).toBe(true);
      const h = await app.addTask('cm.echo', ['x']);
      await app.addTask('cm.echo', ['y'], { delay: 60_000 });
      const failing = await app.addTask('cm.fail', ['always']);
      expect(await app.manager.counts()).toMatchObject({ new: 2, delayed: 1, success: 0, error: 0 });
      await app.start();
      await final(app, h.id);
      await final(app, failing.id);
      expect(await app.manager.counts()).toMatchObject({ new: 0, delayed: 1, success: 1, error: 1, process: 0 });
      const rec = await app.manager.get(h.id);
      expect(rec).toMatchObject({ id: h.id, name: 'cm.echo', status: 'success', args: ['x'], returning: 'x', attempt: 1 });
      expect((await app.manager.get(failing.id))?.error).toMatchObject({ message: 'cm.fail run 1' });
      expect(await app.manager.get('no-such-task')).toBeUndefined();
    });

    it('retries an error or cancel task with the same id and its attempt reset, and nothing else', async () => {
      const app = make(true);
      const h = await app.addTask('cm.fail', ['once']);
      expect((await final(app, h.id)).status).toBe('error');
      expect(runs.get(h.id)).toBe(1);

      await app.manager.pause();
      expect(await app.manager.retry(h.id)).toBe(true);
      const queued = await app.manager.get(h.id);
      expect(queued).toMatchObject({ id: h.id, status: 'new', attempt: 0 });
      expect(queued?.error).toBeUndefined();
      expect(await app.manager.retry(h.id)).toBe(false); // queued: nothing to retry
      await app.manager.resume();
      expect(await h.result({ timeout: 5_000 })).toBe('ok on run 2');
      expect(await app.manager.get(h.id)).toMatchObject({ status: 'success', attempt: 1 });

      expect(await app.manager.retry(h.id)).toBe(false); // success
      expect(await app.manager.retry('no-such-task')).toBe(false);

      await app.manager.pause();
      const c = await app.addTask('cm.echo', ['c']);
      expect(await app.manager.cancel(c.id, 'not now')).toBe(true);
      expect(await app.manager.get(c.id)).toMatchObject({ status: 'cancel', cancelReason: 'not now' });
      expect(await app.manager.retry(c.id)).toBe(true);
      await app.manager.resume();
      expect(await c.result({ timeout: 5_000 })).toBe('c');
    });

    it('cancels queued and running tasks, and refuses finished or unknown ones', async () => {
      const producer = make();
      const queued = await producer.addTask('cm.echo', [1]);
      expect(await producer.manager.cancel(queued.id, 'operator')).toBe(true);
      expect(await producer.manager.get(queued.id)).toMatchObject({ status: 'cancel', cancelReason: 'operator' });
      expect(await producer.manager.cancel(queued.id)).toBe(false);
      expect(await producer.manager.cancel('no-such-task')).toBe(false);

      await producer.start();
      const running = await producer.addTask('cm.block', []);
      await waitForValue('block to run', async () => (await status(producer, running.id)) === 'process');
      expect(await producer.manager.cancel(running.id, 'stop it')).toBe(true);
      expect((await final(producer, running.id)).status).toBe('cancel');
    });

    it('removes and purges tasks, never running ones', async () => {
      const app = make(true);
      const running = await app.addTask('cm.block', []);
      await waitForValue('block to run', async () => (await status(app, running.id)) === 'process');
      const failed = [await app.addTask('cm.fail', []), await app.addTask('cm.fail', [])];
      for (const f of failed) await final(app, f.id);
      const done = await app.addTask('cm.echo', [1]);
      await final(app, done.id);

      expect(await app.manager.remove(running.id)).toBe(false);
      expect(await app.manager.purge('process')).toBe(0);
      expect(await status(app, running.id)).toBe('process');

      expect(await app.manager.remove(done.id)).toBe(true);
      expect(await app.manager.get(done.id)).toBeUndefined();
      expect(await app.manager.remove(done.id)).toBe(false);
      expect(await app.manager.remove('no-such-task')).toBe(false);

      expect(await app.manager.purge('error')).toBe(2);
      expect(await app.manager.list({ status: 'error' })).toEqual([]);
      expect(await app.manager.purge('error')).toBe(0);
      expect(await app.manager.counts()).toMatchObject({ error: 0, success: 0, process: 1 });

      gate.open();
      expect(await running.result({ timeout: 5_000 })).toBe('released');

      await app.manager.pause();
      const waiting = await app.addTask('cm.echo', ['never']);
      expect(await app.manager.remove(waiting.id)).toBe(true);
      await app.manager.resume();
      const after = await app.addTask('cm.echo', ['after']);
      expect(await after.result({ timeout: 5_000 })).toBe('after');
      expect(await app.manager.get(waiting.id)).toBeUndefined();
    });

    it('purges queued tasks: they are counted, gone, and never run', async () => {
      const app = make(true);
      await app.manager.pause();
      const queued = [await app.addTask('cm.echo', ['q1']), await app.addTask('cm.echo', ['q2']), await app.addTask('cm.echo', ['q3'])];
      expect((await app.manager.counts()).new).toBe(3);

      expect(await app.manager.purge('new')).toBe(3);
      expect(await app.manager.list({ status: 'new' })).toEqual([]);
      expect((await app.manager.counts()).new).toBe(0);
      expect(await app.manager.purge('new')).toBe(0);

      await app.manager.resume();
      const after = await app.addTask('cm.echo', ['after']);
      expect(await after.result({ timeout: 5_000 })).toBe('after');
      for (const h of queued) expect(await app.manager.get(h.id)).toBeUndefined();
      expect(await app.manager.counts()).toMatchObject({ new: 0, success: 1 });
    });

    it('cleans finished tasks by status and age, never queued or running ones', async () => {
      const app = make(true);
      const running = await app.addTask('cm.block', []);
      await waitForValue('block to run', async () => (await status(app, running.id)) === 'process');
      // one at a time, so that the finish order is the add order on a partitioned queue too
      // (partitions are claimed apart) and `limit` has a defined oldest two to remove
      const ok: TaskHandle[] = [];
      for (const n of [1, 2, 3]) {
        ok.push(await app.addTask('cm.echo', [n]));
        await final(app, ok[ok.length - 1].id);
      }
      const failed = await app.addTask('cm.fail', []);
      await final(app, failed.id);
      await app.manager.pause();
      const queued = await app.addTask('cm.echo', ['queued']);
      const cancelled = await app.addTask('cm.echo', ['cancelled']);
      await app.manager.cancel(cancelled.id);

      expect(await app.manager.clean({ status: 'success', olderThanMs: 60_000 })).toBe(0);
      expect(await app.manager.clean({ status: 'success', limit: 2 })).toBe(2);
      expect((await app.manager.list({ status: 'success' })).map((r) => r.id)).toEqual([ok[2].id]);
      expect(await app.manager.clean({ status: ['error', 'cancel'] })).toBe(2);
      expect(await app.manager.get(failed.id)).toBeUndefined();
      expect(await app.manager.get(cancelled.id)).toBeUndefined();
      expect(await app.manager.clean()).toBe(1);
      expect(await app.manager.clean()).toBe(0);
      expect(await app.manager.counts()).toMatchObject({ success: 0, error: 0, cancel: 0, new: 1, process: 1 });
      expect(await status(app, queued.id)).toBe('new');
      await expect(app.manager.clean({ status: 'process' as never })).rejects.toMatchObject({ code: 'QTASKS_ERR_BAD_OPTION' });
      await expect(app.manager.clean({ olderThanMs: -1 })).rejects.toMatchObject({ code: 'QTASKS_ERR_BAD_OPTION' });
      gate.open();
      expect(await running.result({ timeout: 5_000 })).toBe('released');
    });

    it('pauses claiming while running work finishes, and resumes', async () => {
      const app = make(true);
      const running = await app.addTask('cm.block', []);
      await waitForValue('block to run', async () => (await status(app, running.id)) === 'process');
      expect(await app.manager.isPaused()).toBe(false);
      await app.manager.pause();
      expect(await app.manager.isPaused()).toBe(true);
      const held = await app.addTask('cm.echo', ['held']);
      gate.open();
      expect(await running.result({ timeout: 5_000 })).toBe('released');
      await sleep(150);
      expect(await status(app, held.id)).toBe('new');
      await app.manager.resume();
      expect(await app.manager.isPaused()).toBe(false);
      expect(await held.result({ timeout: 5_000 })).toBe('held');
    });

    it('lists live workers with what they run, and drops them when they stop', async () => {
      // workers report what they run with their lease renewals (every leaseMs / 2)
      const producer = make(false, 1_000);
      expect(await producer.manager.workers()).toEqual([]);
      const worker = engine.shared ? make(false, 1_000) : producer;
      await worker.start();
      const running = await producer.addTask('cm.block', []);
      await waitForValue('block to run', async () => (await status(producer, running.id)) === 'process');
      const list = await waitForValue('one worker running one task', async () => {
        const w = await producer.manager.workers();
        return w.length === 1 && w[0].running === 1 ? w : undefined;
      });
      const w = list[0];
      expect(w).toMatchObject({ pid: process.pid, concurrency: 4, running: 1 });
      expect(typeof w.id).toBe('string');
      expect(w.host.length).toBeGreaterThan(0);
      expect(w.startedAt).toBeLessThanOrEqual(Date.now());
      expect(w.lastSeenAt).toBeGreaterThanOrEqual(w.startedAt);
      expect((await producer.manager.get(running.id))?.workerId).toBe(w.id);
      gate.open();
      await running.result({ timeout: 5_000 });
      if (engine.shared) {
        await worker.close();
        await waitForValue('the stopped worker to drop out', async () => (await producer.manager.workers()).length === 0);
      }
    });
    it('pauses and resumes one worker by id: paused, it claims nothing new; its running task finishes', async () => {
      const producer = make();
      const worker = engine.shared ? make() : producer;
      await worker.start();
      const w = await onlyWorker(producer);
      expect(w.paused).toBe(false);
      const running = await producer.addTask('cm.block', []);
      await waitForValue('block to run', async () => (await status(producer, running.id)) === 'process');
      await producer.manager.pauseWorker(w.id);
      expect((await producer.manager.workers())[0]).toMatchObject({ id: w.id, paused: true });
      const held = await producer.addTask('cm.echo', ['held']);
      gate.open();
      expect(await running.result({ timeout: 5_000 })).toBe('released');
      await sleep(150);
      expect(await status(producer, held.id)).toBe('new');
      await producer.manager.resumeWorker(w.id);
      expect((await producer.manager.workers())[0]).toMatchObject({ id: w.id, paused: false });
      expect(await held.result({ timeout: 5_000 })).toBe('held');
    });

    it('sets one worker\'s concurrency remotely: workers() shows it and it runs that many at once', async () => {
      const producer = make();
      const worker = engine.shared ? make() : producer;
      await worker.start();
      const w = await onlyWorker(producer);
      expect(w.concurrency).toBe(4);
      await producer.manager.setConcurrency(w.id, 1);
      expect((await producer.manager.workers())[0].concurrency).toBe(1);
      const a = await producer.addTask('cm.block', []);
      const b = await producer.addTask('cm.block', []);
      // what runs, not what is claimed: an engine may hold (prefetch) a task it does not run yet
      await waitForValue('one block to run', () => started.has(a.id));
      await sleep(150);
      expect(started.has(b.id)).toBe(false);
      await producer.manager.setConcurrency(w.id, 2);
      await waitForValue('the second block to run', () => started.has(b.id));
      gate.open();
      await Promise.all([a.result({ timeout: 5_000 }), b.result({ timeout: 5_000 })]);
      await expect(producer.manager.setConcurrency(w.id, 0)).rejects.toMatchObject({ code: 'QTASKS_ERR_BAD_OPTION' });
    });

    it('stops one worker gracefully by id: its running task finishes, it leaves the list', async () => {
      const producer = make();
      const worker = engine.shared ? make() : producer;
      await worker.start();
      const w = await onlyWorker(producer);
      const running = await producer.addTask('cm.block', []);
      await waitForValue('block to run', async () => (await status(producer, running.id)) === 'process');
      const outcome = running.result({ timeout: 5_000 });
      await producer.manager.stopWorker(w.id);
      expect(worker.isClosed).toBe(true);
      gate.open();
      expect(await outcome).toBe('released');
      if (engine.shared) await waitForValue('the stopped worker to drop out', async () => (await producer.manager.workers()).length === 0);
    });

    it('keeps per-minute stats for every worker: ends by status and wait/run percentiles', async () => {
      const producer = make();
      const worker = engine.shared ? make() : producer;
      await worker.start();
      const ok = await Promise.all([1, 2, 3].map((i) => producer.addTask('cm.echo', [i])));
      const bad = await producer.addTask('cm.fail', []);
      await Promise.all(ok.map((h) => h.result({ timeout: 5_000 })));
      await final(producer, bad.id);
      const stats = await waitForValue('the stats to be recorded', async () => {
        const s = await producer.manager.stats({ sinceMs: 120_000 });
        const total = s.reduce((n, b) => n + b.success, 0);
        return total === 3 && s.reduce((n, b) => n + b.error, 0) === 1 ? s : undefined;
      });
      const last = stats[stats.length - 1];
      expect(last.at % 60_000).toBe(0);
      expect(typeof last.runMsP50).toBe('number');
      expect(last.runMsP95!).toBeGreaterThanOrEqual(last.runMsP50!);
      expect(typeof last.waitMsP50).toBe('number');
      expect(await producer.manager.stats({ sinceMs: 0 })).toEqual(stats.filter((b) => b.at >= Math.floor(Date.now() / 60_000) * 60_000));
      await expect(producer.manager.stats({ queue: 'another-queue' })).rejects.toMatchObject({ code: 'QTASKS_ERR_UNKNOWN_QUEUE' });
    });

    it('lists schedules (timers and @Task cron) with next and last run', async () => {
      const app = make();
      app.timer.every(100, 'cm.echo', ['tick']);
      app.timer.cron('0 0 1 1 *', 'cm.echo', ['new year']);
      const before = await app.manager.schedules();
      expect(before).toEqual(expect.arrayContaining([
        expect.objectContaining({ name: 'cm.echo', everyMs: 100, source: 'timer' }),
        expect.objectContaining({ name: 'cm.echo', pattern: '0 0 1 1 *', source: 'timer' }),
      ]));
      const yearly = before.find((x) => x.pattern === '0 0 1 1 *')!;
      expect(new Date(yearly.nextRunAt!).getUTCMonth() === 0 || new Date(yearly.nextRunAt!).getMonth() === 0).toBe(true);
      await app.start();
      const ticked = await waitForValue('a tick to be enqueued and noted', async () => {
        const s = (await app.manager.schedules()).find((x) => x.everyMs === 100);
        return s?.lastRunAt !== undefined ? s : undefined;
      });
      expect(ticked.lastRunAt! % 100).toBe(0);
      expect(ticked.nextRunAt!).toBeGreaterThan(ticked.lastRunAt!);
    });

    it('refuses commands for an unknown worker with WORKER_NOT_FOUND', async () => {
      const app = make(true);
      await expect(app.manager.pauseWorker('no-such-worker')).rejects.toMatchObject({ code: 'QTASKS_ERR_WORKER_NOT_FOUND' });
      await expect(app.manager.stopWorker('no-such-worker')).rejects.toMatchObject({ code: 'QTASKS_ERR_WORKER_NOT_FOUND' });
      await expect(app.manager.setConcurrency('no-such-worker', 3)).rejects.toMatchObject({ code: 'QTASKS_ERR_WORKER_NOT_FOUND' });
    });
  });
}
