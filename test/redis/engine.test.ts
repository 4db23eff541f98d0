/**
 * The Redis engine in one process: record expiry and removeOnComplete, counts and list, handing
 * tasks back at close, the workers list, locks and rate limits, and the `{queue}` hash tag.
 */
import 'reflect-metadata';
import { QTasks, State, StateStore, Task, TaskContext } from 'qtasks';
import IORedis from 'ioredis';
import { countKeys, deleteKeys, ensureRedis, REDIS_URL, redisApp, sleep, testPrefix, waitFor } from './redis-support';

class EngineTasks {
  @Task({ name: 're.echo' })
  echo(v: unknown): unknown {
    return v;
  }

  @Task({ name: 're.fail' })
  fail(): never {
    throw new Error('nope');
  }

  @Task({ name: 're.wait' })
  async wait(ctx: TaskContext, ms: number): Promise<string> {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      });
    });
    return ctx.signal.aborted ? 'aborted' : 'waited';
  }
}

@State({ name: 're.state' })
class StateProbe extends StateStore<{ k: number }> {}

let seq = 0;

describe('Redis engine', () => {
  let prefix: string;
  let queue: string;
  let apps: QTasks[] = [];

  beforeAll(() => ensureRedis());
  beforeEach(() => {
    prefix = testPrefix('re');
    queue = `re${++seq}`;
  });
  afterEach(async () => {
    for (const app of apps.reverse()) await app.close();
    apps = [];
    await deleteKeys(prefix);
  });

  const make = (config: Parameters<typeof redisApp>[0]['config'] = {}, concurrency?: number) => {
    const app = redisApp({ name: queue, prefix, config, concurrency }).register(EngineTasks);
    apps.push(app);
    return app;
  };

  it('expires finished records after resultTtlMs, and counts and list follow', async () => {
    // long enough for the checks below to run before it under load; the wait is measured from the
    // later end
    const app = make({ resultTtlMs: 1_500 });
    await app.start();
    const ok = await app.addTask('re.echo', [1]);
    const bad = await app.addTask('re.fail');
    await ok.result({ timeout: 2_000 });
    await bad.result({ timeout: 2_000 }).catch(() => undefined);
    expect(await app.manager.counts()).toMatchObject({ success: 1, error: 1 });
    expect((await app.manager.list()).map((r) => r.id)).toEqual([bad.id, ok.id]);
    const ended = Math.max((await app.getTask(ok.id))?.finishedAt ?? 0, (await app.getTask(bad.id))?.finishedAt ?? 0);
    expect(ended).toBeGreaterThan(0);
    await sleep(ended + 1_700 - Date.now());
    expect(await app.getTask(ok.id)).toBeUndefined();
    expect(await app.getTask(bad.id)).toBeUndefined();
    expect(await app.manager.counts()).toMatchObject({ success: 0, error: 0 });
    expect(await app.manager.list()).toEqual([]);
  });

  it('drops a record at once with removeOnComplete, and result() still settles', async () => {
    const app = make();
    await app.start();
    const h = await app.addTask('re.echo', ['kept?'], { removeOnComplete: true });
    expect(await h.result({ timeout: 2_000 })).toBe('kept?');
    expect(await app.getTask(h.id)).toBeUndefined();
    expect((await app.manager.counts()).success).toBe(0);
  });

  it('keeps its indexes bounded: ids of dropped records leave them as tasks finish', async () => {
    const app = make({ resultTtlMs: 150 });
    await app.start();
    const wave = async (opts: { removeOnComplete?: boolean }) => {
      const hs = await app.addTasks(Array.from({ length: 30 }, (_, i) => ({ name: 're.echo', args: [i], opts })));
      await Promise.all(hs.map((h) => h.result({ timeout: 5_000 })));
    };
    await wave({ removeOnComplete: true });
    await wave({});
    await sleep(250);
    await wave({});
    const r = new IORedis(REDIS_URL);
    try {
      const base = `${prefix}:{${queue}}:`;
      expect(await r.zcard(base + 'idx')).toBeLessThanOrEqual(31);
      expect(await r.llen(base + 'done:success')).toBeLessThanOrEqual(31);
    } finally {
      r.disconnect();
    }
    expect((await app.manager.counts()).success).toBe(30);
  });

  it('reads updatedAt as the latest change of a record: claims and ends write only the start and the end', async () => {
    const producer = make();
    // claimed from the queue by a worker's call (a batch), then handed over to an idle worker (one
    // at a time, and a batch), ending in success and in error
    const queued = await producer.addTasks([1, 2, 3].map((v) => ({ name: 're.echo', args: [v] })));
    const worker = make({}, 2);
    await worker.start();
    await Promise.all(queued.map((h) => h.result({ timeout: 5_000 })));
    const one = await producer.addTask('re.echo', ['one']);
    await one.result({ timeout: 5_000 });
    const failed = await producer.addTask('re.fail');
    await expect(failed.result({ timeout: 5_000 })).rejects.toThrow('nope');
    const batch = await producer.addTasks([4, 5].map((v) => ({ name: 're.echo', args: [v] })));
    await Promise.all(batch.map((h) => h.result({ timeout: 5_000 })));
    const r = new IORedis(REDIS_URL);
    try {
      for (const h of [...queued, one, failed, ...batch]) {
        const rec = (await producer.getTask(h.id))!;
        expect(rec.startedAt).toBeGreaterThanOrEqual(rec.createdAt);
        expect(rec.finishedAt).toBeGreaterThanOrEqual(rec.startedAt!);
        expect(rec.updatedAt).toBe(rec.finishedAt);
        expect(await r.hexists(`${prefix}:{${queue}}:t:${h.id}`, 'up')).toBe(0);
      }
    } finally {
      r.disconnect();
    }
  });

  it('lists newest first with filters, and counts every status', async () => {
    const app = make();
    const a = await app.addTask('re.echo', ['a']);
    const since = Date.now();
    await sleep(5);
    const b = await app.addTask('re.fail');
    const c = await app.addTask('re.echo', ['c'], { delay: 60_000 });
    expect((await app.manager.list()).map((r) => r.id)).toEqual([c.id, b.id, a.id]);
    expect((await app.manager.list({ name: 're.echo' })).map((r) => r.id)).toEqual([c.id, a.id]);
    expect((await app.manager.list({ status: 'delayed' })).map((r) => r.id)).toEqual([c.id]);
    expect((await app.manager.list({ since })).map((r) => r.id)).toEqual([c.id, b.id]);
    expect((await app.manager.list({ until: since })).map((r) => r.id)).toEqual([a.id]);
    expect((await app.manager.list({ limit: 1, offset: 1 })).map((r) => r.id)).toEqual([b.id]);
    expect(await app.manager.counts()).toEqual({ new: 2, delayed: 1, process: 0, waiting: 0, success: 0, error: 0, cancel: 0, retry: 0 });
    expect(await app.manager.purge('new')).toBe(2);
    expect(await app.manager.counts()).toMatchObject({ new: 0, delayed: 1 });
    expect(await app.manager.remove(c.id)).toBe(true);
    expect(await app.manager.counts()).toMatchObject({ delayed: 0 });
  });

  it('hands running tasks back at close: another worker runs them, the attempt not counted', async () => {
    const first = make({ shutdownTimeoutMs: 100 });
    await first.start();
    const h = await first.addTask('re.wait', [10_000]);
    await waitFor(async () => (await first.getTask(h.id))?.status === 'process', 'the task to start');
    await first.close();
    expect(await make().getTask(h.id)).toMatchObject({ status: 'new', attempt: 0 });
    const second = make();
    await second.start();
    await waitFor(async () => (await second.getTask(h.id))?.status === 'process', 'the task to start again');
    expect((await second.getTask(h.id))?.attempt).toBe(1);
    expect(await second.cancel(h.id)).toBe(true);
  });

  it('lists live workers and forgets them when they close', async () => {
    const a = make({}, 3);
    const b = make({}, 2);
    await a.start();
    await b.start();
    await waitFor(async () => (await a.manager.workers()).length === 2, 'two workers');
    const list = await a.manager.workers();
    expect(list.map((w) => w.concurrency).sort()).toEqual([2, 3]);
    expect(list[0]).toMatchObject({ pid: process.pid });
    await b.close();
    expect((await a.manager.workers()).map((w) => w.concurrency)).toEqual([3]);
  });

  it('takes a lock once per ttl and limits a sliding window across apps', async () => {
    const a = make();
    const b = make();
    await a.init();
    await b.init();
    // windows long enough that a loaded machine's pauses between calls stay inside them
    expect(await a.broker.tryLock('tick', 1_500)).toBe(true);
    expect(await b.broker.tryLock('tick', 1_500)).toBe(false);
    await sleep(1_600);
    expect(await b.broker.tryLock('tick', 1_500)).toBe(true);
    expect(await a.broker.rateLimit('rl', 2, 5_000)).toBe(0);
    expect(await b.broker.rateLimit('rl', 2, 5_000)).toBe(0);
    const wait = await a.broker.rateLimit('rl', 2, 5_000);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(5_000);
  });

  it('keeps every key of a queue under its {queue} hash tag', async () => {
    const app = make();
    await app.start();
    const h = await app.addTask('re.echo', [1]);
    await h.result({ timeout: 2_000 });
    await app.state(StateProbe).set('k', 1);
    expect(await countKeys(prefix)).toBeGreaterThan(3);
    // besides the queue's own keys, only the engine's list of queue names (one key, never in a
    // script with a queue's keys) for manager.queues()
    expect(await countKeys(`${prefix}:{${queue}}:`)).toBe((await countKeys(prefix)) - 1);
    expect(await countKeys(`${prefix}:queues`)).toBe(1);
  });
});
