/**
 * Publishing of task messages with publisher confirms: a publish resolves once RabbitMQ holds the
 * message, and is sent again on the next connection when the link drops first (a copy is dropped
 * at claim). A delayed message goes to the queue of its delay (its TTL), which dead-letters it into
 * the work queue when due: delays need no plugin. Delays are rounded up (10 ms under a second,
 * 100 ms under a minute, then 1 s) so that a few delay queues serve many tasks; each expires unused.
 */
import type { ConfirmChannel, Options } from 'amqplib';
import { ErrorCodes, QTasksError } from '../../errors';
import type { AmqpLink, LinkChannels } from './amqp-link';
import { CLASSIC } from './rabbit-outcome';
import type { RabbitMQBrokerOptions, RabbitNames } from './rabbitmq-options';

/** What a task message carries. */
export interface TaskMessage {
  id: string;
  priority: number;
  attempt: number;
  /** Due time (ms since epoch); due now when absent or past. */
  runAt?: number;
}

/** A delay queue is declared again after this long, so that it never expires while in use (ms). */
const REDECLARE_MS = 60_000;
/** A delay queue unused for its delay plus this long is deleted by RabbitMQ (ms). */
const DELAY_QUEUE_IDLE_MS = 300_000;

/** Publishes task messages and confirmed control messages of one broker. */
export class RabbitPublisher {
  readonly maxPriority: number;
  private readonly quorum: boolean;
  private readonly delays = new Map<number, { gen: number; at: number }>();

  constructor(
    private readonly link: AmqpLink,
    private readonly names: RabbitNames,
    options: RabbitMQBrokerOptions,
    private readonly timeoutMs: number,
  ) {
    const max = options.maxPriority ?? 10;
    if (!Number.isInteger(max) || max < 1 || max > 255) {
      throw new QTasksError(ErrorCodes.BAD_OPTION, `rabbitmqBroker maxPriority must be an integer from 1 to 255, not ${String(max)}`);
    }
    this.maxPriority = max;
    this.quorum = options.queueType === 'quorum';
  }

  /** Names of the delay queues declared by this process. */
  delayQueues(): string[] {
    return [...this.delays.keys()].map((ms) => this.names.delay(ms));
  }

  /** Publishes `tasks` and resolves once RabbitMQ confirmed every one. */
  async publish(tasks: readonly TaskMessage[]): Promise<void> {
    if (tasks.length === 0) return;
    await this.withLink(async (ch) => {
      const now = Date.now();
      const sent: Promise<void>[] = [];
      for (const t of tasks) {
        const delay = t.runAt !== undefined && t.runAt > now ? roundDelay(t.runAt - now) : 0;
        const queue = delay > 0 ? await this.delayQueue(ch, delay) : this.names.queue;
        // the attempt header only when there is one to carry (a first attempt reads as 0 without it)
        const opts: Options.Publish = t.attempt > 0 ? { persistent: true, headers: { 'x-qtasks-attempt': t.attempt } } : { persistent: true };
        if (!this.quorum) opts.priority = Number.isFinite(t.priority) ? Math.min(this.maxPriority, Math.max(0, this.maxPriority - Math.round(t.priority))) : 0;
        sent.push(confirm(ch.pub, '', queue, Buffer.from(t.id, 'utf8'), opts));
      }
      await Promise.all(sent);
    });
  }

  /** Publishes one message to `exchange` and resolves once RabbitMQ confirmed it. */
  confirmed(exchange: string, routingKey: string, body: Buffer, opts: Options.Publish): Promise<void> {
    return this.withLink((ch) => confirm(ch.pub, exchange, routingKey, body, opts));
  }

  /** Runs `fn` on the open channels, again on the next connection when this one drops, until `connectTimeoutMs`. */
  private async withLink(fn: (ch: LinkChannels) => Promise<void>): Promise<void> {
    const until = Date.now() + this.timeoutMs;
    for (;;) {
      const ch = await this.link.channels();
      try {
        return await fn(ch);
      } catch (err) {
        if (this.link.channelsNow()?.gen === ch.gen || Date.now() > until) throw err;
      }
    }
  }

  private async delayQueue(ch: LinkChannels, ms: number): Promise<string> {
    const name = this.names.delay(ms);
    const d = this.delays.get(ms);
    if (d && d.gen === ch.gen && Date.now() - d.at < REDECLARE_MS) return name;
    await ch.pub.assertQueue(name, {
      durable: true,
      arguments: {
        ...CLASSIC,
        'x-message-ttl': ms,
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': this.names.queue,
        'x-expires': ms + DELAY_QUEUE_IDLE_MS,
      },
    });
    this.delays.set(ms, { gen: ch.gen, at: Date.now() });
    return name;
  }
}

/** A delay rounded up to its bucket. */
export function roundDelay(ms: number): number {
  const step = ms <= 1_000 ? 10 : ms <= 60_000 ? 100 : 1_000;
  return Math.ceil(ms / step) * step;
}

function confirm(pub: ConfirmChannel, exchange: string, routingKey: string, body: Buffer, opts: Options.Publish): Promise<void> {
  return new Promise((resolve, reject) => {
    try {
      pub.publish(exchange, routingKey, body, opts, (err: unknown) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()));
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
    }
  });
}
