/**
 * The RabbitMQ engine (`qtasks/rabbitmq`): a broker that moves task ids through RabbitMQ and keeps
 * records in the storage of another engine, e.g.
 * `new QTasks({ broker: rabbitmqBroker({ url }), storage: redisStorage(redisUrl) })`.
 */
import { RabbitMQBroker } from './rabbitmq-broker';
import type { RabbitMQBrokerOptions } from './rabbitmq-options';

export { RabbitMQBroker } from './rabbitmq-broker';
export type { RabbitMQBrokerOptions } from './rabbitmq-options';

/** A RabbitMQ broker; pair it with a storage that offers record writes (`redisStorage`, `postgresStorage`). */
export function rabbitmqBroker(options: RabbitMQBrokerOptions): RabbitMQBroker {
  return new RabbitMQBroker(options);
}
