/**
 * A claim whose reply was lost with the connection: the claim script ran in Redis (the task sits
 * in the worker's held set, status `process`) but the worker never learnt of it. The worker finds
 * such tasks after a reconnect and at its lease rounds, puts them back in the queue without
 * counting the attempt, and they then run exactly once.
 */
import 'reflect-metadata';
import { QTasks, Task } from 'qtasks';
import { redisQueueFixture, waitFor } from './redis-support';

jest.setTimeout(30_000);

const runs = new Map<string, number>();

class LostClaimTasks {
  @Task({ name: 'lc.echo' })
  echo(v: string): string {
    runs.set(v, (runs.get(v) ?? 0) + 1);
    return v;
  }

  @Task({ name: 'lc.slow' })
  async slow(v: string): Promise<string> {
    runs.set(v, (runs.get(v) ?? 0) + 1);
    await new Promise((r) => setTimeout(r, 120));
    return v;
  }

  @Task({ name: 'lc.brief' })
  async brief(v: string): Promise<string> {
    runs.set(v, (runs.get(v) ?? 0) + 1);
    await new Promise((r) => setTimeout(r, 2));
    return v;
  }
}

/** What a claim script does to one delayed task for worker `wid` (its reply then never arrives). */
const CLAIM = `
local k, held, id, wid, now = KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3]
redis.call('ZREM', KEYS[3], id)
redis.call('HSET', k, 'st', 'process', 'att', 1, 'sa', now, 'up', now, 'wid', wid)
redis.call('SADD', held, id)
redis.call('HINCRBY', KEYS[4], 'delayed', -1)
redis.call('HINCRBY', KEYS[4], 'process', 1)
return 1`;

describe('Redis engine: a claim reply lost with the connection', () => {
  const fx = redisQueueFixture('lc', LostClaimTasks);

  /** A started worker app and its worker id (read from the queue's heartbeats). */
  async function startWorker(leaseMs: number, concurrency?: number): Promise<{ app: QTasks; wid: string }> {
    const app = fx.app({ concurrency, config: { leaseMs } });
    await app.start();
    let wid = '';
    await waitFor(async () => {
      wid = (await fx.admin.zrange(fx.base() + 'seen', 0, 0))[0] ?? '';
      return wid !== '';
    }, 'the worker heartbeat');
    return { app, wid };
  }

  /** Enqueues a delayed task, then claims it for `wid` the way a claim script does, unanswered. */
  async function lostClaim(app: QTasks, wid: string, label: string): Promise<Awaited<ReturnType<QTasks['addTask']>>> {
    const h = await app.addTask('lc.echo', [label], { delay: 600_000 });
    const b = fx.base();
    await fx.admin.eval(CLAIM, 4, b + 't:' + h.id, b + 'held:' + wid, b + 'delayed', b + 'cnt', h.id, wid, Date.now() - 1);
    expect(await fx.admin.sismember(b + 'held:' + wid, h.id)).toBe(1);
    return h;
  }

  async function expectRanOnce(app: QTasks, h: Awaited<ReturnType<QTasks['addTask']>>, label: string): Promise<void> {
    await expect(h.result({ timeout: 8_000 })).resolves.toBe(label);
    expect(runs.get(label)).toBe(1);
    expect(await app.getTask(h.id)).toMatchObject({ status: 'success', attempt: 1 });
    expect(await app.manager.counts()).toMatchObject({ success: 1, process: 0, new: 0, delayed: 0 });
  }

  it('runs the task once the worker connection comes back (CLIENT KILL)', async () => {
    // long lease: no lease round happens during the test, only the reconnect finds the task
    const { app, wid } = await startWorker(60_000);
    const label = `kill-${fx.queue}`;
    const h = await lostClaim(app, wid, label);
    const list = (await fx.admin.client('LIST')) as string;
    const ids = list
      .split('\n')
      .filter((l) => l.includes(`name=qtasks:cmd:${process.pid} `))
      .map((l) => /id=(\d+)/.exec(l)![1]);
    expect(ids.length).toBeGreaterThanOrEqual(1);
    for (const id of ids) await fx.admin.client('KILL', 'ID', id);
    await expectRanOnce(app, h, label);
    expect(await fx.admin.scard(fx.base() + 'held:' + wid)).toBe(0);
  });

  it('runs the task after a lease round of its worker, with no connection fault', async () => {
    const { app, wid } = await startWorker(400);
    const label = `lease-${fx.queue}`;
    const h = await lostClaim(app, wid, label);
    await expectRanOnce(app, h, label);
  });

  it('leaves alone the tasks the worker runs or has buffered across its lease rounds', async () => {
    // one at a time, 120 ms each, lease rounds every 100 ms: rounds happen while tasks run and wait
    const { app } = await startWorker(200, 1);
    const labels = Array.from({ length: 5 }, (_, i) => `known-${fx.queue}-${i}`);
    const handles = await app.addTasks(labels.map((l) => ({ name: 'lc.slow', args: [l] })));
    await expect(Promise.all(handles.map((h) => h.result({ timeout: 8_000 })))).resolves.toEqual(labels);
    for (const l of labels) expect(runs.get(l)).toBe(1);
    for (const h of handles) expect(await app.getTask(h.id)).toMatchObject({ status: 'success', attempt: 1 });
  });

  it('leaves alone the tasks of claims on the way at a lease round (busy worker)', async () => {
    // lease rounds every 60 ms while claims are constantly on the way
    const { app } = await startWorker(120, 4);
    const labels = Array.from({ length: 200 }, (_, i) => `busy-${fx.queue}-${i}`);
    const handles = await app.addTasks(labels.map((l) => ({ name: 'lc.brief', args: [l] })));
    await expect(Promise.all(handles.map((h) => h.result({ timeout: 15_000 })))).resolves.toEqual(labels);
    expect(labels.filter((l) => runs.get(l) !== 1)).toEqual([]);
    const list = await app.manager.list({ limit: 500 });
    expect(list).toHaveLength(200);
    expect(list.filter((t) => t.status !== 'success' || t.attempt !== 1 || t.stalls !== undefined)).toEqual([]);
  });
});
