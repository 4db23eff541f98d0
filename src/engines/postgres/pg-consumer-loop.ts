/**
 * The worker side of the PostgreSQL broker. Ends of attempts are batched per tick: one `step_keep` call
 * records a batch of ends (with their retention) and claims the next batch with FOR UPDATE SKIP LOCKED (prefetched into a
 * small local buffer, leases already running). When the queue is empty it waits for a `n`
 * notification (or the due time of the earliest delayed task), with a slow safety poll only; an
 * enqueue of this process claims for it in the enqueue's own call (see `claimAlong`). Leases are
 * renewed every leaseMs/2 by `lease`, which also sweeps expired leases of every worker, drops
 * expired records and gives back tasks whose claim reply was lost with a connection.
 */
import { hostname } from 'node:os';
import type { Consumer, Outcome, WorkerCommand } from '../../engine/broker';
import { BrokerUnavailableError } from '../../errors';
import type { TaskRecord } from '../../task/task-record';
import { badRecordError } from '../bad-record';
import { warnStall } from '../shared/stall-warning';
import { applyFixed, decodeOpt, parseFixed } from './pg-codec';
import type { PgNotifier } from './pg-notifier';
import type { PostgresStorage } from './postgres-storage';
import { historyBefore } from './pg-end-extras';
import { endOf, noticeOf, PendingEnd } from './task-end';

/** A row of `step_keep` and `enqueue_claim`: k 'u' an end not applied, 'c' a claim, 'n' nothing more ready (x: next due time), 'p' paused, 'e' an id that existed. */
export interface StepRow {
  k: string;
  id: string | null;
  name: string | null;
  priority: number | null;
  data: string | null;
  attempt: number | null;
  created_at: string | null;
  seq: string | null;
  x: string | null;
}

/** A claim sent along with an enqueue of this process (see {@link PgConsumerLoop.claimAlong}). */
export interface ClaimAlong {
  want: number;
  /** When it was sent (the claims' start time is not earlier). */
  now: number;
  lease: number;
  /** The wake-up count when it was sent. */
  wakes: number;
}

/** A row of `lease_round`: a cancel request (stalled null), or a task its sweep took from a dead worker. */
interface LeaseRow {
  id: string;
  reason: string | null;
  stalled: string | null;
  name: string | null;
  stalls: number | null;
  worker: string | null;
}

const MAX_INFLIGHT = 2;
/** The most tasks one step claims at first (see setWidth). */
const CLAIM_MAX = 250;
/** The most tasks one step claims once grown (see {@link PgConsumerLoop.fit}). */
const CLAIM_GROWN_MAX = 1_000;
const SAFETY_POLL_MS = 5_000;

/** Claims, runs (through the consumer) and finishes tasks of one queue for one worker. */
export class PgConsumerLoop {
  private readonly held = new Map<string, TaskRecord>();
  private buffer: TaskRecord[] = [];
  private ends: PendingEnd[] = [];
  private readonly earlyCancels = new Map<string, string | undefined>();
  private inflight = 0;
  private requested = 0;
  private queueEmpty = false;
  /** Bumped by every wake-up, so that a claim answered empty after one does not sleep through it. */
  private wakes = 0;
  private scheduled = false;
  private pumping = false;
  private stopped = false;
  /** An operator paused this worker: it claims nothing. */
  private paused = false;
  private closed = false;
  private leaseTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private dueTimer: NodeJS.Timeout | undefined;
  private dueAt = Infinity;
  private retryTimer: NodeJS.Timeout | undefined;
  private prefetch = 0;
  private claimsInFlight = 1;
  private claimMax = Infinity;
  /** The claim size of setWidth, and the most it may grow to while tasks end as fast as they come. */
  private claimBase = Infinity;
  private claimTop = Infinity;
  /** Attempts this worker ended since the last claim came back (see {@link fit}). */
  private endedSince = 0;
  private readonly pumpFn = () => this.pump();
  private idleWaiters: (() => void)[] = [];
  /** When each step on the way that may claim was sent (its claims' start time is not earlier). */
  private readonly sentAt: number[] = [];

  constructor(
    private readonly storage: PostgresStorage,
    private readonly consumer: Consumer,
    concurrency: number,
    private readonly notifier: PgNotifier,
  ) {
    this.setWidth(concurrency);
  }

  /**
   * How much it claims for `concurrency` slots: a worker of one slot claims one task at a time (in
   * priority order, nothing held that it does not run); a wider one prefetches and keeps two claims
   * on the way (two connections at work; their batches overlap anyway), each of up to four times
   * its slots: a step's cost is mostly per call, so large batches cost less per task. A worker
   * whose tasks end before its next claim comes back claims more at once (see {@link fit}).
   */
  private setWidth(concurrency: number): void {
    const n = Math.max(1, concurrency);
    this.claimsInFlight = n >= 4 ? 2 : 1;
    this.claimBase = n >= 4 ? Math.min(4 * n, CLAIM_MAX) : Infinity;
    this.claimTop = n >= 4 ? Math.max(this.claimBase, Math.min(16 * n, CLAIM_GROWN_MAX)) : Infinity;
    this.claimMax = this.claimBase;
    this.prefetch = n >= 4 ? 2 * this.claimMax : n === 1 ? 0 : n;
  }

  /** The claim size of a wide worker (see {@link fit}), which prefetches two claims' worth. */
  private setClaim(max: number): void {
    this.claimMax = max;
    this.prefetch = 2 * max;
  }

  /**
   * Sizes the next claims when a claim comes back with `got` tasks: a worker that ran a whole claim's
   * worth of tasks since the last one came back, and now has nothing left to start and free slots
   * (its tasks are quick), doubles its claim when this one was full, up to 16 times its slots (a
   * step costs mostly per call: fewer, larger steps cost less per task); one that still holds a
   * claim's worth not started (its tasks are slow) halves it, down to the size of setWidth, so that
   * other workers of the queue share the backlog of slow tasks.
   */
  private fit(got: number): void {
    const ran = this.endedSince;
    this.endedSince = 0;
    if (this.claimBase === Infinity) return;
    if (got >= this.claimMax && ran >= this.claimMax && this.buffer.length === 0 && this.consumer.capacity() > 0) {
      if (this.claimMax < this.claimTop) this.setClaim(Math.min(this.claimTop, 2 * this.claimMax));
    } else if (this.buffer.length >= this.claimMax && this.claimMax > this.claimBase) {
      this.setClaim(Math.max(this.claimBase, Math.floor(this.claimMax / 2)));
    }
  }

  get workerId(): string {
    return this.consumer.workerId;
  }

  /** Starts claiming; resolves once the first lease round (the worker's heartbeat) is written. */
  start(): Promise<void> {
    const every = Math.max(20, Math.floor(this.storage.ctx.config.leaseMs / 2));
    this.leaseTimer = setInterval(() => void this.renew(), every);
    this.pollTimer = setInterval(() => this.queued(undefined), SAFETY_POLL_MS);
    this.pollTimer.unref();
    const first = this.renew();
    // processes that want whole records in end notifications say so now (see PgNotifier)
    this.notifier.ask();
    this.schedule();
    return first;
  }

  /** Tasks were queued (by a notification or by this process); `due`: a delayed task's time. */
  queued(due: number | undefined): void {
    if (due !== undefined && due > Date.now()) {
      this.armDue(due);
      return;
    }
    this.wakes++;
    this.queueEmpty = false;
    this.schedule();
  }

  /** A consumer slot came free outside `finish`. */
  wake(): void {
    this.schedule();
  }

  /** Records how an attempt ended; batched with the other ends of this tick. */
  finish(rec: TaskRecord, outcome: Outcome): Promise<TaskRecord | undefined> {
    return new Promise((resolve, reject) => {
      const end = endOf(rec, outcome, resolve, reject);
      if (outcome.status !== 'handback') this.endedSince++;
      if (end.runAt !== null) this.armDue(end.runAt);
      this.ends.push(end);
      this.schedule();
    });
  }

  /**
   * A claim to send along with an enqueue of this process, so that an idle worker here takes the
   * new tasks in the enqueue's own round trip (not after its reply, nor after the notification):
   * how many it wants, or undefined when it wants none now or has a claim on the way already.
   * The caller then calls {@link alongAnswered} once, with the call's rows or its failure.
   */
  claimAlong(): ClaimAlong | undefined {
    if (this.closed || this.stopped || this.paused || this.retryTimer || this.inflight >= MAX_INFLIGHT || this.sentAt.length >= this.claimsInFlight) return undefined;
    const want = Math.min(this.claimMax, Math.max(0, this.consumer.capacity() + this.prefetch - this.buffer.length - this.requested));
    if (want <= 0) return undefined;
    const now = Date.now();
    this.inflight++;
    this.sentAt.push(now);
    this.requested += want;
    return { want, now, lease: now + this.storage.ctx.config.leaseMs, wakes: this.wakes };
  }

  /** The answer to a claim sent along with an enqueue: the call's rows, or undefined when it failed. */
  alongAnswered(along: ClaimAlong, rows: StepRow[] | undefined): void {
    this.inflight--;
    this.answered(along.now, along.want);
    if (rows === undefined) {
      this.notifyIdle();
      // the claim may have run with its reply lost: the next lease round gives such tasks back
      this.retryLater();
      return;
    }
    // unless it says that nothing is left, the enqueue may have left more
    if (!this.claimed(rows, along.now, along.want, along.wakes)) this.queueEmpty = false;
    this.notifyIdle();
    this.schedule();
  }

  /** A cancel request for a running task (from the channel or a lease round). */
  onCancel(id: string, workerId: string, reason: string | undefined): void {
    if (workerId !== this.workerId || this.closed) return;
    const rec = this.held.get(id);
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
   * An operator's command for this worker: the consumer applies it; pause and stop also hand the
   * prefetched tasks back. The new state is written to the workers table at once.
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
      this.queueEmpty = false;
    } else if (command.op === 'concurrency') {
      this.setWidth(command.n);
      const back = this.buffer.splice(Math.max(0, this.consumer.capacity()));
      for (const rec of back) void this.finish(rec, { status: 'handback' }).catch(() => undefined);
      this.queueEmpty = false;
    }
    void this.renew();
    this.schedule();
  }

  /** Stops claiming; prefetched tasks go back to the queue. Running ones stay held until they end. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of [this.dueTimer, this.pollTimer]) if (t) clearTimeout(t);
    this.dueTimer = undefined;
    this.pollTimer = undefined;
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
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.leaseTimer = undefined;
    await this.storage
      .q('worker gone', `DELETE FROM ${this.storage.s}.workers WHERE queue = $1 AND id = $2`, [this.storage.ctx.queue, this.workerId])
      .catch(() => undefined);
    const left = this.ends;
    this.ends = [];
    for (const e of left) e.reject(new BrokerUnavailableError('Recording the end of a task: PostgreSQL could not be reached before close'));
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
      while (this.buffer.length > 0 && !this.stopped && !this.paused && consumer.capacity() > 0) consumer.run(this.buffer.shift()!);
      if (this.retryTimer) return;
      while (this.inflight < MAX_INFLIGHT) {
        const want = this.stopped || this.paused ? 0 : Math.max(0, consumer.capacity() + this.prefetch - this.buffer.length - this.requested);
        // claims on the way at once skip each other's locked rows (see setWidth)
        const claim = want > 0 && !this.queueEmpty && this.sentAt.length < this.claimsInFlight ? Math.min(want, this.claimMax) : 0;
        if (this.ends.length === 0 && claim === 0) break;
        this.send(claim);
      }
    } finally {
      this.pumping = false;
    }
  }

  private send(want: number): void {
    const s = this.storage;
    const cfg = s.ctx.config;
    const batch = this.ends;
    this.ends = [];
    const now = Date.now();
    const wakes = this.wakes;
    this.inflight++;
    if (want > 0) this.sentAt.push(now);
    this.requested += want;
    const cols: [string[], string[], (string | null)[], (number | null)[], number[], string[], (number | null)[], (number | null)[]] = [
      [], [], [], [], [], [], [], [],
    ];
    // this process learns its own ends locally: records go on the channel only when another asked
    const records = this.notifier.othersWantRecords(now);
    for (const e of batch) {
      e.js = noticeOf(e, records);
      cols[0].push(e.rec.id);
      cols[1].push(e.kind);
      cols[2].push(e.val);
      cols[3].push(e.runAt);
      cols[4].push(e.attempt);
      cols[5].push(e.js);
      cols[6].push(e.count);
      cols[7].push(e.age);
    }
    const step = () =>
      s.q<StepRow>(
        'step',
        `SELECT * FROM ${s.s}.step_keep($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
        [s.ctx.queue, s.channel, this.workerId, now, now + cfg.leaseMs, cfg.resultTtlMs, want, ...cols],
      );
    // retried attempts join their record's history first (a batch without retries goes straight on)
    const history = historyBefore(s, batch, now);
    (history === undefined
      ? step()
      : history.then(step, (err: Error) => {
          s.ctx.logger.error('Recording the history of retried attempts failed', { error: err });
          return step();
        })
    ).then(
      (res) => {
        this.inflight--;
        this.answered(now, want);
        // the step answers the ends it did not apply (a stale attempt), mostly none
        let skipped: Set<string> | undefined;
        for (const row of res.rows) if (row.k === 'u') (skipped ??= new Set()).add(row.id!);
        const applied = (e: PendingEnd) => skipped === undefined || !skipped.has(e.rec.id);
        let requeued = false;
        for (const e of batch) {
          this.held.delete(e.rec.id);
          if ((e.kind === 'h' || e.kind === 'r') && e.runAt === null) requeued = true;
          // a retry after its backoff: this worker looks again when it is due (the step may not have said)
          else if (e.kind === 'r' && e.runAt !== null && applied(e)) this.armDue(e.runAt);
        }
        // the step applied each end's retention with it
        for (const e of batch) {
          if (applied(e)) {
            // this process learns its own ends here, not from the channel
            if (e.stored !== undefined) this.notifier.deliver(e.stored);
            e.resolve(e.stored ?? e.rec);
          } else e.resolve(undefined);
        }
        if (want > 0) this.claimed(res.rows, now, want, wakes);
        if (requeued) this.queued(undefined);
        this.notifyIdle();
        this.schedule();
      },
      (err: Error) => {
        this.inflight--;
        this.answered(now, want);
        if (!this.closed) s.ctx.logger.warn('Recording task ends failed; trying again', { error: err });
        this.ends = batch.concat(this.ends);
        this.notifyIdle();
        // the claim may have run with its reply lost: the next lease round gives such tasks back
        this.retryLater();
      },
    );
  }

  /** Renews (giving back claims whose reply was lost) and claims again, a little later. */
  private retryLater(): void {
    if (this.retryTimer || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.renew();
      this.queueEmpty = false;
      this.schedule();
    }, 100);
  }

  /**
   * Takes the claims of a step's rows (sent at `now` for `want`); returns true when the queue had
   * nothing more ready for it: it got fewer than it wanted, or an `n` row says so, or it is paused.
   */
  private claimed(rows: StepRow[], now: number, want: number, wakes: number): boolean {
    const claims: StepRow[] = [];
    let next: string | null = null;
    let none = false;
    for (const row of rows) {
      if (row.k === 'c') claims.push(row);
      else if (row.k === 'n') {
        none = true;
        next = row.x;
      } else if (row.k === 'p') none = true;
    }
    this.fit(claims.length);
    this.took(claims, now);
    none ||= claims.length < want;
    // empty (or paused) until told otherwise, unless a wake-up came while this step was on its way
    if (none && this.wakes === wakes) this.queueEmpty = true;
    if (next !== null) this.armDue(Number(next));
    return none;
  }

  private took(rows: StepRow[], now: number): void {
    const recs: TaskRecord[] = [];
    for (const row of rows) {
      const rec: TaskRecord = {
        id: row.id!,
        name: row.name ?? '',
        status: 'process',
        priority: row.priority ?? 0,
        args: [],
        attempt: row.attempt ?? 1,
        createdAt: Number(row.created_at),
        updatedAt: Math.max(now, Number(row.created_at)),
        startedAt: Math.max(now, Number(row.created_at)),
        workerId: this.workerId,
        seq: Number(row.seq),
      };
      if (Number(row.x) > 0) rec.stalls = Number(row.x);
      this.held.set(rec.id, rec);
      try {
        if (!Number.isFinite(rec.priority)) throw new TypeError(`priority ${String(rec.priority)} is not a number`);
        const f = parseFixed(row.data ?? '');
        rec.args = f.args;
        applyFixed(rec, f);
      } catch (err) {
        // a row that does not decode ends at once; the rest of the batch runs as usual
        void this.finish(rec, { status: 'error', error: badRecordError(rec.id, (err as Error).message) }).catch(() => undefined);
        continue;
      }
      recs.push(rec);
    }
    recs.sort((a, b) => a.priority - b.priority || a.seq! - b.seq!);
    for (const rec of recs) {
      if (this.stopped) {
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

  private armDue(at: number): void {
    if (this.stopped || this.closed || at >= this.dueAt) return;
    if (this.dueTimer) clearTimeout(this.dueTimer);
    this.dueAt = at;
    this.dueTimer = setTimeout(() => {
      this.dueTimer = undefined;
      this.dueAt = Infinity;
      this.queued(undefined);
    }, Math.max(0, at - Date.now()) + 2);
  }

  private notifyIdle(): void {
    if (this.inflight > 0) return;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }

  private answered(at: number, want: number): void {
    this.requested -= want;
    if (want === 0) return;
    const i = this.sentAt.indexOf(at);
    if (i >= 0) this.sentAt.splice(i, 1);
  }

  // ---- leases ----

  /**
   * One lease round: renews this worker's leases and heartbeat, runs the sweep (expired rows of every
   * queue of the schema, in the next range of the table: see `sweepSql`), and gives
   * back the tasks held in the database by this worker that it does not know of (their claim's
   * reply was lost); tasks of steps still on the way started at or after the earliest send time.
   */
  private renew(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const s = this.storage;
    const cfg = s.ctx.config;
    const now = Date.now();
    let before = now;
    for (const t of this.sentAt) if (t < before) before = t;
    const info = JSON.stringify({ ...this.consumer.info(), id: this.workerId, host: hostname(), lastSeenAt: now });
    return s.q<LeaseRow>(
      'lease',
      `SELECT * FROM ${s.s}.lease_round($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [s.ctx.queue, s.channel, this.workerId, info, now, now + cfg.leaseMs, cfg.maxStalls, cfg.resultTtlMs, Math.floor(cfg.leaseMs * 1.5), [...this.held.keys()], before],
    ).then(
      (res) => {
        for (const row of res.rows) {
          if (row.stalled === null) this.onCancel(row.id, this.workerId, decodeOpt(row.reason));
          else warnStall(s.ctx.logger, { id: row.id, name: row.name ?? '', stalls: row.stalls ?? 1, worker: row.worker ?? '' }, row.stalled === 'error');
        }
      },
      (err: Error) => {
        if (!this.closed) s.ctx.logger.warn('Renewing leases failed', { error: err });
      },
    );
  }
}
