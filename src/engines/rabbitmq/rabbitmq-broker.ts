/**
 * RabbitMQ broker: task ids travel through a durable AMQP queue (publisher confirms, manual acks,
 * a prefetch of four times the concurrency, see `prefetchOf`) while records, results, stream items and shared state live in the storage
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
import { declareTopology, type EndEvent, message, outcomePatch } from './rabbit-outcome';
import type { TaskRecord, TaskStatus } from '../../task/task-record';
import { AmqpLink, LinkChannels } from './amqp-link';
import { RabbitNames, RabbitMQBrokerOptions } from './rabbitmq-options';
import { RabbitNotifier } from './rabbit-notifier';
import { HEARTBEAT_MS, RabbitShared } from './rabbit-shared';
import { RabbitWorker, WorkerHost } from './rabbit-worker';
import { RabbitPublisher, TaskMessage } from './rabbit-publisher';
import { BusMessage, decodeBus, encodeBus, RabbitBus } from './rabbit-bus';
import { RabbitListeners } from './rabbit-listeners';
import { listensToTaskEvents } from '../shared/task-events';

/** The status an end takes a task from (one list for every end: the writer keeps its text). */
const RUNNING: readonly TaskStatus[] = ['process'];

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
  private busOut!: RabbitBus;
  private listeners!: RabbitListeners;
  private publisher!: RabbitPublisher;
  private worker: RabbitWorker | undefined;
  private beatTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly echoes = new Map<string, () => void>();
  private closing: Promise<void> | undefined;

  constructor(private readonly options: RabbitMQBrokerOptions) {
    super();
    if (typeof options?.url !== 'string' || options.url === '') {
      throw new QTasksError(ErrorCodes.BAD_OPTION, 'rabbitmqBroker({ url }) needs an AMQP URL, e.g. amqp://guest:guest@127.0.0.1:5672');
    }
  }

  /** A broker (its own connection, same options) for another queue of the same app. */
  sibling(): RabbitMQBroker {
    return new RabbitMQBroker(this.options);
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
    // queued tasks live only in the storage: a purge removes them there
    this.writer.attach?.();
    this.names = new RabbitNames(this.options.prefix ?? ctx.config.prefix, ctx.queue);
    this.notifier = new RabbitNotifier(storage, { listen: () => this.listeners.listen(), pollMs: (slow) => this.listeners.pollMs(slow) });
    this.shared = new RabbitShared(storage);
    const timeout = this.options.connectTimeoutMs ?? ctx.config.connectTimeoutMs;
    this.link = new AmqpLink(this.options.url, timeout, ctx.logger, `qtasks ${this.names.queue}`, (ch) => this.setup(ch));
    this.publisher = new RabbitPublisher(this.link, this.names, this.options, timeout);
    this.busOut = new RabbitBus(this.link, this.names.bus);
    this.listeners = new RabbitListeners(
      this.busOut.origin,
      () => this.appListens(),
      () => this.notifier.waits(),
      (o) => this.busOut.send({ t: 'listen', o }),
      () => this.busOut.send({ t: 'ask' }),
    );
    await this.link.start();
    this.listenersChanged();
  }

  /** Someone here listens to task events now: other processes are asked to publish theirs. */
  listenersChanged(): void {
    if (this.listeners !== undefined && this.appListens()) this.listeners.listen();
  }

  /** True while an app listener of this process listens to a task event. */
  private appListens(): boolean {
    return listensToTaskEvents(this.ctx);
  }

  /** Declares the topology and subscribes to the bus (and the work queue when consuming), on each connection. */
  private async setup(ch: LinkChannels): Promise<void> {
    const n = this.names;
    await declareTopology(ch, n, this.options.queueType === 'quorum', this.publisher.maxPriority);
    const q = await ch.sub.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
    await ch.sub.bindQueue(q.queue, n.bus, '');
    await ch.sub.consume(q.queue, (m) => m && this.onBus(m), { noAck: true });
    this.listeners.joined();
    if (this.worker) {
      this.worker.paused = await this.shared.isPaused();
      await this.worker.subscribe(ch);
    }
  }

  close(): Promise<void> {
    return (this.closing ??= (async () => {
      clearInterval(this.beatTimer);
      clearInterval(this.sweepTimer);
      if (!this.link) return;
      if (this.worker) await this.worker.stop();
      this.busOut.flush();
      this.listeners.close();
      this.notifier.close();
      await this.link.close();
    })());
  }

  async enqueue(records: TaskRecord[]): Promise<TaskRecord[]> {
    // a producer may ask for results later (a record dropped at its end is known by its event only)
    this.listeners.listen();
    const stored = await this.writer.insert(records);
    // an id that existed keeps its record; a copy of a message published twice is dropped at claim
    const fresh: TaskMessage[] = [];
    stored.forEach((s, i) => {
      if ((s.status === 'new' || s.status === 'delayed') && s.createdAt === records[i].createdAt) fresh.push(message(s));
    });
    await this.publisher.publish(fresh);
    return stored;
  }

  /**
   * `addTask(…, { transaction })` is refused: RabbitMQ and the storage never commit together, so a
   * task published for a transaction that then rolls back would still run (and one held back until
   * a commit nobody reports would never run).
   */
  override enqueueWith(_transaction: unknown, _records: TaskRecord[]): Promise<TaskRecord[]> {
    return Promise.reject(
      new QTasksError(
        ErrorCodes.UNSUPPORTED,
        `addTask option transaction: the RabbitMQ broker cannot enqueue inside a database transaction (RabbitMQ does not take part in it, whatever the storage); call addTask after your COMMIT, or use the PostgreSQL engine for broker and storage`,
      ),
    );
  }

  async consume(consumer: Consumer): Promise<void> {
    this.worker = new RabbitWorker(this, consumer);
    await this.shared.beat(consumer.info());
    this.beatTimer = setInterval(() => {
      if (this.worker) this.shared.beat(this.worker.consumer.info()).catch(() => undefined);
    }, HEARTBEAT_MS);
    this.beatTimer.unref();
    // what the storage cannot let expire by itself is deleted by the consuming workers
    const sweep = this.writer.sweep?.bind(this.writer);
    if (sweep) {
      this.sweepTimer = setInterval(() => {
        sweep().catch((err: Error) => this.ctx.logger.warn('Deleting expired records failed', { error: err.message }));
      }, Math.max(50, this.ctx.config.leaseMs / 2));
      this.sweepTimer.unref();
    }
    this.worker.paused = await this.shared.isPaused();
    const ch = this.link.channelsNow();
    if (ch) await this.worker.subscribe(ch);
  }

  wake(): void {
    this.worker?.drain();
  }

  async stopConsuming(): Promise<void> {
    clearInterval(this.beatTimer);
    clearInterval(this.sweepTimer);
    const w = this.worker;
    if (!w) return;
    await w.stop();
    await this.shared.leave(w.consumer.workerId).catch(() => undefined);
  }

  /**
   * Not an async function: the usual end is one storage write and one reaction ({@link endWritten});
   * a patch that cannot be written (a result that is not JSON) rejects as before.
   */
  finish(record: TaskRecord, outcome: Outcome): Promise<TaskRecord | undefined> {
    try {
      const { patch, ev } = outcomePatch(record, outcome, Date.now(), this.ctx.config.maxAttemptHistory);
      const keep = retentionOf(outcome.status === 'success' ? record.removeOnComplete : outcome.status === 'error' ? record.removeOnFail : undefined);
      // the slot is free already: the next held message is claimed in the same storage write
      this.worker?.drain();
      // the retention (a drop at the end included) is written with the end: no reader finds the task
      // ended before its retention applied
      return this.writer.transition(record.id, RUNNING, patch, keep, record).then((stored) => this.endWritten(record, outcome, ev, stored));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  /** The end of `record` was written (`stored`, undefined when it was no longer `process`): its event, its next message, its ack. */
  private endWritten(record: TaskRecord, outcome: Outcome, ev: EndEvent | undefined, stored: TaskRecord | undefined): TaskRecord | undefined | Promise<TaskRecord | undefined> {
    // a retry of a task whose stored record cannot be queued again ends it error instead
    if (stored && ev === 'task:retry' && stored.status === 'error') {
      this.bus({ t: 'end', ev: 'task:error', rec: stored });
      this.worker?.done(record.id, 'dead');
      return stored;
    }
    if (stored && ev) {
      // a record dropped at its end is gone before anyone hears of the end: the event carries it
      // to every waiting handle (and this process keeps it a while for result() called later);
      // the event before a retry's next message: that attempt may end before its message is confirmed
      this.bus({ t: 'end', ev, rec: stored });
    }
    if (stored && outcome.status === 'retry') {
      this.busOut.flush();
      return this.publisher.publish([message(stored)]).then(() => {
        this.worker?.done(record.id, 'ack');
        return stored;
      });
    }
    this.worker?.done(record.id, outcome.status === 'handback' && stored ? 'requeue' : 'ack');
    return stored;
  }

  async cancel(id: string, reason?: string): Promise<boolean> {
    // a status that changes under the cancel (a claim, a flow's parent queued when its children
    // ended) is read again: the cancel applies to what the task became
    for (let tries = 0; tries < 5; tries++) {
      const rec = await this.writer.transition(id, ['new', 'delayed', 'retry'], { status: 'cancel', cancelReason: reason, finishedAt: Date.now() });
      if (rec) {
        this.bus({ t: 'end', ev: 'task:cancel', rec });
        return true;
      }
      const cur = await this.storage.get(id);
      if (cur?.status === 'waiting' && cur.workerId === undefined) {
        // a flow's parent whose children run: nothing is published for it yet
        const ended = await this.writer.transition(id, ['waiting'], { status: 'cancel', cancelReason: reason, finishedAt: Date.now() });
        if (ended) {
          this.bus({ t: 'end', ev: 'task:cancel', rec: ended });
          return true;
        }
        continue;
      }
      if (cur?.status === 'new' || cur?.status === 'delayed' || cur?.status === 'retry') continue;
      if (cur?.status !== 'process' && cur?.status !== 'waiting') return false;
      // the claim seen is named: its worker may hear this before the claim's own reply
      await this.busConfirmed({ t: 'cancel', id, reason, w: cur.workerId, s: cur.startedAt });
      return true;
    }
    return false;
  }

  async release(id: string): Promise<boolean> {
    const cur = await this.storage.get(id);
    if (cur?.status !== 'waiting' || cur.workerId !== undefined) return false;
    const stored = await this.writer.transition(id, ['waiting'], { status: 'new' });
    if (stored === undefined) return false;
    await this.publisher.publish([message(stored)]);
    return true;
  }

  async setWaiting(record: TaskRecord, waiting: boolean): Promise<boolean> {
    const [from, to] = waiting ? (['process', 'waiting'] as const) : (['waiting', 'process'] as const);
    const stored = await this.writer.transition(record.id, [from], { status: to });
    if (stored === undefined) return false;
    record.status = to;
    await this.worker?.waitingChanged(waiting ? 1 : -1).catch(() => undefined);
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

  /**
   * Items in one write where the storage has `appendItems` (else one `appendItem` each); readers
   * hear one bus message per item, as from `pushItem`, sent together at the end of the turn.
   */
  async pushItems(record: TaskRecord, items: unknown[]): Promise<void> {
    const writer = this.writer;
    if (writer.appendItems === undefined) {
      for (const item of items) await this.pushItem(record, item);
      return;
    }
    const first = await writer.appendItems(record.id, items);
    if (first < 0) return;
    for (let i = 0; i < items.length; i++) this.bus({ t: 'item', id: record.id, index: first + i, item: items[i] });
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

  /** @internal announces a task's end found by a worker (a stall past `maxStalls`, a cancel heard before its claim's reply). */
  ended(record: TaskRecord, event: 'task:error' | 'task:cancel'): void {
    this.bus({ t: 'end', ev: event, rec: record });
  }

  /**
   * Handles an event here at once, and publishes it to the other processes of the queue (with the
   * others of this turn) when one of them listens.
   */
  private bus(msg: BusMessage): void {
    if (this.listeners.othersListen()) this.busOut.send(msg);
    this.onBusMessage(msg);
  }

  /** Publishes to every process of the queue once RabbitMQ holds the message. */
  private async busConfirmed(msg: BusMessage): Promise<void> {
    await this.publisher.confirmed(this.names.bus, '', encodeBus(msg), {});
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
    // this process's own batch: handled when sent
    if (m.properties.appId === this.busOut.origin) return;
    for (const msg of decodeBus(m.content, this.busOut.origin)) this.onBusMessage(msg);
  }

  private onBusMessage(msg: BusMessage): void {
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
        w?.abort(msg.id, msg.reason, msg.w, msg.s);
        break;
      case 'listen':
        if (typeof msg.o === 'string') this.listeners.heardFrom(msg.o);
        break;
      case 'ask':
        this.listeners.asked();
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
          if (msg.command.op === 'concurrency') void w.resubscribe().catch(() => undefined); // prefetch of the new concurrency
          w.drain();
        }
        break;
    }
  }

  private emit<K extends keyof EngineEventMap>(event: K, payload: EngineEventMap[K]): void {
    if (this.ctx.listens(event)) this.ctx.emit(event, payload);
  }
}
