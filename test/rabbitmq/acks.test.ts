/**
 * Acknowledgements of the RabbitMQ broker: acks of one turn go out together (a `multiple` ack where
 * the oldest unsettled messages allow it). Tasks that end out of delivery order leave no message
 * unacknowledged and none acknowledged twice (RabbitMQ would close the channel: the link would
 * reconnect and redeliver), and a worker holds at most four times its concurrency.
 */
import 'reflect-metadata';
import { connect } from 'amqplib';
import type { RabbitMQBroker } from 'qtasks/rabbitmq';
import { BrokerTasks, probe } from 'qtasks/conformance';
import { waitFor } from 'qtasks/conformance';
import { AMQP_URL, rabbitRedisEngine, trackApps } from './rabbit-support';

const engine = rabbitRedisEngine('ra');
const tracker = trackApps(engine);
beforeEach(() => probe.reset());

it('acknowledges every message once when tasks end out of order, on one connection', async () => {
  const app = (await tracker.make({ suite: 'ra', concurrency: 8 })).register(BrokerTasks);
  const broker = app.broker as RabbitMQBroker;
  // durations that make ends cross their delivery order
  const handles = await app.addTasks(Array.from({ length: 120 }, (_, i) => ({ name: 'cb.wait', args: [(i * 7) % 23] })));
  await app.start();
  const gen = broker.link.generation;
  expect(await Promise.all(handles.map((h) => h.result({ timeout: 20_000 })))).toEqual(handles.map(() => 'waited'));
  for (const h of handles) expect(probe.runs(h.id)).toBe(1);
  const c = await connect(AMQP_URL);
  try {
    const ch = await c.createChannel();
    // nothing ready, and once the acks are out nothing unacknowledged: closing the app requeues none
    await waitFor(async () => (await ch.checkQueue(broker.names.queue)).messageCount === 0, 'an empty work queue');
    expect(broker.link.generation).toBe(gen);
    await app.close();
    expect((await ch.checkQueue(broker.names.queue)).messageCount).toBe(0);
  } finally {
    await c.close();
  }
});

it('holds at most four times its concurrency, unclaimed: the rest of the backlog stays in the queue', async () => {
  const app = (await tracker.make({ suite: 'ra', concurrency: 3 })).register(BrokerTasks);
  const broker = app.broker as RabbitMQBroker;
  const handles = await app.addTasks(Array.from({ length: 20 }, () => ({ name: 'cb.wait', args: [5_000] })));
  await app.start();
  await waitFor(() => probe.started.length === 3, 'three tasks to start');
  const c = await connect(AMQP_URL);
  try {
    const ch = await c.createChannel();
    await waitFor(async () => (await ch.checkQueue(broker.names.queue)).messageCount === 20 - 12, 'twelve messages held');
    expect(await app.manager.counts()).toMatchObject({ process: 3, new: 17 });
    // a held message's task is still queued: a cancel ends it and it never runs
    const held = handles.find((h) => !probe.started.includes(h.id))!;
    expect(await app.cancel(held.id)).toBe(true);
    await app.manager.pause();
    for (const h of handles) await h.cancel();
    expect(probe.runs(held.id)).toBe(0);
  } finally {
    await c.close();
  }
});
