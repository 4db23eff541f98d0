/**
 * A Redis queue split over partitions, on one Redis (the partitions split the keys): where tasks
 * go, FIFO and priorities within a partition, a worker that serves every partition fairly, the
 * manager over the whole queue, handles and cancels from another process's app, a worker killed
 * mid-task, and the checks of the `partitions` setting.
 */
import 'reflect-metadata';
import IORedis from 'ioredis';
import { ErrorCodes, flow, QTasks, Task, TaskContext } from 'qtasks';
import { partitionOf, partitionTags, redisEngine } from 'qtasks/redis';
import { registerFixtureTasks, startWorkers } from './child-workers';
import { deleteKeys, ensureRedis, REDIS_URL, redisApp, sleep, testPrefix, waitFor } from './redis-support';
import { idOnPartition } from '../support/partition-ids';

const prefix = testPrefix('part');
const K = 3;
const ran: { id: string; label: string }[] = [];
const blocked = new Set<string>();

/** The tasks of these tests (method form: each receives its TaskContext). */
class PartTasks {
  @Task({ name: 'pt.mark' })
  mark(ctx: TaskContext, label: string): string {
    ran.push({ id: ctx.id, label });
    return label;
  }

  @Task({ name: 'pt.slow' })
  async slow(ctx: TaskContext, ms: number): Promise<string> {
    ran.push({ id: ctx.id, label: 'slow' });
    await sleep(ms);
    return ctx.id;
  }

  @Task({ name: 'pt.hold' })
  async hold(ctx: TaskContext): Promise<string> {
    blocked.add(ctx.id);
    await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
    return 'aborted';
  }

  @Task({ name: 'pt.sum' })
  async sum(ctx: TaskContext): Promise<number> {
    return ((await ctx.childResults()) as string[]).reduce((a, b) => a + Number(b.slice(1)), 0);
  }

  @Task({ name: 'pt.flaky', retry: 2, backoff: { type: 'fixed', delay: 20 } })
  flaky(ctx: TaskContext): number {
    if (ctx.attempt < 3) throw new Error(`attempt ${ctx.attempt}`);
    return ctx.attempt;
  }
}

const apps: QTasks[] = [];
let r: IORedis;
let n = 0;

function app(name: string, opts: { partitions?: number; concurrency?: number } = {}): QTasks {
  const a = redisApp({
    name,
    prefix,
    queues: { [name]: { partitions: opts.partitions ?? K } },
    concurrency: opts.concurrency,
    config: { shutdownTimeoutMs: 2_000 },
  }).register(PartTasks);
  apps.push(a);
  return a;
}

const queue = (): string => `q${++n}-${Date.now().toString(36)}`;

beforeAll(async () => {
  await ensureRedis();
  r = new IORedis(REDIS_URL);
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
  ran.length = 0;
  blocked.clear();
  await deleteKeys(prefix);
});
afterAll(() => r.quit());

describe('Redis partitions', () => {
  it('spreads tasks over every partition by a hash of their id; every key names the queue', async () => {
    const name = queue();
    const producer = app(name);
    const handles = await producer.addTasks(Array.from({ length: 90 }, (_, i) => ({ name: 'pt.mark', args: [`t${i}`] })));
    const tags = partitionTags(name, K);
    expect(new Set(tags).size).toBe(K);
    for (let p = 0; p < K; p++) {
      const ids = handles.filter((h) => partitionOf(h.id, K) === p).map((h) => h.id);
      expect(ids.length).toBeGreaterThan(10);
      for (const id of ids) expect(await r.exists(`${prefix}:{${tags[p]}}:t:${id}`)).toBe(1);
    }
    // (the engine's list of queue names is one key outside every queue)
    const keys = (await r.keys(`${prefix}:*`)).filter((k) => k !== `${prefix}:queues`);
    for (const key of keys) expect(key).toContain(`{${name}`);
    // no task lives under the queue's own tag
    expect(keys.filter((k) => k.startsWith(`${prefix}:{${name}}:t:`))).toEqual([]);
    expect((await producer.manager.counts()).new).toBe(90);
  });

  it('runs each partition FIFO, lower priorities first, and serves every partition fairly', async () => {
    const name = queue();
    const producer = app(name);
    const plan = Array.from({ length: 60 }, (_, i) => ({ label: `t${i}`, priority: i < 30 ? 1 : 0 }));
    const handles = await producer.addTasks(plan.map((p) => ({ name: 'pt.mark', args: [p.label], opts: { priority: p.priority } })));
    const worker = app(name, { concurrency: 1 });
    await worker.start();
    await Promise.all(handles.map((h) => h.result({ timeout: 10_000 })));
    const partOf = (label: string) => partitionOf(handles[Number(label.slice(1))].id, K);
    for (let p = 0; p < K; p++) {
      const mine = plan.filter((t) => partOf(t.label) === p);
      const expected = [...mine.filter((t) => t.priority === 0), ...mine.filter((t) => t.priority === 1)].map((t) => t.label);
      expect(ran.map((x) => x.label).filter((l) => partOf(l) === p)).toEqual(expected);
    }
    // no partition waits for another to drain: the first runs take from all of them
    const first = new Set(ran.slice(0, 9).map((x) => partOf(x.label)));
    expect(first.size).toBe(K);
  });

  it('a busy partition does not starve the others of a worker whose slots are all taken', async () => {
    const name = queue();
    const producer = app(name);
    const worker = app(name, { concurrency: 2 });
    await worker.start();
    // a long run of slow tasks on one partition, then one task on each other partition
    const onPart = (p: number, count: number, label: string) => {
      const out: { name: string; args: unknown[]; opts: { id: string } }[] = [];
      for (let i = 0; out.length < count; i++) {
        const id = `${label}-${p}-${i}`;
        if (partitionOf(id, K) === p) out.push({ name: 'pt.slow', args: [30], opts: { id } });
      }
      return out;
    };
    const busy = await producer.addTasks(onPart(0, 40, 'busy'));
    await waitFor(() => ran.length >= 2, 'the busy partition to start');
    const others = await producer.addTasks([...onPart(1, 1, 'other'), ...onPart(2, 1, 'other')]);
    await Promise.all(others.map((h) => h.result({ timeout: 10_000 })));
    // both ran long before the busy partition drained
    expect((await producer.manager.counts()).success).toBeLessThan(20);
    await Promise.all(busy.map((h) => h.result({ timeout: 20_000 })));
  });

  it('a partition that went idle while every slot was taken runs a task handed to it once a slot frees', async () => {
    const name = queue();
    const producer = app(name, { partitions: 2 });
    const worker = app(name, { partitions: 2, concurrency: 2 });
    await worker.start();
    const idOn = (p: number, label: string): string => idOnPartition(label, p, 2);
    // slot 1: held on partition 0
    const a = await producer.addTask('pt.hold', [], { id: idOn(0, 'a') });
    await waitFor(() => blocked.has(a.id), 'the first held task to run');
    await sleep(100);
    // partition 1 gets two at once: a short one in slot 2 and a held one claimed ahead, which
    // takes slot 2 next; partition 1's worker then finds its queue empty with no free slot
    const [b, c] = await producer.addTasks([
      { name: 'pt.slow', args: [200], opts: { id: idOn(1, 'b') } },
      { name: 'pt.hold', args: [], opts: { id: idOn(1, 'c') } },
    ]);
    expect(await b.result({ timeout: 5_000 })).toBe(b.id);
    await waitFor(() => blocked.has(c.id), 'the second held task to run');
    await sleep(100);
    // enqueued for partition 1 while no slot is free; then a slot frees on partition 0
    const d = await producer.addTask('pt.mark', ['d'], { id: idOn(1, 'd') });
    expect(await producer.manager.cancel(a.id)).toBe(true);
    expect(await d.result({ timeout: 2_000 })).toBe('d');
    expect(await producer.manager.cancel(c.id)).toBe(true);
  });

  it('the manager sees the whole queue: counts, list pages, get, workers, pause, purge', async () => {
    const name = queue();
    const producer = app(name);
    const handles = await producer.addTasks(Array.from({ length: 30 }, (_, i) => ({ name: 'pt.mark', args: [`t${i}`] })));
    const delayed = await producer.addTask('pt.mark', ['later'], { delay: 60_000 });
    expect(await producer.manager.counts()).toMatchObject({ new: 30, delayed: 1 });
    const all = await producer.manager.list();
    expect(all.map((x) => x.id).sort()).toEqual([...handles.map((h) => h.id), delayed.id].sort());
    for (let i = 1; i < all.length; i++) expect(all[i - 1].createdAt).toBeGreaterThanOrEqual(all[i].createdAt);
    const paged = [...(await producer.manager.list({ limit: 10 })), ...(await producer.manager.list({ limit: 10, offset: 10 })), ...(await producer.manager.list({ offset: 20 }))];
    expect(paged.map((x) => x.id)).toEqual(all.map((x) => x.id));
    expect((await producer.manager.list({ status: 'delayed' })).map((x) => x.id)).toEqual([delayed.id]);
    for (const h of handles.slice(0, 5)) expect(await producer.getTask(h.id)).toMatchObject({ id: h.id, status: 'new' });

    await producer.manager.pause();
    const worker = app(name, { concurrency: 4 });
    await worker.start();
    await sleep(200);
    expect(ran).toHaveLength(0);
    const workers = await producer.manager.workers();
    expect(workers).toHaveLength(1);
    await producer.manager.resume();
    await Promise.all(handles.map((h) => h.result({ timeout: 10_000 })));
    expect(await producer.manager.counts()).toMatchObject({ success: 30, delayed: 1 });
    expect(await producer.manager.purge('success')).toBe(30);
    expect(await producer.manager.counts()).toMatchObject({ success: 0, delayed: 1 });
  });

  it("handles, cancels, retries and removes work from another app, whichever partition holds the task", async () => {
    const name = queue();
    const producer = app(name);
    const worker = app(name, { concurrency: 10 });
    await worker.start();
    // three on each partition (ids chosen so: random ids could leave one partition out)
    const holds = await producer.addTasks(Array.from({ length: 9 }, (_, i) => ({ name: 'pt.hold', args: [], opts: { id: idOnPartition(`${name}-h${i}`, i % K, K) } })));
    expect(new Set(holds.map((h) => partitionOf(h.id, K))).size).toBe(K);
    await waitFor(() => blocked.size === 9, 'every held task to run');
    for (const h of holds) expect(await producer.manager.cancel(h.id, 'stop')).toBe(true);
    for (const h of holds) await expect(h.result({ timeout: 5_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_CANCELLED });
    expect(await producer.manager.counts()).toMatchObject({ cancel: 9 });
    // retry and remove route by id too
    const again = holds[0];
    expect(await producer.manager.retry(again.id)).toBe(true);
    await waitFor(() => blocked.has(again.id), 'the retried task to run');
    expect(await producer.manager.remove(holds[1].id)).toBe(true);
    expect(await producer.getTask(holds[1].id)).toBeUndefined();
    const flaky = await producer.addTasks(Array.from({ length: 6 }, () => ({ name: 'pt.flaky', args: [] })));
    expect(await Promise.all(flaky.map((h) => h.result({ timeout: 5_000 })))).toEqual([3, 3, 3, 3, 3, 3]);
    const later = await producer.addTasks(Array.from({ length: 6 }, (_, i) => ({ name: 'pt.mark', args: [`d${i}`], opts: { delay: 100 } })));
    expect(await Promise.all(later.map((h) => h.result({ timeout: 5_000 })))).toEqual(['d0', 'd1', 'd2', 'd3', 'd4', 'd5']);
  });

  it('a flow whose parent and children sit on different partitions runs its parent last', async () => {
    const name = queue();
    const producer = app(name);
    const worker = app(name, { concurrency: 4 });
    await worker.start();
    const children = Array.from({ length: 6 }, (_, i) => ({ name: 'pt.mark', args: [`c${i}`] }));
    const h = await producer.run(flow({ name: 'pt.sum', args: [], children }));
    expect(await h.result({ timeout: 10_000 })).toBe(15);
  });

  it('a worker killed mid-task: its tasks on every partition run again elsewhere', async () => {
    const name = queue();
    const producer = registerFixtureTasks(redisApp({ name, prefix, queues: { [name]: { partitions: K } } }));
    apps.push(producer);
    const [child] = await startWorkers(1, { QT_QUEUE: name, QT_PREFIX: prefix, QT_PARTITIONS: String(K), QT_LEASE_MS: '400', QT_CONCURRENCY: '9', QT_MAX_STALLS: '2' });
    const handles = await producer.addTasks(Array.from({ length: 9 }, (_, i) => ({ name: 'it.record', args: [i, 60_000] })));
    await waitFor(() => child.runs().length === 9, 'the child to run all nine');
    await child.kill('SIGKILL');
    const [rescue] = await startWorkers(1, { QT_QUEUE: name, QT_PREFIX: prefix, QT_PARTITIONS: String(K), QT_LEASE_MS: '400', QT_CONCURRENCY: '9' });
    try {
      await waitFor(() => rescue.runs().length === 9, 'the stalled tasks to run again', 15_000);
      expect(new Set(rescue.runs().map((m) => m.id))).toEqual(new Set(handles.map((h) => h.id)));
    } finally {
      await rescue.kill('SIGKILL');
    }
  }, 30_000);

  it('refuses a partition count that is not a positive integer, or given to the engine instead of the queue', () => {
    for (const bad of [0, -1, 1.5, '3', Number.NaN, 100_000]) {
      expect(() => new QTasks({ name: 'x', redis: REDIS_URL, queues: { x: { partitions: bad as number } }, discover: false })).toThrow(
        expect.objectContaining({ code: ErrorCodes.BAD_OPTION }),
      );
    }
    expect(() => redisEngine({ url: REDIS_URL, partitions: 3 })).toThrow(expect.objectContaining({ code: ErrorCodes.BAD_OPTION }));
  });

  it('refuses a worker or a partitioned producer whose count differs from the queue’s', async () => {
    const name = queue();
    const first = app(name);
    await first.start();
    await expect(app(name, { partitions: 2 }).start()).rejects.toMatchObject({ code: ErrorCodes.BAD_OPTION });
    await expect(app(name, { partitions: 1 }).start()).rejects.toMatchObject({ code: ErrorCodes.BAD_OPTION });
    await expect(app(name, { partitions: 4 }).addTask('pt.mark', ['x'])).rejects.toMatchObject({ code: ErrorCodes.BAD_OPTION });
    // the right count works
    expect(await (await app(name).addTask('pt.mark', ['ok'])).result({ timeout: 5_000 })).toBe('ok');
  });
});
