/**
 * The worker side of the Redis broker. Ends of attempts are batched per tick: one script call
 * records a batch of ends and claims the next batch (prefetched into a small local buffer, leases
 * already running; see {@link finishCall}). When the queue is empty it waits on the queue's marker
 * ({@link QueueWakeups}), never polling. Leases are renewed, and claims whose reply was lost are
 * found, by {@link LeaseRounds}. What the worker holds is kept by {@link ClaimedTasks}.
 */
import type { ChainableCommander } from 'ioredis';
import type { Consumer, Outcome, WorkerCommand } from '../../engine/broker';
import { BrokerUnavailableError } from '../../errors';
import { badRecordError } from '../bad-record';
import type { TaskRecord } from '../../task/task-record';
import { ClaimedTasks, ClaimSinks } from './claimed-tasks';
import { applyFinish, End, finishCall, finishReply } from './finish-batch';
import { fixedJson } from './record-codec';
import { endOf } from './task-end';
import { LeaseRounds } from './lease-rounds';
import { QueueWakeups } from './queue-wakeups';
import { isConnectionError } from './redis-link';
import type { RedisNotifier } from './redis-notifier';
import type { RedisStorage } from './redis-storage';

const MAX_INFLIGHT = 2;

/** Claims, runs (through the consumer) and finishes tasks of one queue for one worker. */
export class RedisConsumerLoop {
  private readonly tasks: ClaimedTasks;
  private ends: End[] = [];
  private inflight = 0;
  private requested = 0;
  private queueEmpty = false;
  private scheduled = false;
  private pumping = false;
  private stopped = false;
  private closedFlag = false;
  private waitingReady = false;
  private readonly prefetch: number;
  /** An operator paused this worker: it claims nothing. */
  private paused = false;
  private readonly pumpFn = () => this.pump();
  private idleWaiters: (() => void)[] = [];
  /** A pipeline the next script calls join (see {@link kick}). */
  private pipe: ChainableCommander | undefined;
  /** Other processes listening on the event channel, as of the last finish call. */
  private remote = 1;
  private calls = 0;
  private readonly wakeups: QueueWakeups;
  private readonly leases: LeaseRounds;
  /** Where claimed tasks go that do not wait in the buffer. */
  private readonly sinks: ClaimSinks = {
    onBad: (rec, reason) => void this.finish(rec, { status: 'error', error: badRecordError(rec.id, reason) }).catch(() => undefined),
    onHandback: (rec) => void this.finish(rec, { status: 'handback' }).catch(() => undefined),
    onCancelled: (rec, reason) => void this.finish(rec, { status: 'cancel', reason }).catch(() => undefined),
  };

  constructor(
    private readonly storage: RedisStorage,
    private readonly consumer: Consumer,
    concurrency: number,
    private readonly notifier: RedisNotifier,
  ) {
    this.prefetch = Math.min(Math.max(concurrency, 1), 200);
    this.tasks = new ClaimedTasks(consumer.workerId, (message, fields) => storage.ctx.logger.warn(message, fields));
    this.wakeups = new QueueWakeups(storage, () => {
      this.queueEmpty = false;
      this.schedule();
    });
    const loop = this;
    this.leases = new LeaseRounds(storage, {
      workerId: consumer.workerId,
      get closed() {
        return loop.closedFlag;
      },
      info: () => consumer.info(),
      heldIds: () => this.tasks.ids(),
      heldCount: () => this.tasks.size,
      onCancel: (id, reason) => this.onCancel(id, this.workerId, reason),
      onMoved: () => {
        if (this.stopped) return;
        this.queueEmpty = false;
        this.schedule();
      },
    });
  }

  get workerId(): string {
    return this.consumer.workerId;
  }

  start(): void {
    this.wakeups.start();
    this.leases.start();
    this.storage.link.cmd.on('ready', () => {
      // claims answered on the lost connection may have run: before claiming again, look
      this.leases.reconcile();
      this.queueEmpty = false;
      this.schedule();
    });
    this.schedule();
  }

  /** Tasks were just enqueued by this process: an idle worker claims at once (pipelined). */
  kick(pipe?: ChainableCommander): void {
    if (!this.canKick()) return;
    this.queueEmpty = false;
    this.pipe = pipe;
    try {
      this.pump();
    } finally {
      this.pipe = undefined;
    }
  }

  /**
   * Reserves the claim of an idle worker for tasks this process enqueues now (claimed by the
   * enqueue script itself); returns how many it may take, 0 when it is not idle.
   */
  reserveDirect(now: number): number {
    if (!this.canKick()) return 0;
    const want = this.consumer.capacity() + this.prefetch - this.tasks.buffer.length - this.requested;
    if (want <= 0) return 0;
    this.inflight++;
    this.leases.claimSent(now);
    this.requested += want;
    return want;
  }

  /** The enqueue reserved by {@link reserveDirect} answered (`all`: it claimed every task it added). */
  directClaimed(claimed: string[] | undefined, now: number, want: number, all: boolean): void {
    this.inflight--;
    this.leases.answered(now);
    this.requested -= want;
    if (claimed !== undefined) this.tasks.take(claimed, now, this.stopped, this.sinks);
    if (!all) this.queueEmpty = false;
    this.notifyIdle();
    this.schedule();
  }

  /** True when {@link kick} would claim now. */
  canKick(): boolean {
    return this.queueEmpty && !this.stopped && !this.paused && !this.closedFlag && !this.pumping && this.inflight < MAX_INFLIGHT && this.storage.link.isReady && this.consumer.capacity() > 0;
  }

  /** A consumer slot came free outside `finish`. */
  wake(): void {
    this.schedule();
  }

  /** Records how an attempt ended; batched with the other ends of this tick. */
  finish(rec: TaskRecord, outcome: Outcome): Promise<TaskRecord | undefined> {
    return new Promise((resolve, reject) => {
      const d = this.tasks.data(rec.id) ?? fixedJson(rec);
      // a record whose data could not be decoded is announced by id only
      const end = endOf(rec, d, outcome, this.tasks.hasItems(rec.id), this.remote > 0 && d !== '', this.storage.ctx.config.maxAttemptHistory);
      this.ends.push({ rec, args: end.args, stored: end.stored, resolve, reject });
      this.schedule();
    });
  }

  /** A running task of this worker streamed an item (its items then expire with it). */
  itemPushed(id: string): void {
    this.tasks.itemPushed(id);
  }

  /** A cancel request for a running task (from the queue channel or a lease renewal). */
  onCancel(id: string, workerId: string, reason: string | undefined): void {
    if (workerId !== this.workerId || this.closedFlag) return;
    const rec = this.tasks.record(id);
    if (rec === undefined) return this.tasks.cancelEarly(id, reason);
    if (this.tasks.unbuffer(rec)) void this.finish(rec, { status: 'cancel', reason }).catch(() => undefined);
    else this.consumer.abort(id, reason);
  }

  /**
   * An operator's command for this worker: the consumer applies it; a pause also hands the
   * prefetched tasks back (a paused worker holds nothing it does not run). The new state is
   * written at once so that `workers()` shows it.
   */
  control(command: WorkerCommand): void {
    this.consumer.control?.(command);
    if (command.op === 'pause' || command.op === 'stop') {
      this.paused = true;
      for (const rec of this.tasks.drainBuffer()) void this.finish(rec, { status: 'handback' }).catch(() => undefined);
    } else if (command.op === 'resume') {
      this.paused = false;
    }
    const k = this.storage.keys;
    const now = Date.now();
    const beat = JSON.stringify({ ...this.consumer.info(), id: this.workerId, lastSeenAt: now });
    void this.storage.call('worker state', (r) => r.multi().hset(k.workers, this.workerId, beat).zadd(k.seen, now, this.workerId).exec()).catch(() => undefined);
    this.schedule();
  }

  /** Stops claiming; prefetched tasks go back to the queue. Running ones stay held until they end. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.wakeups.stop();
    while (this.inflight > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
    await Promise.all(this.tasks.drainBuffer().map((rec) => this.finish(rec, { status: 'handback' }).catch(() => undefined)));
  }

  /** Stops everything; ends not recorded by now reject `QTASKS_ERR_BROKER_UNAVAILABLE`. */
  async close(): Promise<void> {
    await this.stop();
    const deadline = Date.now() + this.storage.link.connectTimeoutMs;
    while ((this.ends.length > 0 || this.inflight > 0) && Date.now() < deadline) {
      this.schedule();
      await new Promise((r) => setTimeout(r, 10));
    }
    this.closedFlag = true;
    this.leases.stop();
    const k = this.storage.keys;
    if (this.storage.link.isReady) {
      await this.storage.link.cmd.multi().hdel(k.workers, this.workerId).zrem(k.seen, this.workerId).exec().catch(() => undefined);
    }
    const left = this.ends;
    this.ends = [];
    for (const e of left) e.reject(new BrokerUnavailableError('Recording the end of a task: Redis could not be reached before close'));
  }

  // ---- the loop ----

  private schedule(): void {
    if (this.scheduled || this.closedFlag) return;
    this.scheduled = true;
    queueMicrotask(this.pumpFn);
  }

  private pump(): void {
    this.scheduled = false;
    if (this.pumping || this.closedFlag) return;
    this.pumping = true;
    try {
      const consumer = this.consumer;
      const buffer = this.tasks.buffer;
      while (buffer.length > 0 && !this.stopped && consumer.capacity() > 0) consumer.run(buffer.shift()!);
      if (!this.storage.link.isReady) {
        this.afterReady();
        return;
      }
      while (this.inflight < MAX_INFLIGHT) {
        const want = this.stopped || this.paused ? 0 : Math.max(0, consumer.capacity() + this.prefetch - this.tasks.buffer.length - this.requested);
        // an empty queue is claimed from again with the next ends, unless the blocking pop waits:
        // the marker then reports new tasks
        const claim = want > 0 && (!this.queueEmpty || (this.ends.length > 0 && !this.wakeups.blocking)) ? want : 0;
        if (this.ends.length === 0 && claim === 0) break;
        this.send(claim);
      }
      const want = this.stopped || this.paused ? 0 : consumer.capacity() - this.tasks.buffer.length - this.requested;
      if (want > 0 && this.queueEmpty && this.inflight === 0 && !this.stopped) this.wakeups.block();
    } finally {
      this.pumping = false;
    }
  }

  /** Sends the ends of this tick and claims up to `want` more in one finish call. */
  private send(want: number): void {
    const s = this.storage;
    const batch = this.ends;
    this.ends = [];
    const now = Date.now();
    // expired ids leave the finished lists at the pace tasks end (small batches: every 8th call)
    const trim = batch.length >= 8 ? batch.length * 2 : (++this.calls & 7) === 0 ? 64 : 0;
    const listening = s.link.isCluster ? 'c' : this.notifier.hasEvents ? '1' : '';
    const { keys, args } = finishCall(s, { workerId: this.workerId, listening }, batch, want, trim, now);
    this.inflight++;
    if (want > 0) this.leases.claimSent(now);
    this.requested += want;
    (this.pipe ? s.link.scriptOn(this.pipe, 'finish') : s.link.script('finish'))(keys, args).then(
      (res) => {
        this.inflight--;
        if (want > 0) this.leases.answered(now);
        this.requested -= want;
        const { flags, claimed, next, remote } = finishReply(res);
        if (remote >= 0) this.remote = remote;
        applyFinish(batch, flags, (id) => this.tasks.release(id), (rec) => this.notifier.deliver(rec));
        if (want > 0) this.queueEmpty = claimed.length / 3 < want;
        this.tasks.take(claimed, now, this.stopped, this.sinks);
        this.wakeups.armDue(next);
        this.notifyIdle();
        this.schedule();
      },
      (err: Error) => {
        this.inflight--;
        if (want > 0) this.leases.answered(now);
        this.requested -= want;
        if (isConnectionError(err) && !this.closedFlag) this.ends = batch.concat(this.ends);
        else {
          s.ctx.logger.error('Recording task ends failed', { error: err });
          for (const e of batch) e.reject(err);
        }
        this.notifyIdle();
        this.afterReady();
      },
    );
  }

  private afterReady(): void {
    if (this.waitingReady || this.closedFlag) return;
    this.waitingReady = true;
    const again = () => {
      this.waitingReady = false;
      this.queueEmpty = false;
      this.schedule();
    };
    // a call failed on a connection that still says ready: it is closing (retrying at once would
    // spin without letting it close), look again shortly
    if (this.storage.link.isReady) setTimeout(again, 10);
    else void this.storage.link.whenReady().then(again);
  }

  private notifyIdle(): void {
    if (this.inflight > 0) return;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }
}
