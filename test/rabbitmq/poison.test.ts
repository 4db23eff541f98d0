/**
 * Poison on the RabbitMQ broker with either storage: the published poison suite (records corrupted
 * in the storage end `QTASKS_ERR_BAD_RECORD`, their neighbours unaffected), and messages on the
 * work queue that carry no task id (empty, not UTF-8, longer than an id): each is dead-lettered to
 * `<queue>.dead` once, never redelivered, and the tasks around it run.
 */
import 'reflect-metadata';
import { connect } from 'amqplib';
import IORedis from 'ioredis';
import type { QTasks } from 'qtasks';
import type { RabbitMQBroker } from 'qtasks/rabbitmq';
import type { RedisStorage } from 'qtasks/redis';
import { AppFactory, AppTracker, BrokerTasks, poisonConformance, PoisonHooks, probe, waitFor } from 'qtasks/conformance';
import { TestDatabase } from '../postgres/pg-support';
import { pgCorrupt, pgCorruptState } from '../postgres/pg-poison';
import { REDIS_URL } from '../redis/redis-support';
import { redisCorrupter } from '../redis/redis-poison';
import { AMQP_URL, rabbitPgEngine, rabbitRedisEngine } from './rabbit-support';

/** Where the RabbitMQ broker keeps its workers in the storage's shared state. */
const WORKERS = 'qtasks:rabbitmq:workers';

const db = new TestDatabase('rpo').hooks();
const redisEngine = rabbitRedisEngine('rpo');
const pgEngine = rabbitPgEngine(db, 'rpo');
let r: IORedis;
beforeAll(async () => {
  await redisEngine.check();
  r = new IORedis(REDIS_URL);
});
afterAll(() => r.quit());

const redisState = async (app: QTasks, state: string, key: string, json: string): Promise<void> => {
  const hash = (app.storage as RedisStorage).keys.state(state);
  if ((await r.hexists(hash, key)) === 0) throw new Error(`No stored state value ${state}.${key}`);
  await r.hset(hash, key, json);
};
const redisHooks: PoisonHooks = {
  corrupt: redisCorrupter(() => r, redisEngine.prefix),
  corruptState: redisState,
  corruptWorker: (app, workerId) => redisState(app, WORKERS, workerId, '{"id":'),
};
const pgHooks: PoisonHooks = {
  corrupt: (app, id, how) => pgCorrupt(db, app, id, how),
  corruptState: (app, state, key, json) => pgCorruptState(db, app, state, key, json),
  corruptWorker: (app, workerId) => pgCorruptState(db, app, WORKERS, workerId, '{"id":'),
};

const pairings: [string, { factory: AppFactory; cleanup: () => Promise<void> }, PoisonHooks][] = [
  ['rabbitmq + redis storage', redisEngine, redisHooks],
  ['rabbitmq + postgres storage', pgEngine, pgHooks],
];

for (const [title, engine, hooks] of pairings) {
  poisonConformance(title, engine.factory, hooks, engine.cleanup, { sharedQueue: true, sharedEvents: true });

  describe(`Poison messages: ${title}`, () => {
    const tracker = new AppTracker(engine.factory, engine.cleanup);
    beforeEach(() => probe.reset());
    afterEach(() => tracker.closeAll());

    it('dead-letters a message that carries no task id, once; the tasks around it run', async () => {
      const app = (await tracker.make({ suite: 'rpo', concurrency: 4 })).register(BrokerTasks);
      const broker = app.broker as RabbitMQBroker;
      const before = await app.addTask('cb.add', [1, 1]);
      const bad = [Buffer.alloc(0), Buffer.from([0xff, 0xfe, 0xc0, 0x00]), Buffer.alloc(5_000, 'x')];
      const c = await connect(AMQP_URL);
      try {
        const ch = await c.createConfirmChannel();
        for (const body of bad) ch.sendToQueue(broker.names.queue, body, { persistent: true });
        await ch.waitForConfirms();
        const after = await app.addTask('cb.add', [2, 2]);
        await app.start();
        expect(await before.result({ timeout: 5_000 })).toBe(2);
        expect(await after.result({ timeout: 5_000 })).toBe(4);
        await waitFor(async () => (await ch.checkQueue(broker.names.dead)).messageCount === bad.length, 'the bad messages dead-lettered');
        expect((await ch.checkQueue(broker.names.queue)).messageCount).toBe(0);
        // dead-lettered once: nothing comes back to the work queue, the worker goes on
        expect(await (await app.addTask('cb.add', [3, 3])).result({ timeout: 5_000 })).toBe(6);
        expect((await ch.checkQueue(broker.names.dead)).messageCount).toBe(bad.length);
        expect(probe.started).toHaveLength(3);
      } finally {
        await c.close();
      }
    });
  });
}
