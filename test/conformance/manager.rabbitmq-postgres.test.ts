/**
 * The TaskManager suite on a RabbitMQ broker paired with the PostgreSQL storage, in a database of
 * its own (purging queued tasks, which live only in the storage, included).
 */
import type { QTasks } from 'qtasks';
import { describeManager } from 'qtasks/conformance';
import { TestDatabase } from '../postgres/pg-support';
import { rabbitPgEngine } from '../rabbitmq/rabbit-support';

const db = new TestDatabase('cmrp').hooks();
const engine = rabbitPgEngine(db, 'cmrp');
beforeAll(engine.check);
describeManager({
  label: 'rabbitmq + postgres storage',
  shared: true,
  make: (queue, options = {}) => engine.factory({ name: queue, concurrency: options.concurrency, config: options.config }) as QTasks,
  cleanup: () => engine.cleanup(),
});
