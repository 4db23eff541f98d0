/**
 * RabbitMQ broker: task ids travel through a durable AMQP queue (publisher confirms, manual acks,
 * prefetch = concurrency) while records, results, stream items and shared state live in the storage
 * it pairs with, written through that storage's {@link RecordWriter} (Redis or PostgreSQL). Delays
 * use per-delay queues with a message TTL that dead-letter into the work queue (no plugin); events
 * and control messages go through a fanout exchange that every process of the queue binds.
 */
import { randomBytes } from 'node:crypto';
import type { ConsumeMessage } from 'amqplib';
import { Broker } from '../../engine/broker';
import type { Consumer, EngineContext, EngineEventMap, Outcome, StreamEndListener, StreamItemListener, WorkerCommand, WorkerInfo } from '../../engine/broker';
import type { RecordWriter, Storage } from '../../engine/storage';
import { ErrorCodes, QTasksError } from '../../errors';
import { retentionOf } from '../../task/retention';
import { declareTopology, EndEvent, message, outcomePatch } from './rabbit-outcome';
import type { TaskRecord } from '../../task/task-record';
import { AmqpLink, LinkChannels } from './amqp-link';
import { RabbitNames, RabbitMQBrokerOptions } from './rabbitmq-options';
import { RabbitNotifier } from './rabbit-notifier';
import { HEARTBEAT_MS, RabbitShared } from './rabbit-shared';
import { RabbitWorker, WorkerHost } from './rabbit-worker';
import { RabbitPublisher, TaskMessage } from './rabbit-publisher';

/** Messages of the fanout exchange (events to every process, commands to workers). */
type BusMessage =
  | { t: 'end'; ev: EndEvent; rec: TaskRecord }
  | { t: 'progress'; id: string; name: string; progress: unknown }
  | { t: 'item'; id: string; index: number; item: unknown }
  | { t: 'cancel'; id: string; reason?: string }
  | { t: 'pause' | 'resume'; nonce: string }
  | { t: 'worker'; workerId: string; command: WorkerCommand };

/** Moves task ids through RabbitMQ; keeps records in a storage of another engine. */
export class RabbitMQBroker extends Broker implements WorkerHost {
  readonly engine = 'rabbitmq';
  override readonly storageNeeds = 'any' as const;
  /** @internal */ ctx!: EngineContext;
  /** @internal */ storage!: Storage;
  /** @internal */ writer!: RecordWriter;
  /** @internal */ link!: AmqpLink;
  /** @internal */ shared!: RabbitShared;
  /** @internal */ names!: RabbitNames;
  private notifier!: RabbitNotifier;
  private publisher!: RabbitPublisher;
  private worker: RabbitWorker | undefined;
  private beatTimer: NodeJS.Timeout | undefined;
  private readonly echoes = new Map<string, () => void>();
  private closing: Promise<void> | undefined;

  constructor(private readonly options: RabbitMQBrokerOptions) {
    super();
    if (typeof options?.url !== 'string' || options.url === '') {
      throw new QTasksError(ErrorCodes.BAD_OPTION, 'rabbitmqBroker({ url }) needs an AMQP URL, e.g. amqp://guest:guest@127.0.0.1:5672');
    }
  }

  /** @internal the work queue's name. */
  get queue(): string {
    return this.names.queue;
  }

  /** @internal every queue and exchange this broker declared (tests delete them). */
  declared(): { queues: string[]; exchanges: string[] } {
    const n = this.names;
    return { queues: [n.queue, n.dead, ...this.publisher.delayQueues()], exchanges: [n.bus, n.dlx] };
  }

  async init(ctx: EngineContext): Promise<void> {
    const storage = ctx.storage;
    if (!storage.recordWriter) {
      throw new QTasksError(ErrorCodes.INCOMPATIBLE_ENGINE, `The RabbitMQ broker keeps its records through a storage's recordWriter; the ${storage.engine} storage has none`);
    }
    this.ctx = ctx;
    this.storage = storage;
    this.writer = storage.recordWriter;
    this.names = new RabbitNames(this.options.prefix ?? ctx.config.prefix, ctx.queue);
    this.notifier = new RabbitNotifier(storage);
    this.shared = new RabbitShared(storage);
    const timeout = this.options.connectTimeoutMs ?? ctx.config.connectTimeoutMs;
    this.link = new AmqpLink(this.options.url, timeout, ctx.logger, `qtasks ${this.names.queue}`, (ch) => this.setup(ch));
    this.publisher = new RabbitPublisher(this.link, this.names, this.options, timeout);
    await this.link.start();
  }

  /** Declares the topology and subscribes to the bus (and the work queue when consuming), on each connection. */
  private async setup(ch: LinkChannels): Promise<void> {
    const n = this.names;
    await declareTopology(ch, n, this.options.queueType === 'quorum', this.publisher.maxPriority);
    const q = await ch.sub.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
    await ch.sub.bindQueue(q.queue, n.bus, '');
    await ch.sub.consume(q.queue, (m) => m && this.onBus(m), { noAck: true });
    if (this.worker) {
      this.worker.paused = await this.shared.isPaused();
      await this.worker.subscribe(ch);
    }
  }

  close(): Promise<void> {
    return (this.closing ??= (async () => {
      clearInterval(this.beatTimer);
      if (!this.link) return;
      if (this.worker) await this.worker.stop();
      this.notifier.close();
      await this.link.close();
    })());
  }

  async enqueue(records: TaskRecord[]): Promise<TaskRecord[]> {
    const stored = await this.writer.insert(records);
    // an id that existed keeps its record; a copy of a message published twice is dropped at claim
    const fresh: TaskMessage[] = [];
    stored.forEach((s, i) => {
      if ((s.status === 'new' || s.status === 'delayed') && s.createdAt === records[i].createdAt) fresh.push(message(s));
    });
    await this.publisher.publish(fresh);
    return stored;
  }

  async consume(consumer: Consumer): Promise<void> {
    this.worker = new RabbitWorker(this, consumer);
    await this.shared.beat(consumer.info());
    this.beatTimer = setInterval(() => {
      if (this.worker) this.shared.beat(this.worker.consumer.info()).catch(() => undefined);
    }, HEARTBEAT_MS);
    this.beatTimer.unref();
    this.worker.paused = await this.shared.isPaused();
    const ch = this.link.channelsNow();
    if (ch) await this.worker.subscribe(ch);
  }

  wake(): void {
    this.worker?.drain();
  }

  async stopConsuming(): Promise<void> {
    clearInterval(this.beatTimer);
    const w = this.worker;
    if (!w) return;
    await w.stop();
    await this.shared.leave(w.consumer.workerId).catch(() => undefined);
  }

  async finish(record: TaskRecord, outcome: Outcome): Promise<TaskRecord | undefined> {
    const { patch, ev } = outcomePatch(record, outcome, Date.now(), this.ctx.config.maxAttemptHistory);
    const stored = await this.writer.transition(record.id, ['process'], patch);
    if (stored && ev) {
      // the event before a retry's next message: that attempt may end before its message is confirmed
      this.bus({ t: 'end', ev, rec: stored });
      // a record dropped at its end: the event carries it to every waiting handle
      const keep = ev === 'task:success' ? stored.removeOnComplete : ev === 'task:error' ? stored.removeOnFail : undefined;
      if (retentionOf(keep)?.now) await this.storage.remove(stored.id).catch(() => undefined);
    }
    if (stored && outcome.status === 'retry') await this.publisher.publish([message(stored)]);
    this.worker?.done(record.id, outcome.status === 'handback' && stored ? 'requeue' : 'ack');
    return stored;
  }

  async cancel(id: string, reason?: string): Promise<boolean> {
    const rec = await this.writer.transition(id, ['new', 'delayed', 'retry'], { status: 'cancel', cancelReason: reason, finishedAt: Date.now() });
    if (rec) {
      this.bus({ t: 'end', ev: 'task:cancel', rec });
      return true;
    }
    const cur = await this.storage.get(id);
    if (cur?.status !== 'process') return false;
    await this.busConfirmed({ t: 'cancel', id, reason });
    return true;
  }

  async progress(record: TaskRecord, value: unknown): Promise<void> {
    await this.writer.transition(record.id, ['process'], { progress: value });
    this.bus({ t: 'progress', id: record.id, name: record.name, progress: value });
  }

  async pushItem(record: TaskRecord, item: unknown): Promise<void> {
    const index = await this.writer.appendItem(record.id, item);
    if (index >= 0) this.bus({ t: 'item', id: record.id, index, item });
  }

  waitFinal(id: string, timeoutMs?: number): Promise<TaskRecord | undefined> {
    return this.notifier.waitFinal(id, timeoutMs);
  }

  watchItems(id: string, from: number, onItem: StreamItemListener, onEnd: StreamEndListener): () => void {
    return this.notifier.watchItems(id, from, onItem, onEnd);
  }

  async retry(id: string): Promise<boolean> {
    const rec = await this.writer.transition(id, ['error', 'cancel'], {
      status: 'new', attempt: 0, error: undefined, returning: undefined, finishedAt: undefined, cancelReason: undefined,
      startedAt: undefined, workerId: undefined, progress: undefined, runAt: undefined, stalls: undefined, attempts: undefined,
    });
    if (!rec) return false;
    await this.publisher.publish([message(rec)]);
    return true;
  }

  async pause(): Promise<void> {
    await this.shared.setPaused(true);
    await this.echo('pause');
  }

  async resume(): Promise<void> {
    await this.shared.setPaused(false);
    await this.echo('resume');
  }

  isPaused(): Promise<boolean> {
    return this.shared.isPaused();
  }

  workers(): Promise<WorkerInfo[]> {
    return this.shared.workers();
  }

  async controlWorker(workerId: string, command: WorkerCommand): Promise<void> {
    if (!(await this.shared.isLive(workerId))) throw new QTasksError(ErrorCodes.WORKER_NOT_FOUND, `No live worker ${workerId} on queue ${this.ctx.queue}`);
    await this.busConfirmed({ t: 'worker', workerId, command });
  }

  tryLock(key: string, ttlMs: number): Promise<boolean> {
    return this.shared.tryLock(key, ttlMs);
  }

  rateLimit(key: string, max: number, perMs: number): Promise<number> {
    return this.shared.rateLimit(key, max, perMs);
  }

  /** @internal announces a task's end found by a worker (a stall past `maxStalls`). */
  ended(record: TaskRecord, event: 'task:error'): void {
    this.bus({ t: 'end', ev: event, rec: record });
  }

  /** Publishes to every process of the queue; lost while disconnected (readers poll the storage too). */
  private bus(msg: BusMessage): void {
    const ch = this.link.channelsNow();
    if (!ch) return;
    try {
      ch.pub.publish(this.names.bus, '', Buffer.from(JSON.stringify(msg)));
    } catch {
      // the channel closed: readers find the end in the storage
    }
  }

  /** Publishes to every process of the queue once RabbitMQ holds the message. */
  private async busConfirmed(msg: BusMessage): Promise<void> {
    await this.publisher.confirmed(this.names.bus, '', Buffer.from(JSON.stringify(msg)), {});
  }

  /** Tells every worker to pause or resume and waits (up to a second) until this process heard it too. */
  private async echo(t: 'pause' | 'resume'): Promise<void> {
    const nonce = randomBytes(6).toString('hex');
    const heard = new Promise<void>((resolve) => {
      const timer = setTimeout(done, 1_000);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.echoes.set(nonce, done);
    });
    await this.busConfirmed({ t, nonce });
    await heard;
    this.echoes.delete(nonce);
  }

  private onBus(m: ConsumeMessage): void {
    let msg: BusMessage;
    try {
      msg = JSON.parse(m.content.toString('utf8')) as BusMessage;
    } catch {
      return;
    }
    const w = this.worker;
    switch (msg.t) {
      case 'end':
        this.emit(msg.ev, { record: msg.rec });
        if (msg.ev !== 'task:retry') this.notifier.ended(msg.rec);
        break;
      case 'progress':
        this.emit('task:progress', { id: msg.id, name: msg.name, progress: msg.progress });
        break;
      case 'item':
        this.notifier.item(msg.id, msg.index, msg.item);
        break;
      case 'cancel':
        w?.abort(msg.id, msg.reason);
        break;
      case 'pause':
      case 'resume':
        if (w && msg.t === 'pause' && !w.paused) {
          w.paused = true;
          void w.unsubscribe();
        } else if (w && msg.t === 'resume' && w.paused) {
          w.paused = false;
          const ch = this.link.channelsNow();
          if (ch) void w.subscribe(ch).catch(() => undefined);
        }
        this.echoes.get(msg.nonce)?.();
        break;
      case 'worker':
        if (w && msg.workerId === w.consumer.workerId) {
          w.consumer.control?.(msg.command);
          this.shared.beat(w.consumer.info()).catch(() => undefined);
          if (msg.command.op === 'concurrency') void w.resubscribe().catch(() => undefined); // prefetch = the new concurrency
          w.drain();
        }
        break;
    }
  }

  private emit<K extends keyof EngineEventMap>(event: K, payload: EngineEventMap[K]): void {
    if (this.ctx.listens(event)) this.ctx.emit(event, payload);
  }
}
