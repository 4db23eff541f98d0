/**
 * What the RabbitMQ broker does the same way with either storage: `addTask(…, { transaction })` is
 * refused (`QTASKS_ERR_UNSUPPORTED`, nothing stored or published), and finished records that
 * expired (`resultTtlMs`, retention) are deleted from the PostgreSQL storage by the consuming
 * workers, as the PostgreSQL engine's lease rounds do.
 */
import 'reflect-metadata';
import { connect } from 'amqplib';
import { Client } from 'pg';
import { ErrorCodes, QTasks } from 'qtasks';
import type { TaskRecord } from 'qtasks';
import type { RabbitMQBroker } from 'qtasks/rabbitmq';
import { AppFactory, BrokerTasks, probe, waitFor } from 'qtasks/conformance';
import { TestDatabase } from '../postgres/pg-support';
import { AMQP_URL, rabbitPgEngine, rabbitRedisEngine, trackApps } from './rabbit-support';

const db = new TestDatabase('rpair').hooks();
const engines: [string, { factory: AppFactory; cleanup: () => Promise<void>; check: () => Promise<void> }][] = [
  ['redis storage', rabbitRedisEngine('rpair')],
  ['postgres storage', rabbitPgEngine(db, 'rpair')],
];
const rows = async (app: QTasks): Promise<number> =>
  Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM qtasks.tasks WHERE queue = $1', [app.name]))[0].n);

beforeEach(() => probe.reset());

describe.each(engines)('RabbitMQ broker + %s', (_label, engine) => {
  const tracker = trackApps(engine);

  it('refuses addTask with a transaction (QTASKS_ERR_UNSUPPORTED): nothing is stored or published', async () => {
    const app = (await tracker.make({ suite: 'rpair' })).register(BrokerTasks);
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query('BEGIN');
      await expect(app.addTask('cb.add', [1, 2], { id: 'in-tx', transaction: client })).rejects.toMatchObject({ code: ErrorCodes.UNSUPPORTED });
      await client.query('ROLLBACK');
    } finally {
      await client.end();
    }
    expect(await app.getTask('in-tx')).toBeUndefined();
    const c = await connect(AMQP_URL);
    try {
      const ch = await c.createChannel();
      expect((await ch.checkQueue((app.broker as RabbitMQBroker).names.queue)).messageCount).toBe(0);
    } finally {
      await c.close();
    }
    // the same task without the option is enqueued as usual
    await app.start();
    expect(await (await app.addTask('cb.add', [1, 2], { id: 'in-tx' })).result({ timeout: 5_000 })).toBe(3);
  });

  it('addTasks stores a batch in one write: an id stored already keeps its record, an id given twice is one task', async () => {
    const app = (await tracker.make({ suite: 'rpair' })).register(BrokerTasks);
    await app.addTask('cb.add', [1, 1], { id: 'kept' });
    const hs = await app.addTasks([
      { name: 'cb.add', args: [2, 2], opts: { id: 'fresh' } },
      { name: 'cb.add', args: [3, 3], opts: { id: 'kept' } },
      { name: 'cb.add', args: [4, 4], opts: { id: 'fresh' } },
      { name: 'cb.add', args: [5, 5] },
    ]);
    expect(hs.map((h) => h.id).slice(0, 3)).toEqual(['fresh', 'kept', 'fresh']);
    expect((await app.getTask('kept'))?.args).toEqual([1, 1]);
    expect((await app.getTask('fresh'))?.args).toEqual([2, 2]);
    await app.start();
    expect(await Promise.all(hs.map((h) => h.result({ timeout: 5_000 })))).toEqual([4, 2, 4, 10]);
    expect((await app.manager.counts()).success).toBe(3);
  });
});

describe('RabbitMQ broker + postgres storage: expiry', () => {
  const engine = rabbitPgEngine(db, 'rpx');
  const tracker = trackApps(engine);

  it('deletes the rows of records past resultTtlMs, and of tasks a retention dropped', async () => {
    const app = (await tracker.make({ suite: 'rpx', config: { resultTtlMs: 300, leaseMs: 200 } })).register(BrokerTasks);
    await app.start();
    const plain = await Promise.all([1, 2, 3].map((i) => app.addTask('cb.add', [i, 1])));
    for (const h of plain) await h.result({ timeout: 5_000 });
    await waitFor(async () => (await rows(app)) === 0, 'expired rows deleted', 5_000);
    expect(await app.getTask(plain[0].id)).toBeUndefined();
    expect(await app.manager.counts()).toMatchObject({ success: 0 });
  });

  it('deletes the rows a count retention drops; the kept ones stay until they expire', async () => {
    const app = (await tracker.make({ suite: 'rpx', concurrency: 1, config: { leaseMs: 200 } })).register(BrokerTasks);
    await app.start();
    const handles = [];
    for (let i = 0; i < 4; i++) {
      const h = await app.addTask('cb.add', [i, 1], { removeOnComplete: 1 });
      await h.result({ timeout: 5_000 });
      handles.push(h);
    }
    await waitFor(async () => (await rows(app)) === 1, 'only the newest row kept', 5_000);
    expect((await app.manager.list({ status: 'success' })).map((r) => r.id)).toEqual([handles[3].id]);
  });

  it('an insert takes again an id whose row expired but is not swept yet (its stream items go with it); of two inserting at once one makes it, both answer it', async () => {
    const a = (await tracker.make({ suite: 'rpx' })).register(BrokerTasks);
    const b = (await tracker.make({ name: a.name })).register(BrokerTasks);
    await Promise.all([a.init(), b.init()]);
    const record = (id: string, x: number): TaskRecord => ({
      id, name: 'cb.add', args: [x, x], status: 'new', priority: 0, attempt: 0, createdAt: Date.now(), updatedAt: Date.now(),
    } as TaskRecord);
    const expire = async (id: string) => {
      await db.query('UPDATE qtasks.tasks SET status = $3, expires_at = 0 WHERE queue = $1 AND id = $2', [a.name, id, 'success']);
      await db.query("INSERT INTO qtasks.items (queue, task_id, idx, item) VALUES ($1, $2, 0, '1')", [a.name, id]);
    };
    const items = async (id: string) => Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM qtasks.items WHERE queue = $1 AND task_id = $2', [a.name, id]))[0].n);
    const wa = a.storage.recordWriter!;
    const wb = b.storage.recordWriter!;
    expect(await wa.insert([record('w-1', 1)])).toMatchObject([{ args: [1, 1] }]);
    // live: the existing record is answered
    expect(await wb.insert([record('w-1', 2)])).toMatchObject([{ args: [1, 1], status: 'new' }]);
    await expire('w-1');
    expect(await a.getTask('w-1')).toBeUndefined();
    expect(await wb.insert([record('w-1', 3)])).toMatchObject([{ args: [3, 3], status: 'new' }]);
    expect(await a.getTask('w-1')).toMatchObject({ args: [3, 3], status: 'new' });
    expect(await items('w-1')).toBe(0);
    for (let round = 0; round < 5; round++) {
      const id = `w-race-${round}`;
      await wa.insert([record(id, 0)]);
      await expire(id);
      const [x, y] = await Promise.all([wa.insert([record(id, 1)]), wb.insert([record(id, 2)])]);
      const stored = await a.getTask(id);
      expect([[1, 1], [2, 2]]).toContainEqual(stored!.args);
      expect(x[0].args).toEqual(stored!.args);
      expect(y[0].args).toEqual(stored!.args);
      expect(await items(id)).toBe(0);
    }
  });
});
