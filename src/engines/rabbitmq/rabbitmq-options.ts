/**
 * Options of the RabbitMQ broker (`rabbitmqBroker({ url, … })`) and the names it gives its AMQP
 * queues and exchanges.
 */

/** How `rabbitmqBroker` is configured. */
export interface RabbitMQBrokerOptions {
  /** AMQP URL, e.g. `amqp://guest:guest@127.0.0.1:5672`. */
  url: string;
  /** Prefix of queue and exchange names (default: the app's `config.prefix`). */
  prefix?: string;
  /**
   * `'classic'` (default): a durable classic queue with `x-max-priority`, so priorities apply.
   * `'quorum'`: a replicated quorum queue; RabbitMQ 3.x quorum queues have no priorities, so
   * tasks run in publish order whatever their priority.
   */
  queueType?: 'classic' | 'quorum';
  /**
   * Priority levels of a classic queue (1–255, default 10): a task of priority `p` is published
   * with AMQP priority `maxPriority - p`, so 0 runs first and priorities at or above `maxPriority`
   * share the lowest level; negative priorities share the highest.
   */
  maxPriority?: number;
  /** How long a call waits for RabbitMQ before `QTASKS_ERR_BROKER_UNAVAILABLE` (default: `config.connectTimeoutMs`). */
  connectTimeoutMs?: number;
}

/** The AMQP names of one qtasks queue. */
export class RabbitNames {
  /** The work queue (task ids). */
  readonly queue: string;
  /** Fanout exchange of events and control messages (every process of the queue binds a queue). */
  readonly bus: string;
  /** Dead-letter exchange and queue (stalled past `maxStalls`, poison messages). */
  readonly dlx: string;
  readonly dead: string;

  constructor(prefix: string, name: string) {
    const b = `${prefix}.${name}`;
    this.queue = b;
    this.bus = b + '.bus';
    this.dlx = b + '.dlx';
    this.dead = b + '.dead';
  }

  /** The queue holding messages delayed by `ms` (their TTL), dead-lettered into the work queue when due. */
  delay(ms: number): string {
    return `${this.queue}.delay.${ms}`;
  }
}
