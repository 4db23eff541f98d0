/**
 * Tasks handed over to an idle worker: a worker that found the queue empty is entered idle, and an
 * enqueue from another app claims new tasks for it into its inbox, which its blocking pop takes
 * (no wake-up, then claim). Every such task runs exactly once, and tasks left in the inbox of a
 * worker that never takes them (its idle entry or its lease expired) go back to the queue without
 * an attempt counted.
 */
import 'reflect-metadata';
import { QTasks, Task } from 'qtasks';
import { redisQueueFixture, sleep, waitFor } from './redis-support';

jest.setTimeout(30_000);

const runs = new Map<string, number>();

class HandoverTasks {
  @Task({ name: 'ho.echo' })
  echo(v: string): string {
    runs.set(v, (runs.get(v) ?? 0) + 1);
    return v;
  }
}

describe('Redis engine: tasks handed over to idle workers', () => {
  const fx = redisQueueFixture('ho', HandoverTasks);
  const app = (opts: { concurrency?: number; leaseMs?: number } = {}): QTasks =>
    fx.app({ concurrency: opts.concurrency, config: opts.leaseMs ? { leaseMs: opts.leaseMs } : {} });

  /** A started worker app, once it is entered idle; returns its worker id. */
  async function idleWorker(opts: { concurrency?: number; leaseMs?: number } = {}): Promise<{ worker: QTasks; wid: string }> {
    const worker = app(opts);
    await worker.start();
    let wid = '';
    await waitFor(async () => {
      wid = Object.keys(await fx.admin.hgetall(fx.base() + 'idle'))[0] ?? '';
      return wid !== '';
    }, 'the worker entered idle');
    return { worker, wid };
  }

  it('hands new tasks to an idle worker of another app: each runs once, the rest of a batch too', async () => {
    const { worker, wid } = await idleWorker({ concurrency: 1 });
    const producer = app();
    const labels = [0, 1, 2, 3, 4].map((i) => `b-${fx.queue}-${i}`);
    const handles = await producer.addTasks(labels.map((l) => ({ name: 'ho.echo', args: [l] })));
    await expect(Promise.all(handles.map((h) => h.result({ timeout: 10_000 })))).resolves.toEqual(labels);
    for (const l of labels) expect(runs.get(l)).toBe(1);
    for (const h of handles) expect(await producer.getTask(h.id)).toMatchObject({ status: 'success', attempt: 1 });
    expect(await worker.manager.counts()).toMatchObject({ success: 5, process: 0, new: 0 });
    expect(await fx.admin.exists(fx.base() + 'inbox:' + wid)).toBe(0);
    expect(await fx.admin.scard(fx.base() + 'held:' + wid)).toBe(0);
    // one at a time as well (the round trip of a producer and a worker apart)
    for (let i = 0; i < 5; i++) {
      const h = await producer.addTask('ho.echo', [`s-${fx.queue}-${i}`]);
      await expect(h.result({ timeout: 10_000 })).resolves.toBe(`s-${fx.queue}-${i}`);
    }
    expect(await worker.manager.counts()).toMatchObject({ success: 10, process: 0, new: 0 });
  });

  it('claims for an idle worker into its inbox, and no further than it wants', async () => {
    const producer = app();
    // a worker that entered idle wanting 2, and never takes them
    await fx.admin.hset(fx.base() + 'idle', 'ghost', `2:${Date.now() + 60_000}:30000`);
    const handles = await producer.addTasks([1, 2, 3].map((i) => ({ name: 'ho.echo', args: [`g-${fx.queue}-${i}`] })));
    const recs = await Promise.all(handles.map((h) => producer.getTask(h.id)));
    expect(recs.map((r) => r?.status)).toEqual(['process', 'process', 'new']);
    expect(recs[0]).toMatchObject({ workerId: 'ghost', attempt: 1 });
    expect(await fx.admin.zcard(fx.base() + 'inbox:ghost')).toBe(2);
    expect((await fx.admin.smembers(fx.base() + 'held:ghost')).sort()).toEqual([handles[0].id, handles[1].id].sort());
    expect(await producer.manager.counts()).toMatchObject({ process: 2, new: 1 });
    // taken: nothing more is handed over until it calls again
    const more = await producer.addTask('ho.echo', [`g-${fx.queue}-4`]);
    expect((await producer.getTask(more.id))?.status).toBe('new');
  });

  it('puts back the inbox of a worker that never took it (idle entry or lease expired), the attempt not counted', async () => {
    const producer = app();
    await fx.admin.hset(fx.base() + 'idle', 'ghost1', `1:${Date.now() + 1_500}:30000`);
    const h1 = await producer.addTask('ho.echo', [`x-${fx.queue}-1`]);
    await fx.admin.hset(fx.base() + 'idle', 'ghost2', `1:${Date.now() + 60_000}:30000`);
    const h2 = await producer.addTask('ho.echo', [`x-${fx.queue}-2`]);
    expect((await producer.getTask(h1.id))?.workerId).toBe('ghost1');
    expect((await producer.getTask(h2.id))?.workerId).toBe('ghost2');
    // ghost2 holds a lease that runs out (ghost1's idle entry does)
    await fx.admin.zadd(fx.base() + 'leases', Date.now() + 300, 'ghost2');
    await sleep(1_600);
    const worker = app({ leaseMs: 400 });
    await worker.start();
    await expect(h1.result({ timeout: 10_000 })).resolves.toBe(`x-${fx.queue}-1`);
    await expect(h2.result({ timeout: 10_000 })).resolves.toBe(`x-${fx.queue}-2`);
    for (const h of [h1, h2]) {
      const rec = await producer.getTask(h.id);
      expect(rec).toMatchObject({ status: 'success', attempt: 1 });
      expect(await fx.admin.hget(fx.base() + 't:' + h.id, 'stl')).toBeNull();
    }
    expect(await fx.admin.exists(fx.base() + 'inbox:ghost1', fx.base() + 'inbox:ghost2')).toBe(0);
    expect(await fx.admin.hexists(fx.base() + 'idle', 'ghost1')).toBe(0);
    expect(await fx.admin.hexists(fx.base() + 'idle', 'ghost2')).toBe(0);
    expect(await worker.manager.counts()).toMatchObject({ success: 2, process: 0, new: 0 });
  });

  it('hands nothing over while tasks wait or the fx.queue is paused, and leaves idle when it stops', async () => {
    const producer = app();
    await producer.manager.pause();
    await fx.admin.hset(fx.base() + 'idle', 'ghost', `5:${Date.now() + 60_000}:30000`);
    const h = await producer.addTask('ho.echo', [`p-${fx.queue}`]);
    expect((await producer.getTask(h.id))?.status).toBe('new');
    await producer.manager.resume();
    const h2 = await producer.addTask('ho.echo', [`p2-${fx.queue}`]);
    // one task waits already: the new one queues behind it
    expect((await producer.getTask(h2.id))?.status).toBe('new');
    await fx.admin.hdel(fx.base() + 'idle', 'ghost');
    const { worker, wid } = await idleWorker();
    await expect(h2.result({ timeout: 10_000 })).resolves.toBe(`p2-${fx.queue}`);
    await worker.close();
    expect(await fx.admin.hexists(fx.base() + 'idle', wid)).toBe(0);
    const h3 = await producer.addTask('ho.echo', [`p3-${fx.queue}`]);
    expect((await producer.getTask(h3.id))?.status).toBe('new');
  });

  it('a worker paused by an operator leaves idle: new tasks stay queued until it is resumed', async () => {
    const { worker, wid } = await idleWorker();
    const producer = app();
    await producer.manager.pauseWorker(wid);
    await waitFor(async () => (await fx.admin.hexists(fx.base() + 'idle', wid)) === 0, 'the paused worker to leave idle');
    const h = await producer.addTask('ho.echo', [`paused-${fx.queue}`]);
    await sleep(300);
    expect((await producer.getTask(h.id))?.status).toBe('new');
    expect(runs.get(`paused-${fx.queue}`)).toBeUndefined();
    await producer.manager.resumeWorker(wid);
    await expect(h.result({ timeout: 10_000 })).resolves.toBe(`paused-${fx.queue}`);
    expect(runs.get(`paused-${fx.queue}`)).toBe(1);
    expect(worker.name).toBe(fx.queue);
  });
});
