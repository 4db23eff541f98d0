/**
 * Helpers of the RabbitMQ test suites: the server (127.0.0.1:5672, guest/guest, or
 * QTASKS_AMQP_URL), a clear failure naming RabbitMQ when it is unreachable, and apps on a RabbitMQ
 * broker paired with the Redis or PostgreSQL storage, whose AMQP queues and exchanges are deleted
 * after each test.
 */
import 'reflect-metadata';
import { connect } from 'amqplib';
import { QTasks } from 'qtasks';
import { RabbitMQBroker, rabbitmqBroker } from 'qtasks/rabbitmq';
import { redisStorage } from 'qtasks/redis';
import { postgresStorage } from 'qtasks/postgres';
import type { TestDatabase } from '../postgres/pg-support';
import { AppTracker } from 'qtasks/conformance';
import type { AppFactory } from 'qtasks/conformance';
import { deleteKeys, ensureRedis, REDIS_URL, testPrefix } from '../redis/redis-support';

/** The server the tests use. */
export const AMQP_URL = process.env.QTASKS_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** Fails with a message naming RabbitMQ when it cannot be reached. */
export async function ensureRabbit(url = AMQP_URL): Promise<void> {
  try {
    const c = await connect(url, { timeout: 3_000 });
    await c.close();
  } catch (err) {
    throw new Error(`The RabbitMQ tests need RabbitMQ at ${url} (guest/guest; set QTASKS_AMQP_URL to use another): ${(err as Error).message}`);
  }
}

/** Deletes the queues and exchanges of the brokers made so far, and forgets them. */
export async function deleteAmqp(brokers: RabbitMQBroker[], url = AMQP_URL): Promise<void> {
  const all = brokers.splice(0).filter((b) => b.names !== undefined);
  if (all.length === 0) return;
  const c = await connect(url);
  try {
    const ch = await c.createChannel();
    for (const b of all) {
      const { queues, exchanges } = b.declared();
      for (const q of queues) await ch.deleteQueue(q);
      for (const e of exchanges) await ch.deleteExchange(e);
    }
  } finally {
    await c.close();
  }
}

/** A factory of apps on RabbitMQ + Redis storage, with the cleanup of their queues and keys. */
export function rabbitRedisEngine(label: string): { factory: AppFactory; cleanup: () => Promise<void>; check: () => Promise<void>; prefix: string } {
  const prefix = testPrefix(label);
  const brokers: RabbitMQBroker[] = [];
  const apps: QTasks[] = [];
  return {
    prefix,
    factory: ({ name, concurrency, config, queues }) => {
      const broker = rabbitmqBroker({ url: AMQP_URL, prefix });
      brokers.push(broker);
      const app = new QTasks({ name, concurrency, config, queues, discover: false, broker, storage: redisStorage({ url: REDIS_URL, prefix }) });
      apps.push(app);
      return app;
    },
    cleanup: async () => {
      // the brokers an app made for its other named queues too
      for (const app of apps.splice(0)) for (const q of app.queues.opened()) if (q.broker instanceof RabbitMQBroker && !brokers.includes(q.broker)) brokers.push(q.broker);
      await deleteAmqp(brokers);
      await deleteKeys(prefix);
    },
    check: async () => {
      await ensureRabbit();
      await ensureRedis();
    },
  };
}

/** A factory of apps on RabbitMQ + PostgreSQL storage (in `db`), with the cleanup of their queues. */
export function rabbitPgEngine(db: TestDatabase, label: string): { factory: AppFactory; cleanup: () => Promise<void>; check: () => Promise<void> } {
  const prefix = testPrefix(label);
  const brokers: RabbitMQBroker[] = [];
  return {
    factory: ({ name, concurrency, config }) => {
      const broker = rabbitmqBroker({ url: AMQP_URL, prefix });
      brokers.push(broker);
      return new QTasks({ name, concurrency, config, discover: false, broker, storage: postgresStorage({ connectionString: db.url, poolSize: 4 }) });
    },
    cleanup: () => deleteAmqp(brokers),
    check: () => ensureRabbit(),
  };
}

/**
 * The apps of the enclosing `describe` (or file) on `engine`: the services are checked before its
 * tests, and after each test the apps are closed and the engine's queues and keys cleaned up
 * (jest's mocks restored first when `restoreMocks` is set).
 */
export function trackApps(
  engine: { factory: AppFactory; cleanup: () => Promise<void>; check: () => Promise<void> },
  opts: { restoreMocks?: boolean } = {},
): AppTracker {
  const tracker = new AppTracker(engine.factory, engine.cleanup);
  beforeAll(engine.check);
  afterEach(() => {
    if (opts.restoreMocks) jest.restoreAllMocks();
    return tracker.closeAll();
  });
  return tracker;
}
