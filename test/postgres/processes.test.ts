/**
 * The PostgreSQL engine across processes: worker processes (the Redis tests' fixture, by URL)
 * killed with SIGKILL lose nothing, a task that keeps stalling ends QTASKS_ERR_STALLED, a cancel
 * reaches a task running in another process promptly, and its events reach the producer.
 */
import 'reflect-metadata';
import { ErrorCodes, QTasks } from 'qtasks';
import { CapturingLogger } from '../support/capturing-logger';
import { ChildWorker, registerFixtureTasks } from '../redis/child-workers';
import { waitFor } from '../redis/redis-support';
import { pgApp, TestDatabase } from './pg-support';

const db = new TestDatabase('proc').hooks();
let seq = 0;
const children: ChildWorker[] = [];
const apps: QTasks[] = [];

function child(queue: string, env: Record<string, string> = {}): ChildWorker {
  const w = new ChildWorker({ QT_URL: db.url, QT_QUEUE: queue, QT_LEASE_MS: '600', QT_CONCURRENCY: '4', ...env });
  children.push(w);
  return w;
}

function producer(queue: string): QTasks {
  const app = registerFixtureTasks(pgApp(db, { name: queue, config: { logLevel: 'silent', leaseMs: 600 } }));
  apps.push(app);
  return app;
}

afterEach(async () => {
  for (const w of children.splice(0)) await w.kill();
  for (const app of apps.splice(0)) await app.close();
});

describe('PostgreSQL engine across processes', () => {
  it('loses nothing when a worker process is killed with SIGKILL', async () => {
    const q = `pg-kill-${process.pid}-${++seq}`;
    const app = producer(q);
    const first = child(q);
    await first.ready();
    const hs = await app.addTasks(Array.from({ length: 8 }, (_, i) => ({ name: 'it.record', args: [i, 400] })));
    await waitFor(() => first.runs().length >= 4, 'the first worker to run tasks', 10_000);
    await first.kill();
    const second = child(q);
    await second.ready();
    const out = (await Promise.all(hs.map((h) => h.result({ timeout: 15_000 })))) as { label: number; pid: number }[];
    expect(out.map((o) => o.label)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(out.some((o) => o.pid === second.pid)).toBe(true);
    expect(await app.manager.counts()).toMatchObject({ success: 8, process: 0, new: 0 });
  });

  it('ends a task that stalls more than maxStalls times with QTASKS_ERR_STALLED', async () => {
    const q = `pg-stall-${process.pid}-${++seq}`;
    const app = producer(q);
    const a = child(q);
    await a.ready();
    const h = await app.addTask('it.record', ['long', 60_000]);
    await waitFor(() => a.runs(h.id).length === 1, 'the first attempt', 10_000);
    await a.kill();
    const b = child(q);
    await b.ready();
    await waitFor(() => b.runs(h.id).length === 1, 'the second attempt (after the stall)', 10_000);
    await b.kill();
    const c = child(q);
    await c.ready();
    await expect(h.result({ timeout: 10_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_FAILED, cause: { code: ErrorCodes.STALLED } });
    expect(c.runs(h.id)).toHaveLength(0);
  });

  it('the worker whose lease round sweeps a stall logs it at warn (id, name, code)', async () => {
    const q = `pg-stalllog-${process.pid}-${++seq}`;
    const app = producer(q);
    const victim = child(q);
    await victim.ready();
    const h = await app.addTask('it.record', ['doomed', 60_000]);
    await waitFor(() => victim.runs(h.id).length === 1, 'the task to start', 10_000);
    await victim.kill();
    const logger = new CapturingLogger();
    const sweeper = registerFixtureTasks(pgApp(db, { name: q, logger, config: { logLevel: 'silent', leaseMs: 600, maxStalls: 0 } }));
    apps.push(sweeper);
    await sweeper.start();
    await expect(h.result({ timeout: 10_000 })).rejects.toMatchObject({ cause: { code: ErrorCodes.STALLED } });
    await waitFor(() => logger.at('warn').length > 0, 'the stall to be logged', 5_000);
    expect(logger.at('warn')).toEqual([
      expect.objectContaining({ id: h.id, name: 'it.record', code: ErrorCodes.STALLED, stalls: 1, worker: expect.any(String) }),
    ]);
  });

  it('cancels a task running in another process promptly; its events reach the producer', async () => {
    const q = `pg-cancel-${process.pid}-${++seq}`;
    const app = producer(q);
    const events: string[] = [];
    app.on('task:success', (e) => events.push(`success:${e.record.id}`));
    app.on('task:cancel', (e) => events.push(`cancel:${e.record.id}`));
    const w = child(q);
    await w.ready();
    const ok = await app.addTask('it.record', ['quick', 0]);
    expect(await ok.result({ timeout: 10_000 })).toMatchObject({ label: 'quick', pid: w.pid });
    const h = await app.addTask('it.record', ['long', 60_000]);
    await waitFor(() => w.runs(h.id).length === 1, 'the task to start', 10_000);
    expect(await app.cancel(h.id, 'enough')).toBe(true);
    await expect(h.result({ timeout: 3_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_CANCELLED });
    expect(await app.getTask(h.id)).toMatchObject({ status: 'cancel', cancelReason: 'enough' });
    await waitFor(() => events.length >= 2, 'both events', 5_000);
    expect(events.sort()).toEqual([`cancel:${h.id}`, `success:${ok.id}`].sort());
    // streamed items of a task run elsewhere
    const g = await app.addTask('it.gen', [3, 10]);
    const items: unknown[] = [];
    for await (const x of g.stream()) items.push(x);
    expect(items).toEqual([0, 1, 2].map((i) => ({ i, pid: w.pid })));
  });
});
