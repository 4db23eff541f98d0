/**
 * Poison on the Redis engine beyond the shared suite: a stalled task whose id holds a quote is
 * announced to every process, a key of the queue that is not a task hash ends its task instead of
 * failing a claim, the id index stays bounded whatever sits at its head, and `list()` reads it in
 * bounded chunks.
 */
import 'reflect-metadata';
import { ErrorCodes, QTasks, Task, TaskRecord } from 'qtasks';
import IORedis from 'ioredis';
import { RedisStorage } from 'qtasks/redis';
import { deleteKeys, ensureRedis, REDIS_URL, redisApp, sleep, testPrefix, waitFor } from './redis-support';

let release: () => void = () => undefined;

class BadRecordTasks {
  @Task({ name: 'rb.echo' })
  echo(v: unknown): unknown {
    return v;
  }

  /** Yields 'a', waits for the test, then yields 'b' and 'c'. */
  @Task({ name: 'rb.items' })
  async *items(): AsyncGenerator<string> {
    yield 'a';
    await new Promise<void>((resolve) => (release = resolve));
    yield 'b';
    yield 'c';
  }
}

const BAD = { code: ErrorCodes.BAD_RECORD };
let seq = 0;

describe('Redis engine: bad records and bounded indexes', () => {
  let prefix: string;
  let queue: string;
  let r: IORedis;
  const apps: QTasks[] = [];
  const make = (config: Record<string, unknown> = {}, concurrency?: number): QTasks => {
    const app = redisApp({ name: queue, prefix, concurrency, config }).register(BadRecordTasks);
    apps.push(app);
    return app;
  };
  const base = (): string => `${prefix}:{${queue}}:`;
  /** Entries in the id index, whatever its Redis type. */
  const indexSize = async (app: QTasks): Promise<number> => {
    const key = (app.storage as RedisStorage).keys.all;
    return (await r.type(key)) === 'zset' ? r.zcard(key) : r.llen(key);
  };

  beforeAll(async () => {
    await ensureRedis();
    r = new IORedis(REDIS_URL);
  });
  afterAll(() => r.quit());
  beforeEach(() => {
    prefix = testPrefix('rb');
    queue = `rb-${process.pid}-${++seq}`;
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
    await deleteKeys(prefix);
  });

  it('a stalled task whose id holds a quote ends STALLED and every process hears of it', async () => {
    const producer = make();
    const events: TaskRecord[] = [];
    producer.on('task:error', (e) => events.push(e.record));
    const id = 'say "hi" \\ there';
    await producer.addTask('rb.echo', [1], { id });
    // as if a worker that died had claimed it
    const k = base();
    await r.lrem(k + 'w:0', 1, id);
    await r.hset(k + 't:' + id, 'st', 'process', 'att', 1, 'wid', 'dead-worker', 'sa', Date.now());
    await r.sadd(k + 'held:dead-worker', id);
    await r.zadd(k + 'leases', 1, 'dead-worker');
    const worker = make({ leaseMs: 200, maxStalls: 0 });
    await worker.start();
    await waitFor(() => events.length > 0, 'task:error of the stalled task');
    expect(events[0]).toMatchObject({ id, status: 'error', error: { code: ErrorCodes.STALLED } });
    expect(await producer.getTask(id)).toMatchObject({ id, status: 'error', error: { code: ErrorCodes.STALLED } });
  });

  it('a queued task whose key is not a task hash ends BAD_RECORD; its batch runs and reads flag it', async () => {
    const app = make({}, 10);
    const hs = await Promise.all([0, 1, 2].map((i) => app.addTask('rb.echo', [i])));
    const bad = await app.addTask('rb.echo', ['bad']);
    const more = await app.addTask('rb.echo', [3]);
    await r.del(base() + 't:' + bad.id);
    await r.set(base() + 't:' + bad.id, 'not a hash');
    expect(await app.getTask(bad.id)).toMatchObject({ id: bad.id, status: 'error', error: BAD });
    expect((await app.manager.list()).map((t) => t.id)).toEqual([more.id, bad.id, ...hs.map((h) => h.id).reverse()]);
    expect(await app.cancel(bad.id)).toBe(false);
    expect(await app.manager.retry(bad.id)).toBe(false);
    await app.start();
    expect(await Promise.all([...hs, more].map((h) => h.result({ timeout: 5_000 })))).toEqual([0, 1, 2, 3]);
    await expect(bad.result({ timeout: 5_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_FAILED, cause: BAD });
    expect(await app.manager.counts()).toMatchObject({ new: 0, process: 0, success: 4, error: 1 });
    expect(await app.manager.remove(bad.id)).toBe(true);
    expect(await app.getTask(bad.id)).toBeUndefined();
  });

  it('a delayed task whose key is not a task hash ends BAD_RECORD when due; the tasks due with it run and counts follow', async () => {
    const app = make({}, 2);
    const before = await app.addTask('rb.echo', ['before'], { delay: 20 });
    const bad = await app.addTask('rb.echo', ['bad'], { delay: 30 });
    const after = await app.addTask('rb.echo', ['after'], { delay: 40 });
    await r.del(base() + 't:' + bad.id);
    await r.set(base() + 't:' + bad.id, 'not a hash');
    await sleep(60);
    await app.start();
    expect(await Promise.all([before, after].map((h) => h.result({ timeout: 5_000 })))).toEqual(['before', 'after']);
    await waitFor(async () => (await app.getTask(bad.id))?.status === 'error', 'the bad delayed task ends');
    expect(await app.getTask(bad.id)).toMatchObject({ id: bad.id, status: 'error', error: BAD });
    expect(await app.manager.counts()).toMatchObject({ delayed: 0, new: 0, process: 0, success: 2, error: 1 });
    expect(await r.zcard(base() + 'delayed')).toBe(0);
  });

  it('keeps the id index bounded when a long-lived task sits at its head', async () => {
    const app = make({ resultTtlMs: 150 });
    const head = await app.addTask('rb.echo', ['later'], { delay: 60_000 });
    await app.start();
    const wave = async (): Promise<void> => {
      const hs = await app.addTasks(Array.from({ length: 30 }, (_, i) => ({ name: 'rb.echo', args: [i] })));
      await Promise.all(hs.map((h) => h.result({ timeout: 5_000 })));
    };
    await wave();
    await sleep(300);
    await wave();
    await app.manager.counts();
    expect(await indexSize(app)).toBeLessThanOrEqual(31);
    expect((await app.manager.list()).map((t) => t.id)).toContain(head.id);
  });

  it('list() reads the index in bounded chunks: a page near the top costs one call, a scan many short ones', async () => {
    const app = make();
    const storage = app.storage as RedisStorage;
    const hs = await app.addTasks(Array.from({ length: 600 }, (_, i) => ({ name: 'rb.echo', args: [i], opts: { delay: 60_000 } })));
    let calls = 0;
    const script = storage.link.script.bind(storage.link);
    storage.link.script = (name) => {
      if (name === 'list') calls++;
      return script(name);
    };
    expect((await app.manager.list({ limit: 5 })).map((t) => t.id)).toEqual(hs.slice(-5).reverse().map((h) => h.id));
    expect(calls).toBe(1);
    calls = 0;
    expect(await app.manager.list({ name: 'no-such-task' })).toEqual([]);
    expect(calls).toBeGreaterThanOrEqual(3);
    calls = 0;
    expect((await app.manager.list({ offset: 550 })).map((t) => t.id)).toEqual(hs.slice(0, 50).reverse().map((h) => h.id));
  });

  it('a running task whose items key was written over with another type streams on and ends success', async () => {
    const app = make();
    await app.start();
    const h = await app.addTask('rb.items');
    await waitFor(async () => (await app.storage.items(h.id)).length === 1, 'the first item');
    await r.set(`${base()}i:${h.id}`, 'not a list');
    // readers skip what they cannot read instead of failing
    expect(await app.storage.items(h.id)).toEqual([]);
    release();
    expect(await h.result({ timeout: 5_000 })).toEqual(['a', 'b', 'c']);
    expect(await app.getTask(h.id)).toMatchObject({ status: 'success' });
    expect(await app.storage.items(h.id)).toEqual(['b', 'c']);
  });
});
