/**
 * The published suites (qtasks/conformance) on a RabbitMQ broker paired with the Redis storage:
 * broker, storage, contract and TaskManager. The parity suite is left out: this pairing applies
 * `removeOnComplete`/`removeOnFail` only "at once", not by count or age (see README, Mixing
 * engines). AMQP queues and keys are deleted after each test.
 */
import type { QTasks } from 'qtasks';
import { brokerConformance, contractConformance, describeManager, storageConformance } from 'qtasks/conformance';
import { rabbitRedisEngine } from '../rabbitmq/rabbit-support';

const engine = rabbitRedisEngine('cer');
const features = { sharedQueue: true, sharedEvents: true };
const title = 'rabbitmq + redis storage';
beforeAll(engine.check);
brokerConformance(title, engine.factory, engine.cleanup, features);
storageConformance(title, engine.factory, engine.cleanup, features);
contractConformance(title, engine.factory, engine.cleanup, features);
describeManager({
  label: title,
  shared: true,
  make: (queue, options = {}) => engine.factory({ name: queue, concurrency: options.concurrency, config: options.config }) as QTasks,
  cleanup: () => engine.cleanup(),
});
