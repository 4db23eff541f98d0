/**
 * Broker conformance, the unhappy paths: retries and backoff, retryOn, timeouts, cancels from
 * outside and inside, and tasks that throw. Called by `brokerConformance`.
 */
import 'reflect-metadata';
import { it, expect } from './jest-globals';
import { ErrorCodes, QTasks, TaskCancelledError, TaskFailedError } from '..';
import { probe } from './broker-tasks';
import type { AppSpec } from './support';
import { sleep, waitFor } from './support';

type MakeApp = (spec?: Partial<AppSpec>) => Promise<QTasks>;

/** Gaps between consecutive attempt starts of one task. */
function gaps(id: string): number[] {
  const at = probe.attemptsAt.get(id) ?? [];
  return at.slice(1).map((t, i) => t - at[i]);
}

export function brokerFailureCases(make: MakeApp): void {
  it('retries with the same id and counts attempt', async () => {
    const app = await make();
    const retried: number[] = [];
    app.on('task:retry', (e) => retried.push(e.record.attempt));
    await app.start();
    const h = await app.addTask('cb.flaky', [2], { retry: 2 });
    expect(await h.result({ timeout: 3_000 })).toBe(3);
    expect(probe.started).toEqual([h.id, h.id, h.id]);
    expect(await app.getTask(h.id)).toMatchObject({ id: h.id, status: 'success', attempt: 3 });
    expect(retried).toEqual([1, 2]);
  });

  it('ends error after the last retry, keeping the last error', async () => {
    const app = await make();
    await app.start();
    const h = await app.addTask('cb.flaky', [9], { retry: 1 });
    const err = await h.result({ timeout: 3_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskFailedError);
    expect((err as TaskFailedError).cause).toMatchObject({ name: 'TransientError', message: 'attempt 2' });
    expect(await app.getTask(h.id)).toMatchObject({ status: 'error', attempt: 2, error: { name: 'TransientError' } });
  });

  it('waits a fixed backoff between attempts', async () => {
    const app = await make();
    await app.start();
    const h = await app.addTask('cb.flaky', [2], { retry: 2, backoff: { type: 'fixed', delay: 60 } });
    await h.result({ timeout: 5_000 });
    const g = gaps(h.id);
    expect(g).toHaveLength(2);
    for (const gap of g) {
      expect(gap).toBeGreaterThanOrEqual(55);
      expect(gap).toBeLessThan(60 + 1_500);
    }
  });

  it('doubles an exponential backoff at each attempt', async () => {
    const app = await make();
    await app.start();
    const h = await app.addTask('cb.flaky', [3], { retry: 3, backoff: { type: 'exponential', delay: 40 } });
    await h.result({ timeout: 5_000 });
    const g = gaps(h.id);
    expect(g).toHaveLength(3);
    expect(g[0]).toBeGreaterThanOrEqual(35);
    expect(g[1]).toBeGreaterThanOrEqual(75);
    expect(g[2]).toBeGreaterThanOrEqual(155);
    expect(g[2]).toBeLessThan(160 + 1_500);
  });

  it('retries only the errors named in retryOn', async () => {
    const app = await make();
    await app.start();
    const a = await app.addTask('cb.picky', [['transient', 'transient', 'ok']]);
    expect(await a.result({ timeout: 3_000 })).toBe('ok');
    expect(probe.runs(a.id)).toBe(3);
    const b = await app.addTask('cb.picky', [['transient', 'fatal', 'ok']]);
    await expect(b.result({ timeout: 3_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_FAILED, cause: { name: 'FatalError' } });
    expect(await app.getTask(b.id)).toMatchObject({ status: 'error', attempt: 2 });
  });

  it('times out an attempt: signal aborted, error QTASKS_ERR_TASK_TIMEOUT, whatever the task does after', async () => {
    const app = await make();
    await app.start();
    const returns = await app.addTask('cb.wait', [2_000, false], { timeout: 50 });
    const throws = await app.addTask('cb.wait', [2_000, true], { timeout: 50 });
    for (const h of [returns, throws]) {
      const err = await h.result({ timeout: 3_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TaskFailedError);
      expect((err as TaskFailedError).cause.code).toBe(ErrorCodes.TASK_TIMEOUT);
      expect(await app.getTask(h.id)).toMatchObject({ status: 'error', error: { code: ErrorCodes.TASK_TIMEOUT } });
    }
    await waitFor(() => probe.aborted.has(returns.id) && probe.aborted.has(throws.id), 'both signals aborted');
    await sleep(20);
    expect((await app.getTask(returns.id))?.status).toBe('error');
  });

  it('retries a timed-out attempt when retries are left', async () => {
    const app = await make();
    await app.start();
    const h = await app.addTask('cb.wait', [2_000], { timeout: 40, retry: 1 });
    await expect(h.result({ timeout: 3_000 })).rejects.toMatchObject({ cause: { code: ErrorCodes.TASK_TIMEOUT } });
    expect(await app.getTask(h.id)).toMatchObject({ status: 'error', attempt: 2 });
  });

  it('cancels a queued task: it never runs and result() throws TaskCancelledError', async () => {
    const app = await make();
    const h = await app.addTask('cb.add', [1, 1]);
    expect(await app.cancel(h.id, 'not needed')).toBe(true);
    expect(await app.getTask(h.id)).toMatchObject({ status: 'cancel', cancelReason: 'not needed' });
    await app.start();
    await sleep(50);
    expect(probe.runs(h.id)).toBe(0);
    const err = await h.result({ timeout: 1_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskCancelledError);
    expect(err).toMatchObject({ code: ErrorCodes.TASK_CANCELLED });
    expect(await app.cancel(h.id)).toBe(false);
    expect(await app.cancel('no-such-task')).toBe(false);
  });

  it('cancels a delayed task: it never runs', async () => {
    const app = await make();
    await app.start();
    // due well after the cancel even on a loaded machine; checked once it would have been due
    const h = await app.addTask('cb.add', [1, 1], { delay: 1_000 });
    expect(await h.cancel()).toBe(true);
    await sleep(1_200);
    expect(probe.runs(h.id)).toBe(0);
    expect(await h.status()).toBe('cancel');
  });

  it('cancels a running task: its signal aborts and it ends cancel', async () => {
    const app = await make();
    await app.start();
    const h = await app.addTask('cb.wait', [5_000]);
    await waitFor(() => probe.runs(h.id) === 1, 'the task to start');
    expect(await app.cancel(h.id, 'stop')).toBe(true);
    await expect(h.result({ timeout: 3_000 })).rejects.toBeInstanceOf(TaskCancelledError);
    expect(await app.getTask(h.id)).toMatchObject({ status: 'cancel', cancelReason: 'stop' });
    await waitFor(() => probe.aborted.has(h.id), 'the signal to abort');
    expect(await app.cancel(h.id)).toBe(false);
  });

  it('ctx.cancel ends the run as cancel, without retries', async () => {
    const app = await make();
    await app.start();
    const h = await app.addTask('cb.selfCancel', ['enough']);
    await expect(h.result({ timeout: 2_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_CANCELLED });
    expect(await app.getTask(h.id)).toMatchObject({ status: 'cancel', cancelReason: 'enough', attempt: 1 });
  });

  it('a task that throws or hangs does not stop the worker', async () => {
    const app = await make({ concurrency: 2 });
    await app.start();
    const hang = await app.addTask('cb.wait', [5_000], { timeout: 100 });
    const sync = await app.addTask('cb.throwSync', []);
    const async_ = await app.addTask('cb.throwAsync', []);
    await expect(sync.result({ timeout: 2_000 })).rejects.toMatchObject({ cause: { name: 'FatalError', message: 'sync' } });
    await expect(async_.result({ timeout: 2_000 })).rejects.toMatchObject({ cause: { name: 'FatalError', message: 'async' } });
    const oks = await Promise.all([1, 2, 3].map((n) => app.addTask('cb.add', [n, n])));
    expect(await Promise.all(oks.map((h) => h.result({ timeout: 2_000 })))).toEqual([2, 4, 6]);
    await expect(hang.result({ timeout: 2_000 })).rejects.toMatchObject({ cause: { code: ErrorCodes.TASK_TIMEOUT } });
    expect(await (await app.addTask('cb.add', [5, 5])).result({ timeout: 2_000 })).toBe(10);
  });
}
