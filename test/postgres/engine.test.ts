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
import { SWEEP_BLOCKS } from '../../src/engines/postgres/pg-end-extras';
import { SCHEMA_VERSION } from '../../src/engines/postgres/schema-sql';
import { pgApp, TestDatabase } from './pg-support';

const db = new TestDatabase('engine').hooks();
let seq = 0;
const queue = (tag: string) => `pg-${tag}-${process.pid}-${++seq}`;

class PgTasks {
  @Task({ name: 'pg.add' })
  add(a: number, b: number): number {
    return a + b;
  }

  @Task({ name: 'pg.gen' })
  async *gen(label: string, n: number): AsyncGenerator<string> {
    for (let i = 0; i < n; i++) yield `${label}${i}`;
  }

  /** Yields its first item, then waits until the test opens the gate of `label`, then yields the rest. */
  @Task({ name: 'pg.gated' })
  async *gated(label: string, n: number): AsyncGenerator<string> {
    for (let i = 0; i < n; i++) {
      yield `${label}${i}`;
      if (i === 0) await gate(label).opened;
    }
  }

  @Task({ name: 'pg.slow' })
  async slow(ctx: TaskContext, ms: number): Promise<string> {
    await new Promise((r) => setTimeout(r, ms));
    return ctx.id;
  }
}

const gates = new Map<string, { opened: Promise<void>; open: () => void }>();
function gate(label: string): { opened: Promise<void>; open: () => void } {
  let g = gates.get(label);
  if (!g) {
    let open!: () => void;
    const opened = new Promise<void>((r) => (open = r));
    gates.set(label, (g = { opened, open }));
  }
  return g;
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
  gates.clear();
});

/** Makes `schema` look as version `version` left it: `dropped` functions gone, its migrations at that version. */
async function asVersion(schema: string, version: number, dropped: string[] = []): Promise<void> {
  for (const fn of dropped) await db.query(`DROP FUNCTION ${schema}.${fn}`);
  await db.query(`DELETE FROM ${schema}.migrations`);
  await db.query(`INSERT INTO ${schema}.migrations (version) VALUES (${version})`);
}

/** Waits until the record of `id` is gone for readers. */
async function waitGone(app: QTasks, id: string): Promise<void> {
  const until = Date.now() + 5_000;
  while ((await app.getTask(id)) !== undefined && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  expect(await app.getTask(id)).toBeUndefined();
}

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

  it('brings a schema of an older version up to date; the lease round of older workers still answers', async () => {
    expect(await migratePostgres({ connectionString: db.url, schema: 'jobs_old' })).toMatchObject({ changed: true });
    // what version 4 left: no lease_round, its version the highest recorded
    await db.query('DROP FUNCTION jobs_old.lease_round');
    await db.query('DELETE FROM jobs_old.migrations');
    await db.query('INSERT INTO jobs_old.migrations (version) VALUES (4)');
    const q = queue('old');
    const app = make(q, { schema: 'jobs_old' });
    await app.start();
    expect(await (await app.addTask('pg.add', [2, 3])).result({ timeout: 5_000 })).toBe(5);
    const versions = await db.query<{ version: number }>('SELECT version FROM jobs_old.migrations ORDER BY 1');
    // the upgrade records the current version beside the old one
    expect(versions.map((r) => r.version)).toEqual([4, SCHEMA_VERSION]);
    const old = await db.query<Record<string, unknown>>(
      "SELECT * FROM jobs_old.lease($1, 'c', 'w-old', '{}', 1, 2, 1, 1000, 1000, '{}', 1)",
      [q],
    );
    expect(old).toEqual([]);
  });

  it('moves a version 7 schema holding queued, delayed, running and finished tasks to version 8 in place ("C" key collation)', async () => {
    const q = queue('v7');
    const keyCollations = async () =>
      db.query<{ col: string; coll: string }>(
        `SELECT c.relname || '.' || a.attname AS col, a.attcollation::regcollation::text AS coll FROM pg_attribute a
           JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace ns ON ns.oid = c.relnamespace
          WHERE ns.nspname = 'jobs_v7' AND c.relkind = 'r' AND (c.relname, a.attname) IN (('tasks', 'queue'), ('tasks', 'id'), ('items', 'task_id'), ('state', 'key'))
          ORDER BY 1`,
      );
    const producer = make(q, { schema: 'jobs_v7' });
    const [queued, delayed, running, finished] = await Promise.all([
      producer.addTask('pg.add', [1, 1]),
      producer.addTask('pg.add', [2, 2], { delay: 300 }),
      producer.addTask('pg.add', [3, 3]),
      producer.addTask('pg.add', [4, 4]),
    ]);
    await producer.close();
    // what version 7 left: key columns in the database's collation, rows in every state
    await db.query(`ALTER TABLE jobs_v7.items ALTER COLUMN queue TYPE text COLLATE "default", ALTER COLUMN task_id TYPE text COLLATE "default"`);
    await db.query(`ALTER TABLE jobs_v7.tasks ALTER COLUMN queue TYPE text COLLATE "default", ALTER COLUMN id TYPE text COLLATE "default"`);
    await db.query(`ALTER TABLE jobs_v7.state ALTER COLUMN key TYPE text COLLATE "default"`);
    await db.query(`UPDATE jobs_v7.tasks SET status = 'process', q = 0, attempt = 1, worker_id = 'w-gone', started_at = 1, lease_until = 1 WHERE id = $1`, [running.id]);
    await db.query(`UPDATE jobs_v7.tasks SET status = 'success', q = 0, attempt = 1, result = '8', finished_at = $2 WHERE id = $1`, [finished.id, Date.now()]);
    await db.query(`INSERT INTO jobs_v7.items (queue, task_id, idx, item) VALUES ($1, $2, 0, '"x"')`, [q, finished.id]);
    await asVersion('jobs_v7', 7);
    expect((await keyCollations()).map((r) => r.coll)).not.toContain('"C"');

    const app = make(q, { schema: 'jobs_v7', config: { leaseMs: 300 } });
    await app.start();
    expect(await app.getTask(finished.id)).toMatchObject({ status: 'success', returning: 8 });
    expect(await app.handle(queued.id).result({ timeout: 5_000 })).toBe(2);
    expect(await app.handle(delayed.id).result({ timeout: 5_000 })).toBe(4);
    expect(await app.handle(running.id).result({ timeout: 10_000 })).toBe(6);
    expect(await app.getTask(running.id)).toMatchObject({ status: 'success', stalls: 1 });
    expect((await db.query<{ version: number }>('SELECT version FROM jobs_v7.migrations ORDER BY 1')).map((r) => r.version)).toEqual([7, SCHEMA_VERSION]);
    expect(await keyCollations()).toEqual(['items.task_id', 'state.key', 'tasks.id', 'tasks.queue'].map((col) => ({ col, coll: '"C"' })));
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM jobs_v7.items WHERE task_id = $1', [finished.id]))[0].n).toBe(1);
  });

  it('brings a version 8 schema to version 9 (enqueue_claim); the enqueue and step calls of version 8 workers still answer', async () => {
    const q = queue('v8');
    const producer = make(q, { schema: 'jobs_v8' });
    const queued = await producer.addTask('pg.add', [1, 2]);
    await producer.close();
    // what version 8 left: the same tables, no enqueue_claim
    await asVersion('jobs_v8', 8, ['enqueue_claim']);
    // a version 8 worker enqueues and claims with two calls
    await db.query("SELECT * FROM jobs_v8.enqueue($1, 'c', ARRAY['old-1'], ARRAY['pg.add'], ARRAY[0]::float8[], ARRAY[NULL]::bigint[], ARRAY['{\"args\":[3,4]}'], ARRAY[1]::bigint[])", [q]);

    const app = make(q, { schema: 'jobs_v8', concurrency: 1 });
    await app.start();
    expect(await app.handle(queued.id).result({ timeout: 5_000 })).toBe(3);
    expect(await app.handle('old-1').result({ timeout: 5_000 })).toBe(7);
    expect(await (await app.addTask('pg.add', [5, 6])).result({ timeout: 5_000 })).toBe(11);
    expect((await db.query<{ version: number }>('SELECT version FROM jobs_v8.migrations ORDER BY 1')).map((r) => r.version)).toEqual([8, SCHEMA_VERSION]);
    expect(await db.query("SELECT 1 FROM pg_proc p JOIN pg_namespace ns ON ns.oid = p.pronamespace WHERE ns.nspname = 'jobs_v8' AND p.proname = 'enqueue_claim'")).toHaveLength(1);
    // the calls of a version 8 worker: its enqueue, then its step's claim
    await db.query("SELECT * FROM jobs_v8.enqueue($1, 'c', ARRAY['old-2'], ARRAY['pg.add'], ARRAY[0]::float8[], ARRAY[NULL]::bigint[], ARRAY['{\"args\":[1,1]}'], ARRAY[1]::bigint[])", [q + '-old']);
    const claimed = await db.query<{ k: string; id: string }>(
      "SELECT k, id FROM jobs_v8.step($1, 'c', 'w-old', 1, 2, 1000, 5, '{}', '{}', '{}', '{}', '{}', '{}')",
      [q + '-old'],
    );
    expect(claimed.filter((r) => r.k === 'c')).toEqual([{ k: 'c', id: 'old-2' }]);
  });

  it('brings a version 9 schema up to date: enqueue_claim (version 10) and step (version 11) say when their claim left nothing ready', async () => {
    const q = queue('v9');
    expect(await migratePostgres({ connectionString: db.url, schema: 'jobs_v9' })).toMatchObject({ changed: true });
    const claimAlong = (id: string) =>
      db.query<{ k: string; id: string | null }>(
        "SELECT k, id FROM jobs_v9.enqueue_claim($1, 'c', ARRAY[$2], ARRAY['pg.add'], ARRAY[0]::float8[], ARRAY[NULL]::bigint[], ARRAY['{\"args\":[1,1]}'], ARRAY[1]::bigint[], 'w-1', 1, 2, 1)",
        [q, id],
      );
    const step = (want: number) =>
      db.query<{ k: string }>("SELECT k FROM jobs_v9.step($1, 'c', 'w-1', 1, 2, 1000, $2, '{}', '{}', '{}', '{}', '{}', '{}')", [q, want]);
    // what version 9 left: an enqueue_claim and a step that say nothing of what is left (stand-ins)
    await db.query(
      `CREATE OR REPLACE FUNCTION jobs_v9.step(p_queue text, p_channel text, p_worker text, p_now bigint, p_lease bigint, p_ttl bigint,
         p_want int, e_ids text[], e_kinds text[], e_vals text[], e_run_at bigint[], e_attempts int[], e_json text[])
       RETURNS TABLE (k text, id text, name text, priority float8, data text, attempt int, created_at bigint, seq bigint, x bigint)
       LANGUAGE sql AS $$ SELECT NULL::text, NULL::text, NULL::text, NULL::float8, NULL::text, NULL::int, NULL::bigint, NULL::bigint, NULL::bigint WHERE false $$`,
    );
    await db.query(
      `CREATE OR REPLACE FUNCTION jobs_v9.enqueue_claim(p_queue text, p_channel text, p_ids text[], p_names text[], p_pri float8[],
         p_run_at bigint[], p_data text[], p_created bigint[], p_worker text, p_now bigint, p_lease bigint, p_want int)
       RETURNS TABLE (k text, id text, name text, priority float8, data text, attempt int, created_at bigint, seq bigint, x bigint)
       LANGUAGE sql AS $$ SELECT NULL::text, NULL::text, NULL::text, NULL::float8, NULL::text, NULL::int, NULL::bigint, NULL::bigint, NULL::bigint WHERE false $$`,
    );
    await asVersion('jobs_v9', 9);
    expect(await claimAlong('a')).toEqual([]);

    const app = make(q, { schema: 'jobs_v9', concurrency: 1 });
    await app.start();
    expect(await (await app.addTask('pg.add', [5, 6])).result({ timeout: 5_000 })).toBe(11);
    await app.close();
    expect((await db.query<{ version: number }>('SELECT version FROM jobs_v9.migrations ORDER BY 1')).map((r) => r.version)).toEqual([9, SCHEMA_VERSION]);
    // one task in, one wanted, one claimed, nothing else ready: it says so
    expect(await claimAlong('b')).toEqual([{ k: 'c', id: 'b' }, { k: 'n', id: null }]);
    // another one ready beside it: no such row
    await db.query("SELECT * FROM jobs_v9.enqueue($1, 'c', ARRAY['x1', 'x2'], ARRAY['pg.add', 'pg.add'], ARRAY[0, 0]::float8[], ARRAY[NULL, NULL]::bigint[], ARRAY['{\"args\":[1,1]}', '{\"args\":[1,1]}'], ARRAY[1, 1]::bigint[])", [q]);
    expect((await claimAlong('c')).map((r) => r.k)).toEqual(['c']);
    // step: a claim that got all it wanted and left nothing says so, as a short one does
    expect((await step(2)).map((r) => r.k)).toEqual(['c', 'c', 'n']);
    expect((await step(1)).map((r) => r.k)).toEqual(['n']);
  });

  it('brings a version 11 schema to version 12 (step_lean answers only the ends it did not apply and writes id notices); step still answers each end', async () => {
    const q = queue('v11');
    expect(await migratePostgres({ connectionString: db.url, schema: 'jobs_v11' })).toMatchObject({ changed: true });
    await asVersion('jobs_v11', 11, ['step_lean']);
    const app = make(q, { schema: 'jobs_v11', concurrency: 1 });
    await app.start();
    expect(await (await app.addTask('pg.add', [5, 6])).result({ timeout: 5_000 })).toBe(11);
    await app.close();
    expect((await db.query<{ version: number }>('SELECT version FROM jobs_v11.migrations ORDER BY 1')).map((r) => r.version)).toEqual([11, SCHEMA_VERSION]);

    const enqueue = (id: string) =>
      db.query(`SELECT * FROM jobs_v11.enqueue($1, 'c', ARRAY[$2], ARRAY['pg.add'], ARRAY[0]::float8[], ARRAY[NULL]::bigint[], ARRAY['{"args":[1,1]}'], ARRAY[1]::bigint[])`, [q + '-x', id]);
    const call = (fn: string, want: number, ends: [string, number][]) =>
      db.query<{ k: string; id: string | null }>(
        `SELECT k, id FROM jobs_v11.${fn}($1, 'c', 'w-1', 1, 2, 1000, $2, $3, $4, $5, $6, $7, $8)`,
        [q + '-x', want, ends.map((e) => e[0]), ends.map(() => 's'), ends.map(() => '2'), ends.map(() => null), ends.map((e) => e[1]), ends.map(() => '=')],
      );
    await enqueue('a');
    await enqueue('b');
    expect((await call('step_lean', 2, [])).filter((r) => r.k === 'c').map((r) => r.id)).toEqual(['a', 'b']);
    const listener = new Client({ connectionString: db.url });
    await listener.connect();
    const heard: string[] = [];
    listener.on('notification', (m) => heard.push(m.payload ?? ''));
    await listener.query('LISTEN c');
    // the end of a stale attempt of b is not applied: only it is answered; a's notice is its id
    expect(await call('step_lean', 0, [['a', 1], ['b', 7]])).toEqual([{ k: 'u', id: 'b' }]);
    await listener.query('SELECT 1');
    await listener.end();
    expect(heard).toEqual(['Fw-1 ["a"]']);
    expect((await db.query<{ status: string }>('SELECT status FROM jobs_v11.tasks WHERE queue = $1 ORDER BY id', [q + '-x'])).map((r) => r.status)).toEqual(['success', 'process']);
    // what a version 11 worker calls: step answers each end it applied
    expect(await call('step', 0, [['b', 1]])).toEqual([{ k: 'f', id: 'b' }]);
  });

  it('brings a version 12 schema to version 13 (step_keep applies the retention of its ends); step_lean still answers as it did', async () => {
    const q = queue('v12');
    expect(await migratePostgres({ connectionString: db.url, schema: 'jobs_v12' })).toMatchObject({ changed: true });
    await asVersion('jobs_v12', 12, ['step_keep']);
    const app = make(q, { schema: 'jobs_v12', concurrency: 1 });
    await app.start();
    for (let i = 0; i < 3; i++) expect(await (await app.addTask('pg.add', [i, 6], { removeOnComplete: 1 })).result({ timeout: 5_000 })).toBe(i + 6);
    expect(await app.manager.counts()).toMatchObject({ success: 1 });
    await app.close();
    expect((await db.query<{ version: number }>('SELECT version FROM jobs_v12.migrations ORDER BY 1')).map((r) => r.version)).toEqual([12, SCHEMA_VERSION]);

    const x = q + '-x';
    const enqueue = (id: string) =>
      db.query(`SELECT * FROM jobs_v12.enqueue($1, 'c', ARRAY[$2], ARRAY['pg.add'], ARRAY[0]::float8[], ARRAY[NULL]::bigint[], ARRAY['{"args":[1,1]}'], ARRAY[1]::bigint[])`, [x, id]);
    const args = (ends: [string, string][]) => [x, ends.map((e) => e[0]), ends.map((e) => e[1]), ends.map(() => '2'), ends.map(() => null), ends.map(() => 1), ends.map(() => '=')];
    const lean = (want: number, ends: [string, string][]) =>
      db.query<{ k: string; id: string | null }>(`SELECT k, id FROM jobs_v12.step_lean($1, 'c', 'w-1', 10, 20, 1000, ${want}, $2, $3, $4, $5, $6, $7)`, args(ends));
    const keep = (ends: [string, string, number | null, number | null][]) =>
      db.query<{ k: string; id: string | null }>(`SELECT k, id FROM jobs_v12.step_keep($1, 'c', 'w-1', 10, 20, 1000, 0, $2, $3, $4, $5, $6, $7, $8, $9)`, [
        ...args(ends.map((e) => [e[0], e[1]])),
        ends.map((e) => e[2]),
        ends.map((e) => e[3]),
      ]);
    const rows = () => db.query<{ id: string; status: string; expires_at: string }>('SELECT id, status, expires_at FROM jobs_v12.tasks WHERE queue = $1 ORDER BY id', [x]);
    for (const id of ['a', 'b', 'c', 'd', 'e']) await enqueue(id);
    expect((await lean(5, [])).filter((r) => r.k === 'c')).toHaveLength(5);
    // what a version 12 worker calls: no retention in the step; a drop at the end expires at 0 (before any reader's time)
    expect(await lean(0, [['a', 's'], ['b', 'S']])).toEqual([]);
    expect((await rows()).slice(0, 2)).toEqual([{ id: 'a', status: 'success', expires_at: '1010' }, { id: 'b', status: 'success', expires_at: '0' }]);
    // step_keep: c's count of 1 drops a (the newest success kept), e dropped at its end as an error
    expect(await keep([['c', 's', 1, null], ['d', 'e', null, null], ['e', 'E', null, null]])).toEqual([]);
    expect(await rows()).toEqual([
      { id: 'a', status: 'success', expires_at: '0' },
      { id: 'b', status: 'success', expires_at: '0' },
      { id: 'c', status: 'success', expires_at: '1010' },
      { id: 'd', status: 'error', expires_at: '1010' },
      { id: 'e', status: 'error', expires_at: '0' },
    ]);
  });

  it('brings a version 13 schema to version 14 (pages of tasks keep room for the versions of the claim and the end); its tasks run', async () => {
    const q = queue('v13');
    expect(await migratePostgres({ connectionString: db.url, schema: 'jobs_v13' })).toMatchObject({ changed: true });
    const fillfactor = async () =>
      (await db.query<{ opts: string[] | null }>("SELECT c.reloptions AS opts FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'jobs_v13' AND c.relname = 'tasks'"))[0].opts;
    expect(await fillfactor()).toEqual(['fillfactor=50']);
    // what version 13 left: the pages of tasks filled to 85%
    await db.query('ALTER TABLE jobs_v13.tasks SET (fillfactor = 85)');
    await asVersion('jobs_v13', 13);
    const app = make(q, { schema: 'jobs_v13', concurrency: 1 });
    await app.start();
    expect(await (await app.addTask('pg.add', [1, 2])).result({ timeout: 5_000 })).toBe(3);
    expect(await fillfactor()).toEqual(['fillfactor=50']);
    expect((await db.query<{ version: number }>('SELECT version FROM jobs_v13.migrations ORDER BY 1')).map((r) => r.version)).toEqual([13, SCHEMA_VERSION]);
  });

  it('brings a version 14 schema to version 15 (no index on expires_at, the sweep walks the table); expired records are deleted', async () => {
    const q = queue('v14');
    expect(await migratePostgres({ connectionString: db.url, schema: 'jobs_v14' })).toMatchObject({ changed: true });
    const indexes = async () =>
      (await db.query<{ name: string }>("SELECT indexname AS name FROM pg_indexes WHERE schemaname = 'jobs_v14' AND tablename = 'tasks' ORDER BY 1")).map((r) => r.name);
    // what version 14 left: the expiry index, no sweep sequence
    await db.query('CREATE INDEX tasks_expiry ON jobs_v14.tasks (queue, expires_at) WHERE expires_at IS NOT NULL');
    await db.query('DROP SEQUENCE jobs_v14.sweep_seq');
    await asVersion('jobs_v14', 14);
    const app = make(q, { schema: 'jobs_v14', concurrency: 1, config: { leaseMs: 200, resultTtlMs: 100 } });
    await app.start();
    const h = await app.addTask('pg.add', [2, 2]);
    expect(await h.result({ timeout: 5_000 })).toBe(4);
    expect(await indexes()).toEqual(['tasks_pkey', 'tasks_ready', 'tasks_running', 'tasks_timed', 'tasks_waiting']);
    const rows = () => db.query('SELECT 1 FROM jobs_v14.tasks WHERE queue = $1 AND id = $2', [q, h.id]);
    const until = Date.now() + 5_000;
    while ((await rows()).length > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(await rows()).toEqual([]);
    expect((await db.query<{ version: number }>('SELECT version FROM jobs_v14.migrations ORDER BY 1')).map((r) => r.version)).toEqual([14, SCHEMA_VERSION]);
  });

  it('brings a version 15 schema to version 16 (enqueue and enqueue_claim take again an id whose row expired); the enqueue call of version 15 answers', async () => {
    const q = queue('v15');
    expect(await migratePostgres({ connectionString: db.url, schema: 'jobs_v15' })).toMatchObject({ changed: true });
    // what version 15 left: the same tables, the functions without the take-back of expired ids
    for (const fn of ['enqueue', 'enqueue_claim']) {
      const [{ def }] = await db.query<{ def: string }>(
        "SELECT pg_get_functiondef(p.oid) AS def FROM pg_proc p JOIN pg_namespace ns ON ns.oid = p.pronamespace WHERE ns.nspname = 'jobs_v15' AND p.proname = $1",
        [fn],
      );
      const old = def.replace(/\n  IF coalesce\(cardinality\(v_ins\), 0\) < cardinality\(p_ids\) THEN\n    DELETE [\s\S]*?\n    END IF;\n  END IF;/, '');
      expect(old.length).toBeLessThan(def.length);
      await db.query(old);
    }
    await asVersion('jobs_v15', 15);
    const enqueue = (id: string, a: number) =>
      db.query<{ id: string; status: string }>(
        "SELECT id, status FROM jobs_v15.enqueue($1, 'c', ARRAY[$2], ARRAY['pg.add'], ARRAY[0]::float8[], ARRAY[NULL]::bigint[], ARRAY[$3], ARRAY[$4::bigint])",
        [q, id, JSON.stringify({ args: [a, a] }), Date.now()],
      );
    await db.query(`INSERT INTO jobs_v15.tasks (queue, id, name, status, data, created_at, updated_at, finished_at, expires_at)
      VALUES ($1, 'gone', 'pg.add', 'success', '{"args":[0,0]}', 1, 1, 1, 0)`, [q]);
    // version 15 reports the expired row and inserts nothing
    expect(await enqueue('gone', 1)).toEqual([{ id: 'gone', status: 'success' }]);

    const app = make(q, { schema: 'jobs_v15', concurrency: 1, config: { leaseMs: 60_000 } });
    await app.init();
    expect((await db.query<{ version: number }>('SELECT version FROM jobs_v15.migrations ORDER BY 1')).map((r) => r.version)).toEqual([15, SCHEMA_VERSION]);
    // the same call of a version 15 producer now inserts (no row answered), and the task runs
    expect(await enqueue('gone', 2)).toEqual([]);
    await app.start();
    expect(await app.handle('gone').result({ timeout: 5_000 })).toBe(4);
    await db.query('UPDATE jobs_v15.tasks SET expires_at = 0 WHERE queue = $1 AND id = $2', [q, 'gone']);
    expect(await (await app.addTask('pg.add', [3, 3], { id: 'gone' })).result({ timeout: 5_000 })).toBe(6);
  });

  it("brings a version 16 schema to version 17 (push_items); a generator's burst of items is stored in order", async () => {
    const q = queue('v16');
    expect(await migratePostgres({ connectionString: db.url, schema: 'jobs_v16' })).toMatchObject({ changed: true });
    await asVersion('jobs_v16', 16, ['push_items']);
    const app = make(q, { schema: 'jobs_v16', concurrency: 1 });
    await app.init();
    expect((await db.query<{ version: number }>('SELECT version FROM jobs_v16.migrations ORDER BY 1')).map((r) => r.version)).toEqual([16, SCHEMA_VERSION]);
    await app.start();
    const h = await app.addTask('pg.gen', ['x', 2_500]);
    const all = Array.from({ length: 2_500 }, (_, i) => `x${i}`);
    expect(await h.result({ timeout: 10_000 })).toEqual(all);
    expect(await app.storage.items(h.id)).toEqual(all);
    const rows = await db.query<{ idx: number }>('SELECT idx FROM jobs_v16.items WHERE queue = $1 AND task_id = $2 ORDER BY idx', [q, h.id]);
    expect(rows.map((r) => r.idx)).toEqual(all.map((_, i) => i));
  });

  it('brings a version 17 schema to version 18 (state_add_members); the set adds of one tick are counted in one call, each set written once', async () => {
    const q = queue('v17');
    expect(await migratePostgres({ connectionString: db.url, schema: 'jobs_v17' })).toMatchObject({ changed: true });
    await asVersion('jobs_v17', 17, ['state_add_members']);
    const app = make(q, { schema: 'jobs_v17' });
    await app.init();
    expect((await db.query<{ version: number }>('SELECT version FROM jobs_v17.migrations ORDER BY 1')).map((r) => r.version)).toEqual([17, SCHEMA_VERSION]);
    const storage = app.storage;
    // a set an older version wrote with its update (spaces, as any JSON writer may), and a value that is no set
    await storage.stateSet('wf', 'old', [5, 9]);
    await db.query(`UPDATE jobs_v17.state SET value = '[ 5, 9 ]' WHERE queue = $1 AND key = 'old'`, [q]);
    await storage.stateSet('wf', 'junk', { not: 'a set' });
    const add = (key: string, m: number) => storage.stateAddMember!('wf', key, m);
    const statements = jest.spyOn(storage as unknown as { q: (what: string) => unknown }, 'q');
    expect(await Promise.all([add('old', 9), add('new', 1), add('old', 2), add('new', 1), add('junk', 3), add('old', 40), add('new', 7)])).toEqual([2, 1, 3, 1, 1, 4, 2]);
    expect(statements.mock.calls.filter(([what]) => what === 'state add')).toHaveLength(1);
    statements.mockRestore();
    expect(await storage.stateAll('wf')).toEqual({ old: [5, 9, 2, 40], new: [1, 7], junk: [3] });
    expect(await add('new', 7)).toBe(2);
    await expect(add('new', -1)).rejects.toMatchObject({ code: ErrorCodes.BAD_OPTION });
  });

  it('set adds from several apps at once: every member counted once, each size from 1 to the full one answered', async () => {
    const q = queue('adds');
    // three apps of one queue, each with its own pool: their statements race on the set's row
    const stores = [make(q), make(q), make(q)];
    await Promise.all(stores.map((a) => a.init()));
    const members = Array.from({ length: 300 }, (_, i) => i);
    const answers = await Promise.all(
      members.map(async (m) => {
        // spread over ticks and apps, each member given twice (a member run again after a stall)
        await new Promise((r) => setTimeout(r, m % 7));
        const a = stores[m % 3].storage.stateAddMember!('wf', 'g', m);
        const b = stores[(m + 1) % 3].storage.stateAddMember!('wf', 'g', m);
        return Promise.all([a, b]);
      }),
    );
    const all = answers.flat();
    // each add answers the size right after it: every size from 1 to 300 is seen, none beyond
    expect(Math.max(...all)).toBe(300);
    expect(new Set(all).size).toBe(300);
    expect(((await stores[0].storage.stateGet('wf', 'g')) as number[]).slice().sort((x, y) => x - y)).toEqual(members);
  });

  it('the lease rounds delete the expired rows of every queue, round a table of more blocks than one sweep looks through; live rows and rows not expired yet stay', async () => {
    const q = queue('sweep');
    const other = queue('sweep-other');
    const app = make(q, { config: { leaseMs: 200 } });
    await app.init();
    // rows of about 1.8 kB, two a page: 3,000 of them take more blocks than one sweep reads
    await db.query(
      `INSERT INTO qtasks.tasks (queue, id, name, status, data, created_at, updated_at, finished_at, expires_at)
       SELECT CASE WHEN i % 2 = 0 THEN $1 ELSE $2 END, 'x' || i, 'pg.add', 'success',
         (SELECT string_agg(md5(i::text || '.' || j::text), '') FROM generate_series(1, 56) j), 1, 1, 1, CASE WHEN i IN (7, 8) THEN NULL WHEN i = 9 THEN $3::bigint ELSE 2 END
       FROM generate_series(1, 3000) i`,
      [q, other, Date.now() + 86_400_000],
    );
    const blocks = (await db.query<{ n: number }>("SELECT (pg_relation_size('qtasks.tasks') / 8192)::int AS n"))[0].n;
    expect(blocks).toBeGreaterThan(SWEEP_BLOCKS);
    const left = async () =>
      (await db.query<{ id: string }>("SELECT id FROM qtasks.tasks WHERE queue IN ($1, $2) AND id LIKE 'x%' ORDER BY id", [q, other])).map((r) => r.id);
    await app.start();
    const until = Date.now() + 15_000;
    while ((await left()).length > 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    expect(await left()).toEqual(['x7', 'x8', 'x9']);
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

  it('takes again an id whose row expired but is not swept yet, by every enqueue path (its stream items go with it); a live id reports its task', async () => {
    const q = queue('readd');
    // lease rounds (which sweep) far apart: the expired rows stay in the table
    const app = make(q, { concurrency: 1, config: { leaseMs: 60_000 } });
    const producer = make(q);
    const kept = async (id: string) =>
      db.query<{ expires_at: string; items: number }>(
        'SELECT t.expires_at, (SELECT count(*)::int FROM qtasks.items i WHERE i.queue = t.queue AND i.task_id = t.id) AS items FROM qtasks.tasks t WHERE t.queue = $1 AND t.id = $2',
        [q, id],
      );
    const stream = async (h: { stream(): AsyncIterable<unknown> }) => {
      const seen: unknown[] = [];
      for await (const x of h.stream()) seen.push(x);
      return seen;
    };
    // a task dropped at its end is read while it runs: it waits after its first item until the reader has that item
    const streamGated = async (h: { stream(): AsyncIterable<unknown> }, label: string) => {
      const it = h.stream()[Symbol.asyncIterator]();
      const seen: unknown[] = [];
      for (let r = await it.next(); !r.done; r = await it.next()) {
        seen.push(r.value);
        if (seen.length === 1) gate(label).open();
      }
      return seen;
    };
    // the id dropped at its end; then added again by enqueue (an app with no worker), enqueue_claim (an idle worker here), a transaction
    const first = await app.addTask('pg.gated', ['a', 3], { id: 'dup', removeOnComplete: true });
    await app.start();
    expect(await streamGated(first, 'a')).toEqual(['a0', 'a1', 'a2']);
    await waitGone(app, 'dup');
    expect(await kept('dup')).toEqual([{ expires_at: '0', items: 3 }]);
    await app.manager.pause();
    const plain = await producer.addTask('pg.gated', ['b', 2], { id: 'dup', removeOnComplete: true });
    expect(await app.getTask('dup')).toMatchObject({ status: 'new', args: ['b', 2], attempt: 0 });
    expect(await kept('dup')).toEqual([{ expires_at: null, items: 0 }]);
    await app.manager.resume();
    expect(await streamGated(plain, 'b')).toEqual(['b0', 'b1']);
    await waitGone(app, 'dup');
    expect(await kept('dup')).toEqual([{ expires_at: '0', items: 2 }]);
    const along = await app.addTask('pg.gated', ['c', 2], { id: 'dup', removeOnComplete: true });
    expect(await streamGated(along, 'c')).toEqual(['c0', 'c1']);
    await waitGone(app, 'dup');
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query('BEGIN');
      const tx = await app.addTask('pg.gen', ['d', 1], { id: 'dup', transaction: client });
      await client.query('COMMIT');
      expect(await stream(tx)).toEqual(['d0']);
    } finally {
      await client.end();
    }
    // live: the existing task is reported, nothing runs again
    const live = await app.addTask('pg.gen', ['e', 5], { id: 'dup' });
    expect(await stream(live)).toEqual(['d0']);
    expect(await app.getTask('dup')).toMatchObject({ status: 'success', args: ['d', 1], attempt: 1 });
    expect(await kept('dup')).toEqual([{ expires_at: expect.any(String), items: 1 }]);
  });

  it('takes again an expired id given twice in one enqueue or enqueue_claim call: one task, of the first, the id reported by neither as existing', async () => {
    const q = queue('readd-batch');
    const app = make(q, { concurrency: 1, config: { leaseMs: 60_000 } });
    await app.init();
    const rows = () => db.query<{ id: string; data: string }>('SELECT id, data FROM qtasks.tasks WHERE queue = $1 ORDER BY id', [q]);
    const call = (fn: string, tail: string, a: number) =>
      db.query<{ id: string }>(
        `SELECT id FROM qtasks.${fn}($1, 'c', ARRAY['twice', 'fresh-${fn}', 'twice'], ARRAY['pg.add', 'pg.add', 'pg.add'], ARRAY[0, 0, 0]::float8[],
          ARRAY[NULL, NULL, NULL]::bigint[], ARRAY[$2, '{"args":[5,5]}', $3], ARRAY[$4, $4, $4]::bigint[]${tail})`,
        [q, JSON.stringify({ args: [a, a] }), JSON.stringify({ args: [a + 1, a + 1] }), Date.now()],
      );
    for (const [fn, tail] of [['enqueue', ''], ['enqueue_claim', ", 'w', 0, 0, 0"]]) {
      await db.query(`INSERT INTO qtasks.tasks (queue, id, name, status, data, created_at, updated_at, finished_at, expires_at)
        VALUES ($1, 'twice', 'pg.add', 'success', '{"args":[0,0]}', 1, 1, 1, 0) ON CONFLICT (queue, id) DO UPDATE SET expires_at = 0`, [q]);
      expect(await call(fn, tail, 1)).toEqual([]);
      expect((await rows()).filter((r) => r.id === 'twice').map((r) => JSON.parse(r.data).args)).toEqual([[1, 1]]);
      expect(await app.getTask('twice')).toMatchObject({ status: 'new', args: [1, 1] });
      expect(await app.getTask(`fresh-${fn}`)).toMatchObject({ status: 'new', args: [5, 5] });
    }
  });

  it('of two apps adding an expired id at once, one makes the task and both get it; it ends once', async () => {
    const q = queue('readd-race');
    const a = make(q, { concurrency: 1, config: { leaseMs: 60_000 } });
    const b = make(q, { concurrency: 1, config: { leaseMs: 60_000 } });
    await a.start();
    for (let round = 0; round < 5; round++) {
      const id = `race-${round}`;
      const gone = await a.addTask('pg.slow', [1], { id, removeOnComplete: true });
      expect(await gone.result({ timeout: 5_000 })).toBe(id);
      await waitGone(a, id);
      const runs = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM qtasks.tasks WHERE queue = $1 AND id = $2', [q, id]);
      expect(runs).toEqual([{ n: 1 }]);
      const [x, y] = await Promise.all([a.addTask('pg.slow', [1], { id }), b.addTask('pg.slow', [2], { id })]);
      const args = [(await a.getTask(id))!.args];
      expect([[1], [2]]).toContainEqual(args[0]);
      expect(await x.result({ timeout: 5_000 })).toBe(id);
      expect(await y.result({ timeout: 5_000 })).toBe(id);
      expect(await a.getTask(id)).toMatchObject({ status: 'success', attempt: 1, args: args[0] });
    }
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
