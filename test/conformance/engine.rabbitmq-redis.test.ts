/**
 * The published suites (qtasks/conformance) on a RabbitMQ broker paired with the Redis storage:
 * broker, storage, contract, coordination, parity (retention by count and age included), named
 * queues and TaskManager. AMQP queues and keys are deleted after each test.
 */
import type { QTasks } from 'qtasks';
import { brokerConformance, contractConformance, coordinationConformance, describeManager, parityConformance, queuesConformance, storageConformance } from 'qtasks/conformance';
import { rabbitRedisEngine } from '../rabbitmq/rabbit-support';

const engine = rabbitRedisEngine('cer');
const features = { sharedQueue: true, sharedEvents: true };
const title = 'rabbitmq + redis storage';
beforeAll(engine.check);
brokerConformance(title, engine.factory, engine.cleanup, features);
storageConformance(title, engine.factory, engine.cleanup, features);
contractConformance(title, engine.factory, engine.cleanup, features);
coordinationConformance(title, engine.factory, engine.cleanup, features);
parityConformance(title, engine.factory, engine.cleanup);
queuesConformance(title, engine.factory, engine.cleanup, features);
describeManager({
  label: title,
  shared: true,
  make: (queue, options = {}) => engine.factory({ name: queue, concurrency: options.concurrency, config: options.config }) as QTasks,
  cleanup: () => engine.cleanup(),
});
