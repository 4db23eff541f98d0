/**
 * The PostgreSQL engine in one process: transactional enqueue, tables made on first use in the
 * chosen schema, retention, a corrupt row, the timer lock and rate limit shared by apps, a database
 * that is unreachable, and connections killed by the server (pg_terminate_backend).
 */
import 'reflect-metadata';
import { Client, Pool } from 'pg';
import { ErrorCodes, QTasks, Task, TaskContext } from 'qtasks';
import { migratePostgres, postgresEngine } from 'qtasks/postgres';
import { main as cli } from '../../src/cli/main';
import { pgApp, TestDatabase } from './pg-support';

const db = new TestDatabase('engine').hooks();
let seq = 0;
const queue = (tag: string) => `pg-${tag}-${process.pid}-${++seq}`;

class PgTasks {
  @Task({ name: 'pg.add' })
  add(a: number, b: number): number {
    return a + b;
  }

  @Task({ name: 'pg.slow' })
  async slow(ctx: TaskContext, ms: number): Promise<string> {
    await new Promise((r) => setTimeout(r, ms));
    return ctx.id;
  }
}

const apps: QTasks[] = [];
function make(name: string, options: Parameters<typeof pgApp>[1] = {}): QTasks {
  const app = pgApp(db, { name, concurrency: 8, ...options, config: { logLevel: 'silent', shutdownTimeoutMs: 1_000, ...options.config } });
  app.register(PgTasks);
  apps.push(app);
  return app;
}

afterEach(async () => {
  for (const app of apps.splice(0).reverse()) await app.close();
});

describe('PostgreSQL engine', () => {
  it('enqueues inside the caller\'s transaction: invisible until COMMIT, gone on ROLLBACK', async () => {
    const q = queue('tx');
    const worker = make(q);
    await worker.start();
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query('BEGIN');
      const kept = await worker.addTask('pg.add', [2, 3], { transaction: client });
      expect(await worker.getTask(kept.id)).toBeUndefined();
      await client.query('COMMIT');
      expect(await kept.result({ timeout: 5_000 })).toBe(5);

      await client.query('BEGIN');
      const dropped = await worker.addTask('pg.add', [1, 1], { transaction: client });
      await client.query('ROLLBACK');
      await new Promise((r) => setTimeout(r, 100));
      expect(await worker.getTask(dropped.id)).toBeUndefined();
    } finally {
      await client.end();
    }
  });

  it('rejects the transaction option on an engine without transactions (QTASKS_ERR_UNSUPPORTED)', async () => {
    const app = new QTasks({ name: queue('mem'), discover: false, config: { logLevel: 'silent' } }).register(PgTasks);
    apps.push(app);
    await expect(app.addTask('pg.add', [1, 1], { transaction: {} })).rejects.toMatchObject({ code: ErrorCodes.UNSUPPORTED });
  });

  it('makes its tables on first use in the schema it is given, also when many apps start at once', async () => {
    const q = queue('schema');
    const many = Array.from({ length: 4 }, () => make(q, { schema: 'jobs_a' }));
    const handles = await Promise.all(many.map((app, i) => app.addTask('pg.add', [i, i])));
    await many[0].start();
    expect(await Promise.all(handles.map((h) => h.result({ timeout: 5_000 })))).toEqual([0, 2, 4, 6]);
    const tables = await db.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'jobs_a' ORDER BY 1");
    expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(['items', 'locks', 'migrations', 'state', 'tasks', 'workers']));
    expect(await migratePostgres({ connectionString: db.url, schema: 'jobs_a' })).toEqual({ schema: 'jobs_a', changed: false });
  });

  it('qtasks migrate --url makes the tables ahead of time (no app needed); a URL of another engine is a usage error', async () => {
    const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await cli(['migrate', '--url', db.url, '--schema', 'cli_made', '--json'])).toBe(0);
      expect(await cli(['migrate', '--url', `${db.url}?schema=cli_made`])).toBe(0);
      expect(await cli(['migrate', '--url', 'redis://127.0.0.1:6379'])).toBe(2);
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
    const rows = await db.query<{ version: number }>('SELECT version FROM cli_made.migrations');
    expect(rows).toHaveLength(1);
    const app = make(queue('cli'), { schema: 'cli_made' });
    expect(await (await app.addTask('pg.add', [1, 1])).status()).toBe('new');
  });

  it('drops finished records after resultTtlMs, and at once with removeOnComplete (result() still settles)', async () => {
    const app = make(queue('ttl'), { config: { resultTtlMs: 300 } });
    await app.start();
    const h = await app.addTask('pg.add', [1, 2]);
    const gone = await app.addTask('pg.add', [2, 2], { removeOnComplete: true });
    expect(await gone.result({ timeout: 5_000 })).toBe(4);
    expect(await app.getTask(gone.id)).toBeUndefined();
    expect(await h.result({ timeout: 5_000 })).toBe(3);
    expect(await app.getTask(h.id)).toMatchObject({ status: 'success' });
    await new Promise((r) => setTimeout(r, 400));
    expect(await app.getTask(h.id)).toBeUndefined();
    expect((await app.manager.counts()).success).toBe(0);
  });

  it('ends a corrupt row QTASKS_ERR_BAD_RECORD; the tasks claimed with it run as usual', async () => {
    const app = make(queue('bad'));
    const hs = await Promise.all([1, 2, 3, 4].map((n) => app.addTask('pg.add', [n, n])));
    await db.query(`UPDATE qtasks.tasks SET data = '{not json' WHERE id = $1`, [hs[1].id]);
    expect(await app.getTask(hs[1].id)).toMatchObject({ id: hs[1].id, status: 'error', error: { code: ErrorCodes.BAD_RECORD } });
    await app.start();
    await expect(hs[1].result({ timeout: 5_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_FAILED, cause: { code: ErrorCodes.BAD_RECORD } });
    expect(await Promise.all([hs[0], hs[2], hs[3]].map((h) => h.result({ timeout: 5_000 })))).toEqual([2, 6, 8]);
    expect(await app.manager.list()).toHaveLength(4);
    expect(await app.manager.counts()).toMatchObject({ success: 3, error: 1 });
  });

  it('shares the timer lock and the rate limit between apps of one queue', async () => {
    const q = queue('lock');
    const [a, b] = [make(q), make(q)];
    await Promise.all([a.init(), b.init()]);
    expect(await a.broker.tryLock('tick', 60_000)).toBe(true);
    expect(await b.broker.tryLock('tick', 60_000)).toBe(false);
    expect(await a.broker.tryLock('short', 1)).toBe(true);
    await new Promise((r) => setTimeout(r, 10));
    expect(await b.broker.tryLock('short', 60_000)).toBe(true);
    const waits = await Promise.all([a, b, a, b].map((app) => app.broker.rateLimit('rl', 3, 60_000)));
    expect(waits.filter((w) => w === 0)).toHaveLength(3);
    expect(waits.filter((w) => w > 0)).toHaveLength(1);
  });

  it('works on a pg Pool of the caller, left open by close(); a pool of one connection is refused', async () => {
    const pool = new Pool({ connectionString: db.url, max: 3 });
    try {
      const app = new QTasks({ name: queue('pool'), discover: false, engine: postgresEngine({ pool }), config: { logLevel: 'silent' } }).register(PgTasks);
      await app.start();
      expect(await (await app.addTask('pg.add', [20, 22])).result({ timeout: 5_000 })).toBe(42);
      await app.close();
      expect((await pool.query<{ n: number }>('SELECT 1 AS n')).rows[0].n).toBe(1);
      expect(() => postgresEngine({ pool: new Pool({ connectionString: db.url, max: 1 }) })).toThrow(expect.objectContaining({ code: ErrorCodes.BAD_OPTION }));
    } finally {
      await pool.end();
    }
  });

  it('rejects QTASKS_ERR_BROKER_UNAVAILABLE within connectTimeoutMs when the database is unreachable', async () => {
    const app = new QTasks({ name: queue('down'), discover: false, url: 'postgres://postgres@127.0.0.1:1/nothing', config: { logLevel: 'silent', connectTimeoutMs: 300 } });
    app.register(PgTasks);
    apps.push(app);
    const started = Date.now();
    await expect(app.addTask('pg.add', [1, 1])).rejects.toMatchObject({ code: ErrorCodes.BROKER_UNAVAILABLE });
    await expect(app.getTask('x')).rejects.toMatchObject({ code: ErrorCodes.BROKER_UNAVAILABLE });
    await expect(app.start()).rejects.toMatchObject({ code: ErrorCodes.BROKER_UNAVAILABLE });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('reconnects after pg_terminate_backend of its connections and loses no task', async () => {
    const q = queue('kill');
    const worker = make(q);
    const producer = make(q);
    const seen = new Set<string>();
    producer.on('task:success', (e) => seen.add(e.record.id));
    await worker.start();
    const first = await producer.addTasks(Array.from({ length: 60 }, () => ({ name: 'pg.slow', args: [20] })));
    await new Promise((r) => setTimeout(r, 60));
    await db.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
    const after = await producer.addTasks(Array.from({ length: 20 }, () => ({ name: 'pg.slow', args: [5] })));
    const all = [...first, ...after];
    const ids = await Promise.all(all.map((h) => h.result({ timeout: 20_000 })));
    expect(ids).toEqual(all.map((h) => h.id));
    expect(await producer.manager.counts()).toMatchObject({ success: 80, new: 0, process: 0, error: 0 });
    // events cross the reconnected listener too
    const late = await producer.addTask('pg.add', [4, 4]);
    expect(await late.result({ timeout: 10_000 })).toBe(8);
    await new Promise<void>((resolve) => {
      const check = setInterval(() => seen.has(late.id) && (clearInterval(check), resolve()), 20);
    });
  });
});
