/**
 * The RabbitMQ broker on a quorum queue (no priorities): tasks, delays, retries and cancels work
 * as on a classic queue.
 */
import 'reflect-metadata';
import { ErrorCodes, QTasks } from 'qtasks';
import { RabbitMQBroker, rabbitmqBroker } from 'qtasks/rabbitmq';
import { redisStorage } from 'qtasks/redis';
import { BrokerTasks, probe } from 'qtasks/conformance';
import { uniqueName } from 'qtasks/conformance';
import { deleteKeys, REDIS_URL, testPrefix } from '../redis/redis-support';
import { AMQP_URL, deleteAmqp, ensureRabbit } from './rabbit-support';

const prefix = testPrefix('rq');
const brokers: RabbitMQBroker[] = [];
let app: QTasks | undefined;
beforeAll(() => ensureRabbit());
beforeEach(() => probe.reset());
afterEach(async () => {
  await app?.close();
  await deleteAmqp(brokers);
  await deleteKeys(prefix);
});

it('runs, delays, retries and cancels tasks on a quorum queue', async () => {
  const broker = rabbitmqBroker({ url: AMQP_URL, prefix, queueType: 'quorum' });
  brokers.push(broker);
  app = new QTasks({ name: uniqueName('rq'), discover: false, config: { logLevel: 'silent' }, broker, storage: redisStorage({ url: REDIS_URL, prefix }) }).register(BrokerTasks);
  const queued = await app.addTask('cb.add', [1, 1]);
  expect(await app.cancel(queued.id)).toBe(true);
  await app.start();
  const now = await app.addTask('cb.add', [1, 2]);
  const later = await app.addTask('cb.add', [2, 2], { delay: 200 });
  const flaky = await app.addTask('cb.flaky', [1], { retry: 1, backoff: { type: 'fixed', delay: 50 } });
  expect(await now.result({ timeout: 5_000 })).toBe(3);
  expect(await later.result({ timeout: 5_000 })).toBe(4);
  expect(await flaky.result({ timeout: 5_000 })).toBe(2);
  await expect(queued.result({ timeout: 1_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_CANCELLED });
  expect(probe.runs(queued.id)).toBe(0);
});
