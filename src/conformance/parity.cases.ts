/**
 * Parity conformance suite: the options BullMQ users look for, on every engine — log lines and the
 * attempt history on the record, UnrecoverableError, backoff functions and jitter, and retention of
 * finished tasks by count or age (`removeOnComplete` / `removeOnFail`).
 */
import 'reflect-metadata';
import { describe, it, expect, beforeEach, afterEach } from './jest-globals';
import { ErrorCodes, QTasks, TaskFailedError, UnrecoverableError } from '..';
import { backoffCalls, parityProbe, ParityTasks } from './parity-tasks';
import { AppFactory, AppSpec, AppTracker, ConformanceFeatures, onePartition, sleep, waitFor } from './support';

/**
 * Defines the parity cases for an engine.
 * @param name label of the engine in test names
 * @param makeApp builds an app on the engine
 * @param cleanup run after each case, once its apps are closed
 */
export function parityConformance(name: string, makeApp: AppFactory, cleanup?: () => Promise<void>, features: ConformanceFeatures = {}): void {
  describe(`Parity conformance: ${name}`, () => {
    const tracker = new AppTracker(makeApp, cleanup);
    const make = async (spec: Partial<AppSpec> = {}): Promise<QTasks> => (await tracker.make({ suite: 'pa', ...spec })).register(ParityTasks);
    const ended = async (app: QTasks, id: string) =>
      waitFor(async () => ['success', 'error', 'cancel'].includes((await app.getTask(id))?.status ?? ''), `${id} to end`);
    beforeEach(() => {
      parityProbe.reset();
      backoffCalls.length = 0;
    });
    afterEach(() => tracker.closeAll());

    it('keeps ctx.log() lines on the record with their attempt and time, the newest maxLogLines only', async () => {
      const app = await make({ config: { maxLogLines: 3 } });
      await app.start();
      const before = Date.now();
      const long = 'x'.repeat(5_000);
      const h = await app.addTask('pa.log', [['one', 'two', 'three', 'four', long]]);
      expect(await h.result({ timeout: 5_000 })).toBe(5);
      const rec = await app.getTask(h.id);
      expect(rec!.logs!.map((l) => l.line.slice(0, 5))).toEqual(['three', 'four', 'xxxxx']);
      expect(rec!.logs![2].line.length).toBeLessThanOrEqual(4_096);
      for (const l of rec!.logs!) {
        expect(l.attempt).toBe(1);
        expect(l.at).toBeGreaterThanOrEqual(before);
      }
      expect((await app.manager.list({ name: 'pa.log' }))[0].logs).toHaveLength(3);
    });

    it('keeps the lines of every attempt, and none with maxLogLines 0', async () => {
      const app = await make();
      await app.start();
      const h = await app.addTask('pa.flaky', [1]);
      expect(await h.result({ timeout: 5_000 })).toBe(2);
      expect((await app.getTask(h.id))!.logs!.map((l) => [l.attempt, l.line])).toEqual([
        [1, 'attempt 1'],
        [2, 'attempt 2'],
      ]);
      const quiet = await make({ config: { maxLogLines: 0 } });
      await quiet.start();
      const q = await quiet.addTask('pa.log', [['dropped']]);
      await q.result({ timeout: 5_000 });
      expect((await quiet.getTask(q.id))!.logs).toBeUndefined();
    });

    it('keeps the history of every attempt: start, end, how it ended and its error', async () => {
      const app = await make();
      await app.start();
      const h = await app.addTask('pa.flaky', [2]);
      expect(await h.result({ timeout: 5_000 })).toBe(3);
      const rec = (await app.getTask(h.id))!;
      const attempts = rec.attempts!;
      expect(attempts.map((a) => [a.attempt, a.status, a.error?.message])).toEqual([
        [1, 'retry', 'failure 1'],
        [2, 'retry', 'failure 2'],
        [3, 'success', undefined],
      ]);
      for (const a of attempts) {
        expect(a.finishedAt).toBeGreaterThanOrEqual(a.startedAt!);
        expect(a.workerId).toBe(rec.workerId);
      }
      expect(attempts[1].startedAt).toBeGreaterThanOrEqual(attempts[0].finishedAt!);

      const failed = await app.addTask('pa.fail', ['no']);
      await ended(app, failed.id);
      expect((await app.getTask(failed.id))!.attempts!.map((a) => [a.attempt, a.status, a.error?.message])).toEqual([[1, 'error', 'no']]);
      const queued = await make({ name: app.name });
      expect((await queued.getTask((await queued.addTask('pa.ok', [1], { delay: 60_000 })).id))!.attempts).toBeUndefined();
    });

    it('keeps the newest maxAttemptHistory attempts', async () => {
      const app = await make({ config: { maxAttemptHistory: 2 } });
      await app.start();
      const h = await app.addTask('pa.flaky', [4]);
      expect(await h.result({ timeout: 5_000 })).toBe(5);
      const attempts = (await app.getTask(h.id))!.attempts!;
      expect(attempts.map((a) => [a.attempt, a.status])).toEqual([
        [3, 'retry'],
        [4, 'retry'],
        [5, 'success'],
      ]);
    });

    it('ends a task that throws UnrecoverableError at once, whatever its retries', async () => {
      const app = await make();
      await app.start();
      const h = await app.addTask('pa.unrecoverable', []);
      const err = await h.result({ timeout: 5_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TaskFailedError);
      expect((err as TaskFailedError).cause).toMatchObject({ name: 'UnrecoverableError', code: ErrorCodes.UNRECOVERABLE });
      expect(parityProbe.runs(h.id)).toBe(1);
      expect(await app.getTask(h.id)).toMatchObject({ status: 'error', attempt: 1 });
      expect(new UnrecoverableError('x')).toMatchObject({ code: 'QTASKS_ERR_UNRECOVERABLE' });
    });

    it('asks a backoff function for each delay; a negative answer ends the retries', async () => {
      const app = await make();
      await app.start();
      const h = await app.addTask('pa.fnBackoff', []);
      await expect(h.result({ timeout: 5_000 })).rejects.toBeInstanceOf(TaskFailedError);
      expect(backoffCalls).toEqual([
        [1, 'boom 1'],
        [2, 'boom 2'],
        [3, 'boom 3'],
      ]);
      expect(parityProbe.runs(h.id)).toBe(3);
      expect((await app.getTask(h.id))!.error!.message).toBe('boom 3');
    });

    it('retries with a jittered backoff, and refuses a backoff it cannot store', async () => {
      const app = await make();
      await app.start();
      const h = await app.addTask('pa.flaky', [2], { backoff: { type: 'exponential', delay: 5, jitter: 1 } });
      expect(await h.result({ timeout: 5_000 })).toBe(3);
      expect((await app.getTask(h.id))!.backoff).toEqual({ type: 'exponential', delay: 5, jitter: 1 });
      const bad = (backoff: unknown) => app.addTask('pa.ok', [1], { backoff: backoff as never });
      await expect(bad({ type: 'fixed', delay: 5, jitter: 2 })).rejects.toMatchObject({ code: ErrorCodes.BAD_OPTION });
      await expect(bad(() => 5)).rejects.toMatchObject({ code: ErrorCodes.BAD_OPTION });
    });

    it('removeOnComplete / removeOnFail: true drops the record at once; result() still settles', async () => {
      const app = await make();
      await app.start();
      const ok = await app.addTask('pa.ok', ['kept?'], { removeOnComplete: true });
      expect(await ok.result({ timeout: 5_000 })).toBe('kept?');
      expect(await app.getTask(ok.id)).toBeUndefined();
      const bad = await app.addTask('pa.fail', ['gone'], { removeOnFail: true });
      const err = await bad.result({ timeout: 5_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TaskFailedError);
      expect((err as TaskFailedError).cause.message).toBe('gone');
      expect(await app.getTask(bad.id)).toBeUndefined();
      expect(await app.manager.counts()).toMatchObject({ success: 0, error: 0 });
    });

    it('an id whose record a retention dropped is free again: adding it makes and runs a new task; a live id reports its task', async () => {
      const app = await make();
      await app.start();
      const first = await app.addTask('pa.ok', ['first'], { id: 'pa-readd', removeOnComplete: true });
      expect(await first.result({ timeout: 5_000 })).toBe('first');
      expect(await app.getTask('pa-readd')).toBeUndefined();
      const again = await app.addTask('pa.ok', ['again'], { id: 'pa-readd' });
      expect(await again.result({ timeout: 5_000 })).toBe('again');
      expect(await app.getTask('pa-readd')).toMatchObject({ status: 'success', args: ['again'], attempt: 1 });
      const live = await app.addTask('pa.ok', ['third'], { id: 'pa-readd' });
      expect(await live.result({ timeout: 5_000 })).toBe('again');
      expect(await app.getTask('pa-readd')).toMatchObject({ status: 'success', args: ['again'], attempt: 1 });
      expect(await app.manager.counts()).toMatchObject({ success: 1 });
    });

    it('a count keeps the newest tasks of that end, whatever their name', async () => {
      const app = await make({ concurrency: 1 });
      await app.start();
      const ids: string[] = [];
      const opt = onePartition(features, 7);
      for (let i = 0; i < 3; i++) {
        const h = await app.addTask('pa.ok', [i], opt[i]);
        await h.result({ timeout: 5_000 });
        ids.push(h.id);
      }
      const failed = await app.addTask('pa.fail', ['stays'], opt[3]);
      await ended(app, failed.id);
      const last = await app.addTask('pa.ok', ['last'], { removeOnComplete: 2, ...opt[4] });
      await last.result({ timeout: 5_000 });
      expect((await app.manager.list({ status: 'success' })).map((r) => r.id)).toEqual([last.id, ids[2]]);
      expect(await app.manager.counts()).toMatchObject({ success: 2, error: 1 });

      // from @Task({ removeOnFail: 1 })
      for (const [i, m] of ['a', 'b'].entries()) await expect((await app.addTask('pa.keepOneFailure', [m], opt[5 + i])).result({ timeout: 5_000 })).rejects.toBeInstanceOf(TaskFailedError);
      const errors = await app.manager.list({ status: 'error' });
      expect(errors.map((r) => r.error?.message)).toEqual(['b']);
      expect(await app.manager.counts()).toMatchObject({ error: 1 });
    });

    it('an age keeps the tasks of that end that finished within it', async () => {
      const app = await make({ concurrency: 1 });
      await app.start();
      const opt = onePartition(features, 2);
      const old = await app.addTask('pa.ok', ['old'], opt[0]);
      await old.result({ timeout: 5_000 });
      await sleep(80);
      const recent = await app.addTask('pa.ok', ['recent'], { removeOnComplete: { age: 30, count: 10 }, ...opt[1] });
      await recent.result({ timeout: 5_000 });
      expect(await app.getTask(old.id)).toBeUndefined();
      expect(await app.getTask(recent.id)).toMatchObject({ status: 'success' });
      expect(await app.manager.counts()).toMatchObject({ success: 1 });
    });

    it('manager.clean() removes finished tasks by status and age, oldest first', async () => {
      const app = await make({ concurrency: 1 });
      await app.start();
      const ok: string[] = [];
      const opt = onePartition(features, 5);
      for (let i = 0; i < 3; i++) {
        const h = await app.addTask('pa.ok', [i], opt[i]);
        await h.result({ timeout: 5_000 });
        ok.push(h.id);
      }
      const failed = await app.addTask('pa.fail', ['x'], opt[3]);
      await expect(failed.result({ timeout: 5_000 })).rejects.toBeInstanceOf(TaskFailedError);
      const queued = await app.addTask('pa.ok', ['later'], { delay: 60_000, ...opt[4] });
      expect(await app.manager.clean({ olderThanMs: 60_000 })).toBe(0);
      expect(await app.manager.clean({ status: 'success', limit: 2 })).toBe(2);
      expect((await app.manager.list({ status: 'success' })).map((r) => r.id)).toEqual([ok[2]]);
      expect(await app.manager.clean()).toBe(2);
      expect(await app.getTask(failed.id)).toBeUndefined();
      expect(await app.getTask(queued.id)).toMatchObject({ status: 'delayed' });
      expect(await app.manager.counts()).toMatchObject({ success: 0, error: 0, delayed: 1 });
    });

    it('refuses retention options of the wrong shape', async () => {
      const app = await make();
      for (const opt of [-1, 1.5, { age: -1 }, { count: 'x' }, { ttl: 5 }, 'yes']) {
        await expect(app.addTask('pa.ok', [1], { removeOnComplete: opt as never })).rejects.toMatchObject({ code: ErrorCodes.BAD_OPTION });
        await expect(app.addTask('pa.ok', [1], { removeOnFail: opt as never })).rejects.toMatchObject({ code: ErrorCodes.BAD_OPTION });
      }
    });
  });
}
