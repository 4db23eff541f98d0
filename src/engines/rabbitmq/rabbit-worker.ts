/**
 * The consuming side of the RabbitMQ broker in one worker: a consumer on the work queue with
 * manual acks and prefetch = concurrency; each message (a task id) is claimed by a compare-and-set
 * of its record in the storage, acknowledged once its attempt is recorded, dropped when its record
 * was cancelled or removed meanwhile, and dead-lettered after `maxStalls` redeliveries of a task
 * whose worker was lost.
 */
import type { ConsumeMessage } from 'amqplib';
import type { Consumer, EngineContext } from '../../engine/broker';
import type { RecordWriter, Storage } from '../../engine/storage';
import { ErrorCodes } from '../../errors';
import type { TaskRecord } from '../../task/task-record';
import type { AmqpLink, LinkChannels } from './amqp-link';
import type { RabbitShared } from './rabbit-shared';

/** One delivered message and the connection it came on. */
interface Delivery {
  msg: ConsumeMessage;
  gen: number;
}

/** What a worker needs of its broker. */
export interface WorkerHost {
  readonly ctx: EngineContext;
  readonly storage: Storage;
  readonly writer: RecordWriter;
  readonly link: AmqpLink;
  readonly shared: RabbitShared;
  readonly queue: string;
  /** Announces a task's end to every process of the queue. */
  ended(record: TaskRecord, event: 'task:error'): void;
}

/** Header of a task message: the attempt its record had when it was published. */
export const ATTEMPT_HEADER = 'x-qtasks-attempt';

/** Consumes the work queue for one {@link Consumer}. */
export class RabbitWorker {
  paused = false;
  private stopped = false;
  private tag: string | undefined;
  private tagGen = 0;
  private readonly pending: Delivery[] = [];
  private readonly running = new Map<string, Delivery>();
  private claiming = 0;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly host: WorkerHost,
    readonly consumer: Consumer,
  ) {}

  /** Starts the consumer on this connection (once per connection; not while paused or stopped). */
  async subscribe(ch: LinkChannels): Promise<void> {
    if (this.stopped || this.paused || (this.tag !== undefined && this.tagGen === ch.gen)) return;
    this.tagGen = ch.gen;
    this.tag = '';
    await ch.sub.prefetch(Math.max(1, this.consumer.info().concurrency));
    const r = await ch.sub.consume(this.host.queue, (msg) => msg && this.deliver({ msg, gen: ch.gen }), { noAck: false });
    this.tag = r.consumerTag;
  }

  /** Stops receiving; messages received and not claimed go back to the queue. */
  async unsubscribe(): Promise<void> {
    const tag = this.tag;
    const gen = this.tagGen;
    this.tag = undefined;
    const ch = this.host.link.channelsNow();
    if (tag && ch && ch.gen === gen) await ch.sub.cancel(tag).catch(() => undefined);
    for (const d of this.pending.splice(0)) this.settle(d, 'requeue');
  }

  /** Consumes again with a prefetch of the consumer's concurrency now (after it changed). */
  async resubscribe(): Promise<void> {
    if (this.stopped || this.paused) return;
    await this.unsubscribe();
    const ch = this.host.link.channelsNow();
    if (ch) await this.subscribe(ch);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.unsubscribe();
  }

  /** Claims waiting messages while the consumer has free slots. */
  drain(): void {
    while (!this.stopped && !this.paused && this.pending.length > 0 && this.consumer.capacity() - this.claiming > 0) {
      const d = this.pending.shift()!;
      this.claiming++;
      this.claim(d)
        .catch((err: Error) => {
          this.host.ctx.logger.warn('RabbitMQ claim failed: the message goes back to the queue', { error: err.message });
          this.settle(d, 'requeue');
        })
        .finally(() => {
          this.claiming--;
          this.drain();
        });
    }
  }

  /** A claimed task's attempt was recorded: acknowledges its message (or gives it back). */
  done(id: string, how: 'ack' | 'requeue'): void {
    const d = this.running.get(id);
    this.running.delete(id);
    if (d) this.settle(d, how);
    this.drain();
  }

  /** A cancel reached this process: stops the task if it runs here. */
  abort(id: string, reason?: string): void {
    if (this.running.has(id)) this.consumer.abort(id, reason);
  }

  private deliver(d: Delivery): void {
    if (this.stopped || this.paused) return this.settle(d, 'requeue');
    this.pending.push(d);
    this.drain();
  }

  private async claim(d: Delivery): Promise<void> {
    const h = this.host;
    const id = d.msg.content.toString('utf8');
    if (id === '') return this.settle(d, 'dead');
    const headers = (d.msg.properties.headers ?? {}) as Record<string, unknown>;
    const prior = Number(headers[ATTEMPT_HEADER] ?? 0);
    const now = Date.now();
    const workerId = this.consumer.workerId;
    const rec = await h.writer.transition(id, ['new', 'delayed', 'retry'], {
      status: 'process',
      attempt: (Number.isFinite(prior) ? prior : 0) + 1,
      startedAt: now,
      workerId,
      runAt: undefined,
    });
    if (rec) return this.run(rec, d);
    const cur = await h.storage.get(id);
    // cancelled, removed, finished, or a copy of a message already claimed: dropped
    if (!cur || cur.status !== 'process' || !d.msg.fields.redelivered) return this.settle(d, 'ack');
    // redelivered while recorded running: the connection of the delivery that claimed it was lost
    if (this.running.has(id)) {
      this.running.set(id, d); // still running here: this delivery is acknowledged at its end
      return;
    }
    if (cur.workerId !== workerId && (await h.shared.isLive(cur.workerId))) {
      // still running in a live worker elsewhere: back to the queue a little later
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.settle(d, 'requeue');
      }, 1_000);
      this.timers.add(t);
      return;
    }
    const stalls = (cur.stalls ?? 0) + 1;
    if (stalls > h.ctx.config.maxStalls) {
      const ended = await h.writer.transition(id, ['process'], {
        status: 'error',
        stalls,
        finishedAt: now,
        error: {
          name: 'StalledError',
          code: ErrorCodes.STALLED,
          message: `Task ${id} stalled ${stalls} times (its worker was lost while it ran; maxStalls is ${h.ctx.config.maxStalls}): it ended error and its message was dead-lettered`,
        },
      });
      this.settle(d, 'dead');
      if (ended) h.ended(ended, 'task:error');
      return;
    }
    const again = await h.writer.transition(id, ['process'], { stalls, attempt: cur.attempt + 1, startedAt: now, workerId });
    if (!again) return this.settle(d, 'ack');
    this.run(again, d);
  }

  private run(rec: TaskRecord, d: Delivery): void {
    this.running.set(rec.id, d);
    this.consumer.run(rec);
  }

  /** Acknowledges, requeues or dead-letters a delivery; nothing when its connection is gone (RabbitMQ requeued it). */
  private settle(d: Delivery, how: 'ack' | 'requeue' | 'dead'): void {
    const ch = this.host.link.channelsNow();
    if (!ch || ch.gen !== d.gen) return;
    try {
      if (how === 'ack') ch.sub.ack(d.msg);
      else ch.sub.nack(d.msg, false, how === 'requeue');
    } catch {
      // the channel closed meanwhile: RabbitMQ requeues the message
    }
  }
}
