/**
 * What keeps the PostgreSQL engine's statements few: the counter increments, record reads, state
 * sets and set adds of one tick go as one statement each (sets and adds made while one is out go
 * together in the next), and end notifications carry whole records only while another process asked for them.
 */
import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { Client, Pool } from 'pg';
import { QTasks, State, StateStore, Task, TaskRecord } from 'qtasks';
import { postgresEngine } from 'qtasks/postgres';
import { pgApp, TestDatabase } from './pg-support';

const db = new TestDatabase('trips').hooks();
let seq = 0;
const queue = (tag: string) => `pg-${tag}-${process.pid}-${++seq}`;

@State({ name: 'rt.counts' })
class Counts extends StateStore<Record<string, number>> {}

class TripTasks {
  @Task({ name: 'rt.add' })
  add(a: number, b: number): number {
    return a + b;
  }

  @Task({ name: 'rt.slow' })
  async slow(ms: number): Promise<string> {
    await new Promise((r) => setTimeout(r, ms));
    return 'ok';
  }
}

const apps: QTasks[] = [];
const clients: Client[] = [];
const pools: Pool[] = [];
afterEach(async () => {
  for (const app of apps.splice(0).reverse()) await app.close();
  for (const c of clients.splice(0)) await c.end();
  for (const p of pools.splice(0)) await p.end();
});

/** Waits until `ok()`, running `step` (or a short pause) between looks. */
async function until(what: string, ok: () => boolean, ms = 10_000, step?: () => Promise<void>): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await (step ? step() : new Promise((r) => setTimeout(r, 10)));
  }
}

/** Every notification on the queue's channel, heard by a plain client. */
async function channelOf(name: string): Promise<string[]> {
  const heard: string[] = [];
  const c = new Client({ connectionString: db.url });
  clients.push(c);
  await c.connect();
  c.on('notification', (m) => heard.push(m.payload ?? ''));
  await c.query(`LISTEN "qt_${createHash('sha1').update('qtasks\0' + name).digest('hex').slice(0, 40)}"`);
  return heard;
}

/** The entries of the end notifications (`F…`) heard so far. */
function ends(heard: string[]): (string | TaskRecord)[] {
  return heard.filter((m) => m.startsWith('F')).flatMap((m) => JSON.parse(m.slice(m.indexOf(' ') + 1)) as (string | TaskRecord)[]);
}

/**
 * A pool of the test database whose plain-text queries are noted: `sent` gets each statement,
 * `wants` the claim size (7th argument) of each `step_keep` call. Ended after the test, once its
 * apps are closed.
 */
function watchedPool(): { pool: Pool; sent: string[]; wants: number[] } {
  const pool = new Pool({ connectionString: db.url, max: 4 });
  pools.push(pool);
  const sent: string[] = [];
  const wants: number[] = [];
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    if (typeof args[0] === 'string') {
      sent.push(args[0]);
      if (args[0].includes('.step_keep(')) wants.push((args[1] as number[])[6]);
    }
    return query(...args);
  };
  return { pool, sent, wants };
}

describe('PostgreSQL engine: statements per task', () => {
  it('sends the counter increments of one tick as one statement; each call sees the value after its own increment', async () => {
    const { pool, sent } = watchedPool();
    const app = new QTasks({ name: queue('incr'), discover: false, engine: postgresEngine({ pool }), config: { logLevel: 'silent' } }).register(Counts);
    apps.push(app);
    const counts = app.state(Counts);
    await counts.set('x', 0);
    const before = sent.length;
    const got = await Promise.all([counts.incr('a', 1), counts.incr('b', 2), counts.incr('a', 3), counts.incr('c'), counts.incr('a', 5)]);
    expect(got).toEqual([1, 2, 4, 1, 9]);
    const incrs = sent.slice(before).filter((t) => t.includes('.state'));
    // a, b, c in one statement; the second and third increments of `a` each in the next one
    expect(incrs).toHaveLength(3);
    expect(await counts.all()).toEqual({ x: 0, a: 9, b: 2, c: 1 });
  });

  it('reads the records of one tick in one statement, each call answered with a record of its own', async () => {
    const { pool, sent } = watchedPool();
    const app = new QTasks({ name: queue('gets'), discover: false, engine: postgresEngine({ pool }), config: { logLevel: 'silent' } }).register(TripTasks);
    apps.push(app);
    const hs = await app.addTasks([{ name: 'rt.add', args: [1, 2] }, { name: 'rt.add', args: [3, 4] }]);
    const before = sent.length;
    const got = await Promise.all([app.getTask(hs[0].id), app.getTask('no-such'), app.getTask(hs[1].id), app.getTask(hs[0].id)]);
    expect(got.map((r) => r?.args)).toEqual([[1, 2], undefined, [3, 4], [1, 2]]);
    expect(got[0]).not.toBe(got[3]);
    expect(sent.slice(before).filter((t) => t.includes('FROM') && t.includes('.tasks t WHERE'))).toHaveLength(1);
  });

  it('sends the state sets and set adds of one tick as one statement each, and those made while one is out together in the next', async () => {
    const { pool, sent } = watchedPool();
    const app = new QTasks({ name: queue('sets'), discover: false, engine: postgresEngine({ pool }), config: { logLevel: 'silent' } }).register(Counts);
    apps.push(app);
    const counts = app.state(Counts);
    await counts.set('warm', 0);
    const storage = app.storage;
    const sets = () => sent.filter((t) => t.includes('INSERT INTO') && t.includes('.state (queue, state, key, value) SELECT')).length;
    const adds = () => sent.filter((t) => t.includes('.state_add_members(')).length;
    const [s0, a0] = [sets(), adds()];
    // one tick: a key set twice keeps its last value
    await Promise.all([counts.set('a', 1), counts.set('b', 2), counts.set('a', 3)]);
    expect(sets() - s0).toBe(1);
    expect(await counts.all()).toEqual({ warm: 0, a: 3, b: 2 });
    // sets of three ticks: the first goes alone (held until the others are made), the two made
    // while it is out go together
    const tick = () => new Promise((r) => setImmediate(r));
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
    let hold = 0;
    (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) =>
      hold-- > 0 ? held.then(() => query(...args)) : query(...args);
    hold = 1;
    const more: Promise<void>[] = [counts.set('c', 1)];
    await tick();
    more.push(counts.set('d', 2));
    await tick();
    more.push(counts.set('c', 5));
    await tick();
    release();
    await Promise.all(more);
    expect(sets() - s0).toBe(3);
    expect(await counts.all()).toEqual({ warm: 0, a: 3, b: 2, c: 5, d: 2 });
    // adds: one statement per tick, each answered with the set's size after it
    const add = (k: string, m: number) => storage.stateAddMember!('rt.counts', k, m);
    expect(await Promise.all([add('g', 1), add('g', 2), add('h', 1), add('g', 1)])).toEqual([1, 2, 1, 2]);
    expect(adds() - a0).toBe(1);
    let releaseAdd: () => void = () => undefined;
    const heldAdd = new Promise<void>((r) => (releaseAdd = r));
    (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) =>
      hold-- > 0 ? heldAdd.then(() => query(...args)) : query(...args);
    hold = 1;
    const later: Promise<number>[] = [add('g', 3)];
    await tick();
    later.push(add('g', 4));
    await tick();
    later.push(add('g', 3));
    await tick();
    releaseAdd();
    expect(await Promise.all(later)).toEqual([3, 4, 4]);
    expect(adds() - a0).toBe(3);
    expect(await storage.stateGet('rt.counts', 'g')).toEqual([1, 2, 3, 4]);
  });

  it('an idle worker of the same process claims a new task in the enqueue\'s own call: a round trip is two statements and no wake-up', async () => {
    const name = queue('along');
    const heard = await channelOf(name);
    const { pool, sent, wants } = watchedPool();
    const app = new QTasks({ name, concurrency: 1, discover: false, engine: postgresEngine({ pool }), config: { logLevel: 'silent' } }).register(TripTasks);
    apps.push(app);
    await app.start();
    expect(await (await app.addTask('rt.add', [0, 1])).result({ timeout: 10_000 })).toBe(1);
    const before = sent.length;
    const wantsBefore = wants.length;
    const wakesBefore = heard.filter((m) => m.startsWith('n')).length;
    for (let i = 0; i < 20; i++) expect(await (await app.addTask('rt.add', [i, 1])).result({ timeout: 10_000 })).toBe(i + 1);
    const trips = sent.slice(before);
    // a claim of the safety poll on its way when a task is added lets that one enqueue go alone
    const along = trips.filter((t) => t.includes('.enqueue_claim(')).length;
    expect(along).toBeGreaterThanOrEqual(19);
    expect(along + trips.filter((t) => t.includes('.enqueue(')).length).toBe(20);
    // each end goes in one step; a safety poll may add one more look
    const steps = trips.filter((t) => t.includes('.step_keep(')).length;
    expect(steps).toBeGreaterThanOrEqual(20);
    expect(steps).toBeLessThanOrEqual(21);
    // the enqueue said that its claim left nothing ready: the ends go without a claim. A safety
    // poll that fires during the trips (every 5 s: a slow machine gets there) claims once itself,
    // and the enqueue it overlaps goes alone, so the next end claims once more
    expect(wants.slice(wantsBefore).filter((w) => w > 0).length).toBeLessThanOrEqual(2);
    // the tasks were taken in their enqueue: no other worker is woken for them. An enqueue that
    // went alone (a safety poll's claim was on its way) announces its task like any other
    await new Promise((r) => setTimeout(r, 100));
    expect(heard.filter((m) => m.startsWith('n')).length - wakesBefore).toBe(20 - along);

    // a delayed task is still announced (with its due time), and runs when due
    const delayed = await app.addTask('rt.add', [2, 2], { delay: 200 });
    await until('the wake-up of the delayed task', () => heard.some((m) => /^n\d+$/.test(m)));
    expect(await delayed.result({ timeout: 10_000 })).toBe(4);
  });

  it('a worker told of one task by the channel claims it, learns that nothing else is ready, and records its end without a claim', async () => {
    const name = queue('told');
    const { pool, wants } = watchedPool();
    const worker = new QTasks({ name, concurrency: 1, discover: false, engine: postgresEngine({ pool }), config: { logLevel: 'silent' } }).register(TripTasks);
    apps.push(worker);
    await worker.start();
    // the producer is another app (its own engine): the worker learns of each task from the channel
    const producer = pgApp(db, { name, config: { logLevel: 'silent' } }).register(TripTasks);
    apps.push(producer);
    expect(await (await producer.addTask('rt.add', [0, 1])).result({ timeout: 10_000 })).toBe(1);
    const before = wants.length;
    for (let i = 0; i < 10; i++) expect(await (await producer.addTask('rt.add', [i, 1])).result({ timeout: 10_000 })).toBe(i + 1);
    const steps = wants.slice(before);
    // one claim per task (a safety poll may add one); the ends go without a claim
    expect(steps.filter((w) => w > 0).length).toBeGreaterThanOrEqual(10);
    expect(steps.filter((w) => w > 0).length).toBeLessThanOrEqual(11);
    expect(steps.filter((w) => w === 0).length).toBeGreaterThanOrEqual(10);
  });

  it('an enqueue with the claim of this process\'s worker answers an existing id with its stored record and runs it once', async () => {
    const name = queue('along-dup');
    const worker = pgApp(db, { name, concurrency: 2, config: { logLevel: 'silent' } }).register(TripTasks);
    apps.push(worker);
    const runs: string[] = [];
    worker.on('task:success', ({ record }) => runs.push(record.id));
    await worker.start();
    const first = await worker.addTask('rt.add', [1, 2], { id: 'dup-1' });
    expect(await first.result({ timeout: 10_000 })).toBe(3);
    // the worker is idle: this call claims along; the existing id comes back as stored, the new one runs
    const [again, fresh] = await worker.addTasks([
      { name: 'rt.add', args: [5, 5], opts: { id: 'dup-1' } },
      { name: 'rt.add', args: [6, 6], opts: { id: 'dup-2' } },
    ]);
    expect(await fresh.result({ timeout: 10_000 })).toBe(12);
    expect(await again.result({ timeout: 10_000 })).toBe(3);
    expect(await worker.getTask('dup-1')).toMatchObject({ status: 'success', args: [1, 2], returning: 3 });
    await new Promise((r) => setTimeout(r, 200));
    expect(runs.sort()).toEqual(['dup-1', 'dup-2']);
  });

  it('announces ends by id while no other process asked for records, and sends records once one listens', async () => {
    const name = queue('notice');
    const heard = await channelOf(name);
    const worker = pgApp(db, { name, concurrency: 4, config: { logLevel: 'silent' } }).register(TripTasks);
    apps.push(worker);
    await worker.start();
    const first = await Promise.all([1, 2, 3].map(async (i) => (await worker.addTask('rt.add', [i, 1])).result({ timeout: 10_000 })));
    expect(first).toEqual([2, 3, 4]);
    await until('three ends heard', () => ends(heard).length >= 3);
    expect(ends(heard).every((e) => typeof e === 'string')).toBe(true);

    // another process (an app of its own engine) listens to end events: it says so, and records follow
    const listener = pgApp(db, { name, config: { logLevel: 'silent' } });
    apps.push(listener);
    const events: TaskRecord[] = [];
    listener.on('task:success', ({ record }) => events.push(record));
    await listener.getTask('none');
    // the listener says so within a second; from then on the worker's ends carry records
    let last = '';
    await until(
      'an end notification with a record',
      () => ends(heard).some((e) => typeof e !== 'string'),
      15_000,
      async () => {
        const t = await worker.addTask('rt.add', [40, 2]);
        last = t.id;
        expect(await t.result({ timeout: 10_000 })).toBe(42);
      },
    );
    const inline = ends(heard).find((e): e is TaskRecord => typeof e !== 'string')!;
    expect(inline).toMatchObject({ status: 'success', returning: 42 });
    await until('the event of the last task in the listener', () => events.some((r) => r.id === last));
    expect(events.find((r) => r.id === last)).toMatchObject({ status: 'success', returning: 42 });
  });

  it('a worker whose tasks end before its next claim comes back claims more at once: a backlog of quick tasks goes in claims above four times its slots', async () => {
    const name = queue('grow');
    const producer = pgApp(db, { name, config: { logLevel: 'silent' } }).register(TripTasks);
    apps.push(producer);
    const total = 4_000;
    for (let i = 0; i < total; i += 1_000) {
      await producer.addTasks(Array.from({ length: 1_000 }, (_, j) => ({ name: 'rt.add', args: [i + j, 1] })));
    }
    const { pool, wants } = watchedPool();
    const worker = new QTasks({ name, concurrency: 20, discover: false, engine: postgresEngine({ pool }), config: { logLevel: 'silent' } }).register(TripTasks);
    apps.push(worker);
    let done = 0;
    worker.on('task:success', () => void done++);
    await worker.start();
    await until('every task ended', () => done === total, 30_000);
    // 4 × 20 at first, doubling while the worker runs out of work, up to 16 × 20
    const claims = wants.filter((w) => w > 0);
    expect(Math.max(...claims)).toBe(320);
    expect(claims.length).toBeLessThan(total / 80);
    expect((await producer.manager.counts()).success).toBe(total);
  });

  it('a worker of slow tasks keeps its claims at four times its slots, and another worker of the queue shares the backlog', async () => {
    const name = queue('slow');
    const { pool, wants } = watchedPool();
    const mk = (engine: ReturnType<typeof postgresEngine>) => {
      const app = new QTasks({ name, concurrency: 4, discover: false, engine, config: { logLevel: 'silent' } }).register(TripTasks);
      apps.push(app);
      return app;
    };
    const a = mk(postgresEngine({ pool }));
    const b = mk(postgresEngine({ connectionString: db.url, poolSize: 4 }));
    await a.start();
    await b.start();
    const total = 120;
    await a.addTasks(Array.from({ length: total }, () => ({ name: 'rt.slow', args: [20] })));
    let ended = 0;
    await until('every task ended', () => ended === total, 30_000, async () => {
      ended = (await a.manager.counts()).success;
      await new Promise((r) => setTimeout(r, 50));
    });
    const ran = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM qtasks.tasks WHERE queue = $1 GROUP BY worker_id', [name]);
    expect(Math.max(...wants)).toBeLessThanOrEqual(16);
    expect(ran.length).toBe(2);
    for (const r of ran) expect(r.n).toBeGreaterThanOrEqual(total / 4);
  });
});
