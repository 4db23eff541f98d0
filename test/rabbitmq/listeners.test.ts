/**
 * Events of the RabbitMQ broker go on the bus only while another process listens: a worker whose
 * ends nobody else waits for publishes none of them, and once a process listens (a producer, a
 * `result()`, an app listener) the worker hears it and its ends reach that process.
 */
import 'reflect-metadata';
import type { QTasks, TaskRecord } from 'qtasks';
import type { RabbitMQBroker } from 'qtasks/rabbitmq';
import { BrokerTasks, waitFor } from 'qtasks/conformance';
import { RabbitBus } from '../../src/engines/rabbitmq/rabbit-bus';
import type { BusMessage } from '../../src/engines/rabbitmq/rabbit-bus';
import type { RabbitListeners } from '../../src/engines/rabbitmq/rabbit-listeners';
import { ListenBeacon } from '../../src/engines/shared/listen-beacon';
import { rabbitRedisEngine, trackApps } from './rabbit-support';

const engine = rabbitRedisEngine('rls');
const tracker = trackApps(engine, { restoreMocks: true });

const listenersOf = (app: QTasks): RabbitListeners => (app.broker as unknown as { listeners: RabbitListeners }).listeners;

it('publishes no end while no other process listens, and every end once one does', async () => {
  const worker = (await tracker.make({ suite: 'rls', concurrency: 2 })).register(BrokerTasks);
  await worker.start();
  const sent: BusMessage[] = [];
  const send = RabbitBus.prototype.send;
  jest.spyOn(RabbitBus.prototype, 'send').mockImplementation(function (this: RabbitBus, msg: BusMessage) {
    sent.push(msg);
    send.call(this, msg);
  });
  // past its first seconds on the bus the worker knows nobody else listens
  await waitFor(() => !listenersOf(worker).othersListen(), 'the worker to know nobody else listens', 15_000);
  const link = (worker.broker as RabbitMQBroker).link;
  const gen = link.generation;
  const alone = await worker.addTask('cb.add', [1, 2]);
  expect(await alone.result({ timeout: 5_000 })).toBe(3);
  await new Promise((r) => setImmediate(r));
  // (a connection lost meanwhile, e.g. by another suite's close_all_connections, publishes for a while)
  if (link.generation === gen) expect(sent.filter((m) => m.t === 'end')).toEqual([]);

  // another process of the queue listens: the worker hears it and publishes its ends to it
  const other = (await tracker.make({ suite: 'rls', name: (worker.broker as RabbitMQBroker).ctx.queue })).register(BrokerTasks);
  const heard: TaskRecord[] = [];
  other.on('task:success', ({ record }) => heard.push(record));
  await other.getTask('cb.add');
  await waitFor(() => listenersOf(worker).othersListen(), 'the worker to hear the listener', 15_000);
  const seen = await worker.addTask('cb.add', [2, 3]);
  expect(await seen.result({ timeout: 5_000 })).toBe(5);
  await waitFor(() => heard.some((r) => r.id === seen.id), 'the other process to hear the end', 15_000);
  expect(heard.map((r) => r.id)).not.toContain(alone.id);
  // a result() in the other process: the worker's end is published for it. The result may come
  // first from the waiter's own read of the storage: the worker sends the end once its storage
  // write is answered, which can be handled after the read's answer (both in this process)
  const third = await other.addTask('cb.add', [3, 4]);
  expect(await third.result({ timeout: 5_000 })).toBe(7);
  await waitFor(() => sent.some((m) => m.t === 'end' && m.rec.id === third.id), 'the worker to publish the end of the third task', 5_000);
  expect(sent.some((m) => m.t === 'end' && m.rec.id === third.id)).toBe(true);
});

it('a worker that joins asks who listens: a listening process answers at once, not at its next beat', async () => {
  // beats silenced: a listener says so when it starts listening and when asked, nothing else
  jest.spyOn(ListenBeacon.prototype as unknown as { beat(): void }, 'beat').mockImplementation(() => undefined);
  const listener = (await tracker.make({ suite: 'rls' })).register(BrokerTasks);
  const heard: string[] = [];
  listener.on('task:success', ({ record }) => heard.push(record.id));
  await listener.getTask('cb.add');
  const queue = (listener.broker as RabbitMQBroker).ctx.queue;
  // the worker joins after the listener said it listens: only the answer to its question tells it
  const worker = (await tracker.make({ suite: 'rls', name: queue, concurrency: 2 })).register(BrokerTasks);
  await worker.start();
  const beacon = (listenersOf(worker) as unknown as { beacon: ListenBeacon }).beacon;
  await waitFor(() => beacon.othersListen(), 'the worker to hear the listener', 10_000);
  const h = await worker.addTask('cb.add', [1, 1]);
  expect(await h.result({ timeout: 5_000 })).toBe(2);
  await waitFor(() => heard.includes(h.id), 'the listener to hear the end', 10_000);
});
