/**
 * Several worker processes on one Redis queue: each task runs once, priorities, delays, retries,
 * timeouts, cross-process cancel, streaming, shared state and events seen by every process.
 */
import 'reflect-metadata';
import { ErrorCodes, QTasks, TaskCancelledError, TaskFailedError } from 'qtasks';
import { ChildWorker, registerFixtureTasks, startWorkers } from './child-workers';
import { deleteKeys, ensureRedis, redisApp, testPrefix, waitFor } from './redis-support';

jest.setTimeout(60_000);

describe('Redis engine with worker processes', () => {
  let prefix: string;
  let workers: ChildWorker[] = [];
  let producer: QTasks | undefined;
  let queue: string;
  let seq = 0;

  beforeAll(() => ensureRedis());
  beforeEach(() => {
    prefix = testPrefix('mp');
    queue = `mp${++seq}`;
  });
  afterEach(async () => {
    await Promise.all(workers.map((w) => w.close()));
    workers = [];
    await producer?.close();
    producer = undefined;
    await deleteKeys(prefix);
  });

  const env = (extra: Record<string, string> = {}) => ({ QT_PREFIX: prefix, QT_QUEUE: queue, ...extra });
  const makeProducer = () => (producer = registerFixtureTasks(redisApp({ name: queue, prefix })));

  it('runs every task exactly once across three workers, and every process sees every event', async () => {
    workers = await startWorkers(3, env({ QT_CONCURRENCY: '4' }));
    const app = makeProducer();
    const successes: string[] = [];
    app.on('task:success', ({ record }) => successes.push(record.id));
    const handles = await app.addTasks(Array.from({ length: 60 }, (_, i) => ({ name: 'it.record', args: [i, i % 3] })));
    const results = (await Promise.all(handles.map((h) => h.result({ timeout: 20_000 })))) as { label: number; pid: number }[];
    expect(results.map((r) => r.label)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    // the workers report their runs on stdout, which may arrive after the results came through Redis
    await waitFor(() => workers.flatMap((w) => w.runs()).length >= 60, 'every run to be reported');
    await waitFor(() => successes.length === 60 && workers.every((w) => w.events('task:success').length === 60), 'every process to see 60 task:success');
    const runs = workers.flatMap((w) => w.runs());
    expect(runs).toHaveLength(60);
    expect(new Set(runs.map((r) => r.id)).size).toBe(60);
    expect(new Set(results.map((r) => r.pid)).size).toBeGreaterThan(1);
    await waitFor(async () => (await app.manager.counts()).success === 60, 'counts to show 60 successes');
    for (const w of workers) expect(new Set(w.events('task:success').map((e) => e.id)).size).toBe(60);
    expect(new Set(successes).size).toBe(60);
  });

  it('delivers results and events to a producer that starts listening after the workers ran', async () => {
    workers = await startWorkers(1, env());
    const app = makeProducer();
    const first = await app.addTask('it.record', ['unheard']);
    await waitFor(async () => (await app.getTask(first.id))?.status === 'success', 'the first task to succeed');
    const seen: string[] = [];
    app.on('task:success', ({ record }) => seen.push(record.id));
    const h = await app.addTask('it.record', ['heard']);
    await waitFor(() => seen.includes(h.id), 'task:success of the second task');
    expect(seen).toEqual([h.id]);
    expect(await h.result({ timeout: 1_000 })).toMatchObject({ label: 'heard' });
  });

  it('runs lower priorities first, FIFO among equals, on a worker started later', async () => {
    const app = makeProducer();
    const plan = [5, 1, 3, 1, 0, 5, 3, 0];
    for (let i = 0; i < plan.length; i++) await app.addTask('it.record', [`${plan[i]}-${i}`], { priority: plan[i] });
    workers = await startWorkers(1, env({ QT_CONCURRENCY: '1' }));
    await waitFor(() => workers[0].runs().length === plan.length, 'every task to run');
    const order = workers[0].runs().map((r) => r.label);
    expect(order).toEqual(['0-4', '0-7', '1-1', '1-3', '3-2', '3-6', '5-0', '5-5']);
  });

  it('runs delayed tasks when due, and retries with backoff in another process', async () => {
    workers = await startWorkers(2, env());
    const app = makeProducer();
    const before = Date.now();
    const d = await app.addTask('it.record', ['late'], { delay: 300 });
    expect(await app.manager.get(d.id)).toMatchObject({ status: 'delayed' });
    await d.result({ timeout: 5_000 });
    const rec = await app.getTask(d.id);
    expect(rec!.startedAt! - before).toBeGreaterThanOrEqual(300);
    const f = await app.addTask('it.flaky', [2], { retry: 3, backoff: { type: 'fixed', delay: 100 } });
    expect(await f.result({ timeout: 5_000 })).toBe(3);
    expect(await app.getTask(f.id)).toMatchObject({ status: 'success', attempt: 3 });
    const attempts = workers.flatMap((w) => w.runs(f.id)).map((r) => r.attempt);
    expect(attempts.sort()).toEqual([1, 2, 3]);
    const g = await app.addTask('it.flaky', [5], { retry: 1 });
    await expect(g.result({ timeout: 5_000 })).rejects.toBeInstanceOf(TaskFailedError);
    expect(await app.getTask(g.id)).toMatchObject({ status: 'error', attempt: 2, error: { message: 'failure 2' } });
  });

  it('times out an attempt in a worker process', async () => {
    workers = await startWorkers(1, env());
    const app = makeProducer();
    const h = await app.addTask('it.record', ['slow', 5_000], { timeout: 200 });
    await expect(h.result({ timeout: 5_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_FAILED, cause: { code: ErrorCodes.TASK_TIMEOUT } });
  });

  it('cancels a task running in another process within a second', async () => {
    workers = await startWorkers(2, env());
    const app = makeProducer();
    const h = await app.addTask('it.record', ['long', 20_000]);
    await waitFor(() => workers.some((w) => w.runs(h.id).length === 1), 'the task to start');
    expect(await app.cancel(h.id, 'enough')).toBe(true);
    await expect(h.result({ timeout: 1_000 })).rejects.toBeInstanceOf(TaskCancelledError);
    expect(await app.getTask(h.id)).toMatchObject({ status: 'cancel', cancelReason: 'enough' });
    await waitFor(() => workers.some((w) => w.events('task:cancel').length === 1), 'the worker to see task:cancel');
    expect(await app.cancel(h.id)).toBe(false);
  });

  it('streams generator items live across processes and gives result() from another process', async () => {
    workers = await startWorkers(1, env());
    const app = makeProducer();
    const h = await app.addTask('it.gen', [4, 30]);
    const seen: unknown[] = [];
    for await (const item of h.stream()) seen.push(item);
    const pid = workers[0].pid;
    expect(seen).toEqual([0, 1, 2, 3].map((i) => ({ i, pid })));
    expect(await h.result({ timeout: 2_000 })).toEqual(seen);
    const again: unknown[] = [];
    for await (const item of app.handle(h.id).stream()) again.push(item);
    expect(again).toEqual(seen);
  });

  it('SIGTERM closes a worker process cleanly: it exits 0 and hands its running task back', async () => {
    workers = await startWorkers(1, env({ QT_SHUTDOWN_MS: '100' }));
    const app = makeProducer();
    const h = await app.addTask('it.record', ['long', 20_000]);
    await waitFor(() => workers[0].runs(h.id).length === 1, 'the task to start');
    expect(await workers[0].kill('SIGTERM')).toBe(0);
    expect(await app.getTask(h.id)).toMatchObject({ status: 'new', attempt: 0 });
    workers = await startWorkers(1, env());
    await waitFor(() => workers[0].runs(h.id).length === 1, 'another worker to run it');
    expect(await app.cancel(h.id)).toBe(true);
  });

  it('shares State across processes with atomic update and incr', async () => {
    workers = await startWorkers(3, env({ QT_CONCURRENCY: '5' }));
    const app = makeProducer();
    const handles = await app.addTasks(Array.from({ length: 30 }, (_, i) => ({ name: 'it.count', args: [i + 1] })));
    await Promise.all(handles.map((h) => h.result({ timeout: 20_000 })));
    expect(await app.storage.stateGet('it.tally', 'n')).toBe(465);
    const list = (await app.storage.stateGet('it.tally', 'list')) as number[];
    expect([...list].sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });
});
