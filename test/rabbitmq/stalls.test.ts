/**
 * Stalls on the RabbitMQ broker: a message redelivered because the consumer that claimed it was
 * lost (its worker sends no heartbeat) runs again counting `stalls`, and after `maxStalls` its task
 * ends `error` `QTASKS_ERR_STALLED` and the message is dead-lettered to `<queue>.dead`.
 */
import 'reflect-metadata';
import { connect } from 'amqplib';
import { ErrorCodes, QTasks } from 'qtasks';
import type { RabbitMQBroker } from 'qtasks/rabbitmq';
import { BrokerTasks, probe } from 'qtasks/conformance';
import { waitFor } from 'qtasks/conformance';
import { AMQP_URL, rabbitRedisEngine, trackApps } from './rabbit-support';

const engine = rabbitRedisEngine('rs');
const tracker = trackApps(engine);
beforeEach(() => probe.reset());

/** Takes the task's message as a lost worker would: claimed in the storage, then its connection dropped. */
async function claimAndLose(app: QTasks, id: string): Promise<void> {
  const broker = app.broker as RabbitMQBroker;
  const c = await connect(AMQP_URL);
  const ch = await c.createChannel();
  let msg = await ch.get(broker.names.queue, { noAck: false });
  for (let i = 0; !msg && i < 100; i++) {
    await new Promise((r) => setTimeout(r, 20));
    msg = await ch.get(broker.names.queue, { noAck: false });
  }
  expect(msg && msg.content.toString()).toBe(id);
  const rec = await app.storage.recordWriter!.transition(id, ['new'], { status: 'process', attempt: 1, startedAt: Date.now(), workerId: 'lost-worker' });
  expect(rec).toMatchObject({ status: 'process' });
  await c.close(); // RabbitMQ requeues the message, marked redelivered
}

it('runs a stalled task again, counting stalls, while maxStalls allows', async () => {
  const app = (await tracker.make({ suite: 'rs', config: { maxStalls: 1 } })).register(BrokerTasks);
  const h = await app.addTask('cb.add', [1, 2]);
  await claimAndLose(app, h.id);
  await app.start();
  expect(await h.result({ timeout: 5_000 })).toBe(3);
  expect(await app.getTask(h.id)).toMatchObject({ status: 'success', stalls: 1, attempt: 2 });
});

it('ends a task stalled past maxStalls QTASKS_ERR_STALLED and dead-letters its message', async () => {
  const app = (await tracker.make({ suite: 'rs', config: { maxStalls: 0 } })).register(BrokerTasks);
  const h = await app.addTask('cb.add', [1, 2]);
  await claimAndLose(app, h.id);
  await app.start();
  await expect(h.result({ timeout: 5_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_FAILED, cause: { code: ErrorCodes.STALLED } });
  expect(probe.runs(h.id)).toBe(0);
  const c = await connect(AMQP_URL);
  try {
    const ch = await c.createChannel();
    const dead = (app.broker as RabbitMQBroker).names.dead;
    await waitFor(async () => (await ch.checkQueue(dead)).messageCount === 1, 'the message in the dead-letter queue');
  } finally {
    await c.close();
  }
});
