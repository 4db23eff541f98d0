/**
 * Retention with the PostgreSQL engine's own worker: `removeOnComplete` / `removeOnFail` are applied
 * in the transaction of the step that records the end. A plain client LISTENing on the queue's
 * channel reads, on each end notification, what another process would (list, counts, the record):
 * the retention holds already. The worker's next statement after each step waits until that reader
 * has looked, so that a retention written by a statement of its own after the step would be seen
 * missing every time.
 */
import 'reflect-metadata';
import { Client } from 'pg';
import { QTasks, Task, TaskFailedError } from 'qtasks';
import { pgApp, TestDatabase } from './pg-support';

const db = new TestDatabase('pgret').hooks();
let seq = 0;
const queue = (tag: string) => `pgret-${tag}-${process.pid}-${++seq}`;

class RetTasks {
  @Task({ name: 'ret.add' })
  add(a: number, b: number): number {
    return a + b;
  }

  @Task({ name: 'ret.fail' })
  fail(): never {
    throw new Error('boom');
  }
}

const apps: QTasks[] = [];
const clients: Client[] = [];
function make(name: string): QTasks {
  const app = pgApp(db, { name, concurrency: 1, config: { logLevel: 'silent', shutdownTimeoutMs: 1_000 } }).register(RetTasks);
  apps.push(app);
  return app;
}

afterEach(async () => {
  for (const app of apps.splice(0).reverse()) await app.close();
  for (const c of clients.splice(0)) await c.end();
});

type Storage = { channel: string; q: (...args: unknown[]) => Promise<unknown> };

/**
 * LISTENs on the channel of `worker`'s queue and runs `look` on each end notification (`F…`), one
 * at a time; after each of the worker's steps that recorded ends, the worker waits (up to 2 s)
 * until a look that started after the step's notification has ended. Returns what the looks found
 * wrong and how many looks ran.
 */
async function lookOnEachEnd(worker: QTasks, look: (ids: string[]) => Promise<string | undefined>): Promise<{ wrong: string[]; looks: () => number }> {
  await worker.init();
  const storage = worker.storage as unknown as Storage;
  expect(typeof storage.channel).toBe('string');
  const listener = new Client({ connectionString: db.url });
  clients.push(listener);
  await listener.connect();
  const wrong: string[] = [];
  let looked = 0;
  let chain = Promise.resolve();
  listener.on('notification', (m) => {
    const payload = m.payload ?? '';
    if (!payload.startsWith('F')) return;
    const ids = (JSON.parse(payload.slice(payload.indexOf(' ') + 1)) as unknown[]).map((x) => (typeof x === 'string' ? x : (x as { id: string }).id));
    chain = chain.then(async () => {
      const found = await look(ids);
      if (found !== undefined) wrong.push(`on the end of ${ids.join(', ')}: ${found}`);
      looked++;
    });
  });
  await listener.query(`LISTEN "${storage.channel}"`);
  const inner = storage.q.bind(storage);
  storage.q = async (...args: unknown[]) => {
    const before = looked;
    const out = await inner(...args);
    const ends = String(args[0]) === 'step' ? ((args[2] as unknown[][])[7] ?? []) : [];
    if (ends.length > 0) {
      const until = Date.now() + 2_000;
      while (looked === before && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    }
    return out;
  };
  return { wrong, looks: () => looked };
}

describe('PostgreSQL engine: retention applied with the end', () => {
  it('a reader told of each end by NOTIFY finds the count and the age already applied', async () => {
    const q = queue('count');
    const worker = make(q);
    const reader = make(q);
    await reader.init();
    const { wrong, looks } = await lookOnEachEnd(worker, async () => {
      const c = await reader.manager.counts();
      const ok = await reader.manager.list({ status: 'success' });
      const bad = await reader.manager.list({ status: 'error' });
      if (c.success > 2 || ok.length > 2) return `${c.success} success counted, ${ok.length} listed (count 2)`;
      if (c.error > 1 || bad.length > 1) return `${c.error} error counted, ${bad.length} listed (count 1)`;
      return undefined;
    });
    await worker.start();
    const kept: string[] = [];
    for (let i = 0; i < 5; i++) {
      const h = await worker.addTask('ret.add', [i, 1], { removeOnComplete: 2 });
      expect(await h.result({ timeout: 5_000 })).toBe(i + 1);
      kept.push(h.id);
      expect((await reader.manager.list({ status: 'success' })).map((r) => r.id)).toEqual(kept.slice(-2).reverse());
      const f = await worker.addTask('ret.fail', [], { removeOnFail: { count: 1 } });
      await expect(f.result({ timeout: 5_000 })).rejects.toBeInstanceOf(TaskFailedError);
      expect((await reader.manager.list({ status: 'error' })).map((r) => r.id)).toEqual([f.id]);
    }
    expect(looks()).toBeGreaterThanOrEqual(10);
    expect(wrong).toEqual([]);
    expect(await reader.manager.counts()).toMatchObject({ success: 2, error: 1 });
  });

  it('a retention by age holds when the end is told', async () => {
    const q = queue('age');
    const worker = make(q);
    const reader = make(q);
    await reader.init();
    const AGE = 40;
    const { wrong, looks } = await lookOnEachEnd(worker, async (ids) => {
      const ok = await reader.manager.list({ status: 'success' });
      const newest = ok.find((r) => r.id === ids[0]);
      if (newest === undefined) return `${ids[0]} not listed`;
      const old = ok.filter((r) => r.finishedAt! < newest.finishedAt! - AGE);
      return old.length > 0 ? `${old.length} listed that ended more than ${AGE} ms before it` : undefined;
    });
    await worker.start();
    for (let i = 0; i < 4; i++) {
      await (await worker.addTask('ret.add', [i, 1], { removeOnComplete: { age: AGE } })).result({ timeout: 5_000 });
      await new Promise((r) => setTimeout(r, AGE + 20));
    }
    expect(looks()).toBeGreaterThanOrEqual(4);
    expect(wrong).toEqual([]);
    expect(await reader.manager.counts()).toMatchObject({ success: 1 });
  });

  it('a task dropped at its end is never seen ended, also by a reader whose time was taken before the end', async () => {
    const q = queue('drop');
    const worker = make(q);
    const reader = make(q);
    await reader.init();
    const plain = new Client({ connectionString: db.url });
    clients.push(plain);
    await plain.connect();
    const since = new Map<string, number>();
    const { wrong, looks } = await lookOnEachEnd(worker, async (ids) => {
      for (const id of ids) {
        const rec = await reader.getTask(id);
        if (rec !== undefined && (rec.status === 'success' || rec.status === 'error')) return `${id} found ${rec.status}`;
        // what a reader of the storage finds with a time taken before the end (list/get read "live" so)
        const r = await plain.query<{ status: string }>(
          'SELECT t.status FROM qtasks.tasks t WHERE t.queue = $1 AND t.id = $3 AND (t.expires_at IS NULL OR t.expires_at > $2)',
          [q, since.get(id), id],
        );
        if (r.rows.length > 0 && r.rows[0].status !== 'process') return `${id} found ${r.rows[0].status} at a time before its end`;
      }
      const c = await reader.manager.counts();
      if (c.success + c.error > 0) return `counts ${c.success} success, ${c.error} error`;
      return undefined;
    });
    await worker.start();
    for (let i = 0; i < 4; i++) {
      const at = Date.now();
      const ok = await worker.addTask('ret.add', [i, 1], { removeOnComplete: true });
      since.set(ok.id, at);
      expect(await ok.result({ timeout: 5_000 })).toBe(i + 1);
      const bad = await worker.addTask('ret.fail', [], { removeOnFail: true });
      since.set(bad.id, at);
      await expect(bad.result({ timeout: 5_000 })).rejects.toBeInstanceOf(TaskFailedError);
      expect(await reader.getTask(ok.id)).toBeUndefined();
      expect(await reader.getTask(bad.id)).toBeUndefined();
    }
    expect(looks()).toBeGreaterThanOrEqual(8);
    expect(wrong).toEqual([]);
    expect(await reader.manager.counts()).toMatchObject({ success: 0, error: 0 });
  });
});
