/**
 * The worker side of the Redis broker. Ends of attempts are batched per tick: one script call
 * records a batch of ends and claims the next batch (prefetched into a small local buffer, leases
 * already running; see {@link finishCall}). When the queue is empty it waits on the queue's marker
 * ({@link QueueWakeups}), never polling. Leases are renewed, and claims whose reply was lost are
 * found, by {@link LeaseRounds}. What the worker holds is kept by {@link ClaimedTasks}; finish
 * calls that fail are sent again by {@link FinishRetries}; who listens on the event channel is
 * tracked by {@link ChannelListeners}.
 */
import type { ChainableCommander } from 'ioredis';
import type { Consumer, Outcome, WorkerCommand } from '../../engine/broker';
import { BrokerUnavailableError } from '../../errors';
import { badRecordError } from '../bad-record';
import type { TaskRecord } from '../../task/task-record';
import { ChannelListeners } from './channel-listeners';
import { ClaimedTasks, ClaimSinks } from './claimed-tasks';
import { applyFinish, End, finishCall, finishReply, sendFinish } from './finish-batch';
import { FinishRetries } from './finish-retries';
import { fixedJson } from './record-codec';
import { IdleEntry } from './idle-entry';
import { endOf } from './task-end';
import { LeaseRounds } from './lease-rounds';
import { QueueWakeups } from './queue-wakeups';
import { isConnectionError } from './redis-link';
import type { RedisNotifier } from './redis-notifier';
import type { PartitionScope } from './partition-scope';
import { removeWorkerState, writeWorkerState } from './worker-state';

const MAX_INFLIGHT = 2;
/**
 * A claim of at least this many tasks, sent with no other call in flight, is split over two calls:
 * the worker runs the first call's tasks while Redis runs the second (one call for all of them
 * leaves Node and Redis waiting on each other in turn when tasks are short).
 */
const SPLIT_CLAIM = 16;

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
  /** A reconcile is due; it is sent on the blocking connection while no pop waits there. */
  private reconcileWanted = false;
  private readonly prefetch: number;
  /** An operator paused this worker: it claims nothing. */
  private paused = false;
  private readonly pumpFn = () => this.pump();
  private idleWaiters: (() => void)[] = [];
  /** A pipeline the next script calls join (see {@link kick}). */
  private pipe: ChainableCommander | undefined;
  private readonly listeners: ChannelListeners;
  private calls = 0;
  /**
   * A finish call went out and the event loop has not polled for I/O since: another waits until it
   * has (see {@link pump}). Two calls written together reach Redis in one read, and Redis writes
   * both replies once it has run both: the worker then runs both batches' tasks while Redis waits,
   * and sends both batches' ends while it waits in turn, each side idle half the time. Calls
   * written apart stay apart: Redis runs one while the worker runs the tasks the other brought.
   * Cleared by {@link pollWaitFn}, which runs while it holds.
   */
  private awaitingPoll = false;
  /** A call went out since {@link pollWaitFn} last looked (it waits for a poll after the latest call). */
  private sentSinceLook = false;
  /**
   * Runs in a check phase (setImmediate): when no call went out since it last looked, a poll phase
   * lies between the latest call and now, and the next call may go; else it looks again next turn.
   */
  private readonly pollWaitFn = () => {
    if (this.sentSinceLook) {
      this.sentSinceLook = false;
      setImmediate(this.pollWaitFn);
      return;
    }
    this.awaitingPoll = false;
    this.schedule();
  };
  /** Whether this worker may be among the idle workers (see {@link IdleEntry}). */
  private readonly idleEntry = new IdleEntry();
  /**
   * A finish call went out with the blocking pop right behind it (one write) and is not answered
   * yet. Both replies can be read in one chunk, and the pop's is handed over first (its promise
   * chain is shorter): what the pop brought then waits for the call's answer. A task run before it
   * would end while the call still counted as in flight, and be finished without a claim, which
   * takes the worker out of the idle workers: the next enqueue would queue its task instead of
   * handing it over (a wake-up and a claim call more).
   */
  private finishAhead = false;
  /** A pop answered while {@link finishAhead}: its inbox entry, or undefined for a wake-up. */
  private heldPop: { entry: string | undefined } | undefined;
  private readonly wakeups: QueueWakeups;
  private readonly leases: LeaseRounds;
  private readonly retries: FinishRetries;
  /** Where claimed tasks go that do not wait in the buffer. */
  private readonly sinks: ClaimSinks = {
    onBad: (rec, reason) => void this.finish(rec, { status: 'error', error: badRecordError(rec.id, reason) }).catch(() => undefined),
    onHandback: (rec) => void this.finish(rec, { status: 'handback' }).catch(() => undefined),
    onCancelled: (rec, reason) => void this.finish(rec, { status: 'cancel', reason }).catch(() => undefined),
  };

  constructor(
    private readonly storage: PartitionScope,
    private readonly consumer: Consumer,
    concurrency: number,
    private readonly notifier: RedisNotifier,
  ) {
    this.prefetch = Math.min(Math.max(concurrency, 1), 200);
    this.tasks = new ClaimedTasks(consumer.workerId, (message, fields) => storage.ctx.logger.warn(message, fields));
    this.wakeups = new QueueWakeups(
      storage,
      consumer.workerId,
      () => this.popped(undefined),
      (entry) => this.popped(entry),
    );
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
      reconcileDue: () => this.reconcileDue(),
    });
    this.retries = new FinishRetries(storage.ctx, {
      get closed() {
        return loop.closedFlag;
      },
      release: (id) => this.tasks.release(id),
      resend: (e) => this.send(0, [e]),
      reconcileDue: () => this.reconcileDue(),
    });
    this.listeners = new ChannelListeners(notifier);
  }

  get workerId(): string {
    return this.consumer.workerId;
  }

  start(): void {
    this.wakeups.start();
    this.leases.start();
    this.storage.link.cmd.on('ready', () => {
      // claims answered on the lost connection may have run: look (before the next pop)
      this.reconcileWanted = true;
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
    const want = this.unclaimed();
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
    if (claimed !== undefined) this.tasks.take(claimed, now, this.stopped || this.paused, this.sinks);
    if (!all) this.queueEmpty = false;
    this.notifyIdle();
    this.schedule();
  }

  /** The blocking pop returned: a handed-over task (its inbox entry) or a wake-up (undefined). */
  private popped(entry: string | undefined): void {
    if (this.finishAhead) {
      this.heldPop = { entry };
      return;
    }
    if (entry !== undefined) return this.handedOver(entry);
    this.queueEmpty = false;
    this.schedule();
  }

  /** The finish call ahead of the pop was answered: a pop held meanwhile is taken now. */
  private finishAnswered(): void {
    this.finishAhead = false;
    const held = this.heldPop;
    this.heldPop = undefined;
    if (held !== undefined) this.popped(held.entry);
  }

  /** An enqueue handed a task over and the blocking pop took it (see {@link ClaimedTasks.takeHanded}). */
  private handedOver(entry: string): void {
    if (this.tasks.takeHanded(entry, Date.now(), this.stopped || this.paused, this.sinks)) this.queueEmpty = false;
    this.schedule();
  }

  /** Claimed tasks waiting for a free slot. */
  get buffered(): number {
    return this.tasks.buffer.length;
  }

  /**
   * True when {@link kick} would claim now. The enqueue then leaves no marker (the claim right behind
   * it takes the new tasks), so this must not hold while the worker wants nothing: with a claim in
   * flight for every free slot, that call may have found the queue empty before the enqueue ran,
   * and the worker would block on a marker never set.
   */
  canKick(): boolean {
    return (
      this.queueEmpty &&
      !this.stopped &&
      !this.paused &&
      !this.closedFlag &&
      !this.pumping &&
      this.inflight < MAX_INFLIGHT &&
      this.storage.link.isReady &&
      this.consumer.capacity() > 0 &&
      this.unclaimed() > 0
    );
  }

  /** Tasks the worker could take beyond those it has or asked for (free slots plus prefetch). */
  private unclaimed(): number {
    return this.consumer.capacity() + this.prefetch - this.tasks.buffer.length - this.requested;
  }

  /** A consumer slot came free outside `finish`. */
  wake(): void {
    this.schedule();
  }

  /** Records how an attempt ended; batched with the other ends of this tick. */
  finish(rec: TaskRecord, outcome: Outcome): Promise<TaskRecord | undefined> {
    return new Promise((resolve, reject) => this.finishThen(rec, outcome, resolve, reject));
  }

  /** {@link finish} settled through `resolve` or `reject` (a worker's shared callbacks: no promise per end). */
  finishThen(rec: TaskRecord, outcome: Outcome, resolve: (r: TaskRecord | undefined) => void, reject: (e: Error) => void): void {
    let end: ReturnType<typeof endOf>;
    try {
      const d = this.tasks.data(rec.id) ?? fixedJson(rec);
      // a record whose data could not be decoded is announced by id only
      end = endOf(rec, d, outcome, this.tasks.hasItems(rec.id), this.listeners.publish && d !== '', this.storage.ctx.config.maxAttemptHistory);
    } catch (err) {
      reject(err as Error);
      return;
    }
    this.ends.push({ rec, args: end.args, stored: end.stored, resolve, reject });
    this.schedule();
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
      const was = this.paused;
      this.paused = true;
      for (const rec of this.tasks.drainBuffer()) void this.finish(rec, { status: 'handback' }).catch(() => undefined);
      // leave the idle workers, so that enqueues stop handing tasks over to this one; what was
      // handed over meanwhile (and what a blocking pop takes now) goes back to the queue
      if (!was && this.storage.link.isReady && !this.closedFlag && !this.stopped) this.send(0);
    } else if (command.op === 'resume') {
      this.paused = false;
    }
    writeWorkerState(this.storage, this.workerId, this.consumer.info());
    this.schedule();
  }

  /** Stops claiming; prefetched tasks go back to the queue. Running ones stay held until they end. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.wakeups.stop();
    while (this.inflight > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
    // leave the idle workers: tasks handed over meanwhile come back in this call, and go back
    if (this.storage.link.isReady && !this.closedFlag) {
      this.send(0);
      while (this.inflight > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
    }
    await Promise.all(this.tasks.drainBuffer().map((rec) => this.finish(rec, { status: 'handback' }).catch(() => undefined)));
  }

  /** Stops everything; ends not recorded by now reject `QTASKS_ERR_BROKER_UNAVAILABLE`. */
  async close(): Promise<void> {
    await this.stop();
    const deadline = Date.now() + this.storage.link.connectTimeoutMs;
    while ((this.ends.length > 0 || this.inflight > 0 || this.retries.pending > 0) && Date.now() < deadline) {
      this.schedule();
      await new Promise((r) => setTimeout(r, 10));
    }
    this.closedFlag = true;
    this.leases.stop();
    if (this.storage.link.isReady) await removeWorkerState(this.storage, this.workerId);
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
      if (this.reconcileWanted) {
        const conn = this.wakeups.connection;
        if (conn !== undefined) {
          this.reconcileWanted = false;
          this.leases.reconcile(conn);
        }
      }
      while (this.inflight < MAX_INFLIGHT) {
        // a second call waits until the event loop has polled (see awaitingPoll), unless an
        // enqueue's claim joins its pipeline (that enqueue leaves no marker: the claim must go)
        if (this.inflight > 0 && this.awaitingPoll && this.pipe === undefined) break;
        const want = this.stopped || this.paused ? 0 : Math.max(0, this.unclaimed());
        // an empty queue is claimed from again with the next ends, unless the blocking pop waits:
        // the marker then reports new tasks
        let claim = want > 0 && (!this.queueEmpty || (this.ends.length > 0 && !this.wakeups.blocking)) ? want : 0;
        if (claim >= SPLIT_CLAIM && this.inflight === 0 && !this.queueEmpty) claim = Math.ceil(claim / 2);
        if (this.ends.length === 0 && claim === 0) break;
        this.send(claim);
      }
      const want = this.stopped || this.paused ? 0 : consumer.capacity() - this.tasks.buffer.length - this.requested;
      if (want > 0 && this.queueEmpty && this.inflight === 0 && !this.stopped) this.wakeups.block();
    } finally {
      this.pumping = false;
    }
  }

  /** Sends the ends of this tick (or `batch`) and claims up to `want` more in one finish call. */
  private send(want: number, batch: End[] = this.takeEnds()): void {
    const s = this.storage;
    const now = Date.now();
    // expired ids leave the finished lists at the pace tasks end (small batches: every 8th call)
    const trim = batch.length >= 8 ? batch.length * 2 : (++this.calls & 7) === 0 ? 64 : 0;
    const listening = this.listeners.listening(s.link.isCluster, batch.length);
    const asking = listening !== 'c';
    const { keys, args } = finishCall(s, { workerId: this.workerId, listening, idleEntry: this.idleEntry.mayExist }, batch, want, trim, now);
    const idleToken = this.idleEntry.sent(want);
    this.inflight++;
    this.sentSinceLook = true;
    if (!this.awaitingPoll) {
      this.awaitingPoll = true;
      setImmediate(this.pollWaitFn);
    }
    // any call may claim: it takes the tasks handed over to the worker's inbox
    this.leases.claimSent(now);
    this.requested += want;
    // a worker about to be idle sends the call and its next pop in one write on its blocking
    // connection (the pop runs right behind the call, which entered it idle)
    const blocker = this.pipe === undefined && want > 0 && this.queueEmpty && !this.stopped && !this.paused && this.inflight === 1 ? this.wakeups.connection : undefined;
    const call = sendFinish(s.link, keys, args, blocker, this.pipe, this.wakeups);
    if (blocker !== undefined) this.finishAhead = true;
    call.then(
      (res) => {
        this.inflight--;
        this.leases.answered(now);
        this.requested -= want;
        this.idleEntry.answered(want, idleToken);
        const { flags, claimed, next, remote, ls } = finishReply(res);
        if (remote >= 0 && asking) this.listeners.answered(remote, ls);
        applyFinish(batch, flags, (id) => this.tasks.release(id), (rec) => this.notifier.deliver(rec));
        if (want > 0) this.queueEmpty = claimed.length / 3 < want;
        this.tasks.take(claimed, now, this.stopped || this.paused, this.sinks);
        this.wakeups.armDue(next);
        if (blocker !== undefined) this.finishAnswered();
        this.notifyIdle();
        this.schedule();
      },
      (err: Error) => {
        this.inflight--;
        this.leases.answered(now);
        this.requested -= want;
        this.idleEntry.failed(want);
        if (isConnectionError(err) && !this.closedFlag) this.ends = batch.concat(this.ends);
        else this.retries.failed(batch, err);
        if (blocker !== undefined) this.finishAnswered();
        this.notifyIdle();
        this.afterReady();
      },
    );
  }

  private takeEnds(): End[] {
    const batch = this.ends;
    this.ends = [];
    return batch;
  }

  /** A reconcile is due: it is sent on the blocking connection while no pop waits there. */
  private reconcileDue(): void {
    this.reconcileWanted = true;
    this.schedule();
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
