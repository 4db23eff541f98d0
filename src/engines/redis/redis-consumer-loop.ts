/**
 * The worker side of the Redis broker. Ends of attempts are batched per tick: one script call
 * records a batch of ends and claims the next batch (prefetched into a small local buffer, leases
 * already running). When the queue is empty it blocks on the queue's marker (BZPOPMIN) on its own
 * connection, never polling. Leases of held tasks are renewed together every leaseMs/2 by a script
 * that also sweeps expired leases of every worker. A claim whose reply was lost with the connection
 * is found by {@link RedisConsumerLoop.reconcile} (after a reconnect and at each lease round).
 */
import type { ChainableCommander, Redis } from 'ioredis';
import type { Consumer, Outcome, WorkerCommand } from '../../engine/broker';
import { BrokerUnavailableError, ErrorCodes } from '../../errors';
import { badRecordError } from '../bad-record';
import type { TaskRecord } from '../../task/task-record';
import { claimedRecord, fixedJson } from './record-codec';
import { endOf } from './task-end';
import { renewLeases } from './lease-renewal';
import { reconcileHeld } from './held-reconcile';
import { isConnectionError } from './redis-link';
import type { RedisNotifier } from './redis-notifier';
import type { RedisStorage } from './redis-storage';

/** A task this worker claimed, with its fixed fields' JSON as stored. */
interface Held {
  rec: TaskRecord;
  d: string;
}

interface End {
  rec: TaskRecord;
  args: string[];
  /** The record as stored once recorded; undefined for a handback. */
  stored: TaskRecord | undefined;
  resolve: (r: TaskRecord | undefined) => void;
  reject: (e: Error) => void;
}

const MAX_INFLIGHT = 2;
const SAFETY_BLOCK_S = 5;

/** Claims, runs (through the consumer) and finishes tasks of one queue for one worker. */
export class RedisConsumerLoop {
  private readonly held = new Map<string, Held>();
  private buffer: TaskRecord[] = [];
  private ends: End[] = [];
  private readonly withItems = new Set<string>();
  /** Cancel requests seen before the claim that they are about arrived. */
  private readonly earlyCancels = new Map<string, string | undefined>();
  private inflight = 0;
  private requested = 0;
  private queueEmpty = false;
  private scheduled = false;
  private pumping = false;
  private stopped = false;
  private closed = false;
  private blocking = false;
  private blocker: Redis | undefined;
  private leaseTimer: NodeJS.Timeout | undefined;
  private dueTimer: NodeJS.Timeout | undefined;
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
  /** When each call on the way that may claim was sent (its claims' start time is not earlier). */
  private readonly sentAt: number[] = [];

  constructor(
    private readonly storage: RedisStorage,
    private readonly consumer: Consumer,
    concurrency: number,
    private readonly notifier: RedisNotifier,
  ) {
    this.prefetch = Math.min(Math.max(concurrency, 1), 200);
  }

  get workerId(): string {
    return this.consumer.workerId;
  }

  start(): void {
    this.blocker = this.storage.link.blocker();
    const every = Math.max(20, Math.floor(this.storage.ctx.config.leaseMs / 2));
    this.leaseTimer = setInterval(() => this.renew(), every);
    void this.storage.link.whenReady().then(() => this.renew());
    this.storage.link.cmd.on('ready', () => {
      // claims answered on the lost connection may have run: before claiming again, look
      this.reconcile();
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
    const want = this.consumer.capacity() + this.prefetch - this.buffer.length - this.requested;
    if (want <= 0) return 0;
    this.inflight++;
    this.sentAt.push(now);
    this.requested += want;
    return want;
  }

  /** The enqueue reserved by {@link reserveDirect} answered (`all`: it claimed every task it added). */
  directClaimed(claimed: string[] | undefined, now: number, want: number, all: boolean): void {
    this.inflight--;
    this.answered(now);
    this.requested -= want;
    if (claimed !== undefined) this.took(claimed, now, 0);
    if (!all) this.queueEmpty = false;
    this.notifyIdle();
    this.schedule();
  }

  /** True when {@link kick} would claim now. */
  canKick(): boolean {
    return this.queueEmpty && !this.stopped && !this.paused && !this.closed && !this.pumping && this.inflight < MAX_INFLIGHT && this.storage.link.isReady && this.consumer.capacity() > 0;
  }

  /** A consumer slot came free outside `finish`. */
  wake(): void {
    this.schedule();
  }

  /** Records how an attempt ended; batched with the other ends of this tick. */
  finish(rec: TaskRecord, outcome: Outcome): Promise<TaskRecord | undefined> {
    return new Promise((resolve, reject) => {
      const d = this.held.get(rec.id)?.d ?? fixedJson(rec);
      // a record whose data could not be decoded is announced by id only
      const end = endOf(rec, d, outcome, this.withItems.has(rec.id), this.remote > 0 && d !== '', this.storage.ctx.config.maxAttemptHistory);
      this.ends.push({ rec, args: end.args, stored: end.stored, resolve, reject });
      this.schedule();
    });
  }

  /** A running task of this worker streamed an item (its items then expire with it). */
  itemPushed(id: string): void {
    this.withItems.add(id);
  }

  /** A cancel request for a running task (from the queue channel or a lease renewal). */
  onCancel(id: string, workerId: string, reason: string | undefined): void {
    if (workerId !== this.workerId || this.closed) return;
    const rec = this.held.get(id)?.rec;
    if (rec === undefined) {
      this.earlyCancels.set(id, reason);
      setTimeout(() => this.earlyCancels.delete(id), 5_000).unref();
      return;
    }
    const at = this.buffer.indexOf(rec);
    if (at >= 0) {
      this.buffer.splice(at, 1);
      void this.finish(rec, { status: 'cancel', reason }).catch(() => undefined);
    } else {
      this.consumer.abort(id, reason);
    }
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
      const back = this.buffer;
      this.buffer = [];
      for (const rec of back) void this.finish(rec, { status: 'handback' }).catch(() => undefined);
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
    if (this.dueTimer) clearTimeout(this.dueTimer);
    this.dueTimer = undefined;
    if (this.blocker) this.storage.link.release(this.blocker);
    this.blocker = undefined;
    while (this.inflight > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
    const back = this.buffer;
    this.buffer = [];
    await Promise.all(back.map((rec) => this.finish(rec, { status: 'handback' }).catch(() => undefined)));
  }

  /** Stops everything; ends not recorded by now reject `QTASKS_ERR_BROKER_UNAVAILABLE`. */
  async close(): Promise<void> {
    await this.stop();
    const deadline = Date.now() + this.storage.link.connectTimeoutMs;
    while ((this.ends.length > 0 || this.inflight > 0) && Date.now() < deadline) {
      this.schedule();
      await new Promise((r) => setTimeout(r, 10));
    }
    this.closed = true;
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    this.leaseTimer = undefined;
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
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    queueMicrotask(this.pumpFn);
  }

  private pump(): void {
    this.scheduled = false;
    if (this.pumping || this.closed) return;
    this.pumping = true;
    try {
      const consumer = this.consumer;
      while (this.buffer.length > 0 && !this.stopped && consumer.capacity() > 0) consumer.run(this.buffer.shift()!);
      if (!this.storage.link.isReady) {
        this.afterReady();
        return;
      }
      while (this.inflight < MAX_INFLIGHT) {
        const want = this.stopped || this.paused ? 0 : Math.max(0, consumer.capacity() + this.prefetch - this.buffer.length - this.requested);
        // an empty queue is claimed from again with the next ends, unless the blocking pop waits:
        // the marker then reports new tasks
        const claim = want > 0 && (!this.queueEmpty || (this.ends.length > 0 && !this.blocking)) ? want : 0;
        if (this.ends.length === 0 && claim === 0) break;
        this.send(claim);
      }
      const want = this.stopped || this.paused ? 0 : consumer.capacity() - this.buffer.length - this.requested;
      if (want > 0 && this.queueEmpty && this.inflight === 0) this.block();
    } finally {
      this.pumping = false;
    }
  }

  private send(want: number): void {
    const s = this.storage;
    const k = s.keys;
    const cfg = s.ctx.config;
    const batch = this.ends;
    this.ends = [];
    const now = Date.now();
    // expired ids leave the finished lists at the pace tasks end (small batches: every 8th call)
    const trim = batch.length >= 8 ? batch.length * 2 : (++this.calls & 7) === 0 ? 64 : 0;
    const args: (string | number)[] = [k.task, k.items, k.wait, k.channel, now, this.workerId, cfg.resultTtlMs, now + cfg.leaseMs, want, s.link.isCluster ? 'c' : this.notifier.hasEvents ? '1' : '', trim, batch.length];
    for (const e of batch) for (const a of e.args) args.push(a);
    this.inflight++;
    if (want > 0) this.sentAt.push(now);
    this.requested += want;
    (this.pipe ? s.link.scriptOn(this.pipe, 'finish') : s.link.script('finish'))([k.prios, k.delayed, k.leases, k.cnt, k.marker, k.meta, k.doneSuccess, k.doneError, k.doneCancel, k.held + this.workerId, k.cancels, k.all], args)
      .then(
        (res) => {
          this.inflight--;
          if (want > 0) this.answered(now);
          this.requested -= want;
          const [flags, claimed, next, remote] = res as [string, string[], string, number];
          if (remote >= 0) this.remote = remote;
          for (let i = 0; i < batch.length; i++) {
            const e = batch[i];
            const flag = flags.charCodeAt(i);
            if (flag === 50 /* 2 */) {
              // its stored priority was not a number: it ended QTASKS_ERR_BAD_RECORD instead
              this.release(e.rec.id);
              const rec = e.rec;
              rec.status = 'error';
              rec.error = badRecordError(rec.id, 'its priority is not a number');
              rec.finishedAt = rec.updatedAt;
              delete rec.runAt;
              this.notifier.deliver(rec);
              e.resolve(rec);
            } else if (flag === 49 /* 1 */) {
              this.release(e.rec.id);
              // this process learns its own ends here, not from the channel
              if (e.stored !== undefined) this.notifier.deliver(e.stored);
              e.resolve(e.stored ?? e.rec);
            } else {
              this.release(e.rec.id);
              e.resolve(undefined);
            }
          }
          this.took(claimed, now, want);
          this.armDue(next);
          this.notifyIdle();
          this.schedule();
        },
        (err: Error) => {
          this.inflight--;
          if (want > 0) this.answered(now);
          this.requested -= want;
          if (isConnectionError(err) && !this.closed) this.ends = batch.concat(this.ends);
          else {
            s.ctx.logger.error('Recording task ends failed', { error: err });
            for (const e of batch) e.reject(err);
          }
          this.notifyIdle();
          this.afterReady();
        },
      );
  }

  /** Tasks claimed by a script call (flat: id, data, attempt per task). */
  private took(claimed: string[], now: number, want: number): void {
    if (want > 0) this.queueEmpty = claimed.length / 3 < want;
    for (let i = 0; i < claimed.length; i += 3) {
      const id = claimed[i];
      const d = claimed[i + 1];
      const { rec, bad } = claimedRecord(id, d, Number(claimed[i + 2]), now, this.workerId);
      // a record that cannot be decoded never runs: it ends at once, its batch goes on
      this.held.set(id, { rec, d: bad === undefined ? d : '' });
      if (bad !== undefined) {
        this.storage.ctx.logger.warn('A claimed task record cannot be decoded: the task ends error', { id, code: ErrorCodes.BAD_RECORD, reason: bad });
        void this.finish(rec, { status: 'error', error: badRecordError(id, bad) }).catch(() => undefined);
      } else if (this.stopped) {
        void this.finish(rec, { status: 'handback' }).catch(() => undefined);
      } else if (this.earlyCancels.has(rec.id)) {
        const reason = this.earlyCancels.get(rec.id);
        this.earlyCancels.delete(rec.id);
        void this.finish(rec, { status: 'cancel', reason }).catch(() => undefined);
      } else {
        this.buffer.push(rec);
      }
    }
  }

  private release(id: string): void {
    this.held.delete(id);
    this.withItems.delete(id);
  }

  private block(): void {
    if (this.blocking || !this.blocker || this.stopped) return;
    this.blocking = true;
    const blocker = this.blocker;
    blocker.bzpopmin(this.storage.keys.marker, SAFETY_BLOCK_S).then(
      () => {
        this.blocking = false;
        this.queueEmpty = false;
        this.schedule();
      },
      () => {
        this.blocking = false;
        if (this.stopped) return;
        const retry = () => {
          this.queueEmpty = false;
          this.schedule();
        };
        if (blocker.status === 'ready') setTimeout(retry, 50);
        else blocker.once('ready', retry);
      },
    );
  }

  private armDue(next: string): void {
    if (next === '' || this.stopped) return;
    const at = Number(next);
    if (this.dueTimer) clearTimeout(this.dueTimer);
    this.dueTimer = setTimeout(() => {
      this.dueTimer = undefined;
      this.queueEmpty = false;
      this.schedule();
    }, Math.max(0, at - Date.now()));
  }

  private afterReady(): void {
    if (this.waitingReady || this.closed) return;
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

  // ---- leases ----

  private renew(): void {
    if (this.closed || !this.storage.link.isReady) return;
    this.reconcile();
    renewLeases(this.storage, { ...this.consumer.info(), id: this.workerId }, (id, reason) => this.onCancel(id, this.workerId, reason));
  }

  /**
   * Moves back to the queue the tasks of this worker's held set that it does not know: their claim
   * ran in Redis but its reply was lost with the connection. Every id whose claim answered is in
   * {@link held}; tasks of the claims still on the way started at or after the earliest of their
   * send times and are left alone, and the claims sent later run after this call on the same
   * connection.
   */
  private reconcile(): void {
    // without a connection it runs on 'ready'
    if (this.closed || !this.storage.link.isReady) return;
    const now = Date.now();
    let before = now;
    for (const t of this.sentAt) if (t < before) before = t;
    void reconcileHeld(this.storage, this.workerId, this.held.keys(), this.held.size, now, before).then(
      (moved) => {
        if (moved.length === 0 || this.stopped) return;
        this.queueEmpty = false;
        this.schedule();
      },
      (err: Error) => {
        if (!isConnectionError(err)) this.storage.ctx.logger.error('Reconciling held tasks failed', { error: err });
      },
    );
  }

  /** A call that could claim, sent at `at`, answered (or failed). */
  private answered(at: number): void {
    const i = this.sentAt.indexOf(at);
    if (i >= 0) this.sentAt.splice(i, 1);
  }
}
