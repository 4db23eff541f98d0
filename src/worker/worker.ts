/**
 * The in-process worker: takes claimed tasks from the broker up to its concurrency, runs them,
 * enforces timeouts with a single timer, and shuts down gracefully.
 */
import { hostname } from 'node:os';
import type { Consumer, Outcome, WorkerCommand, WorkerInfo } from '../engine/broker';
import { StatsRecorder } from '../stats/task-stats';
import { ErrorCodes, TaskNotFoundError } from '../errors';
import { MinHeap } from '../collections/min-heap';
import { toErrorInfo } from '../task/task-error-info';
import type { TaskRecord } from '../task/task-record';
import { Execution, ExecutionHost } from './execution';
import { logFailure } from './failure-log';
import type { Runtime } from './runtime';

/** Runs tasks of one app in this process. */
export class Worker implements Consumer, ExecutionHost {
  readonly workerId: string;
  readonly startedAt = Date.now();
  /** Running executions; each knows its index (`slot`) so removal is a swap, no hashing. */
  private readonly running: Execution[] = [];
  /** An execution that ended within its start, kept for the next attempt (one object less per task). */
  private spare: Execution | undefined = undefined;
  /** Runs waiting for their children (`waitChildren()`): they hold no slot. */
  private readonly waiting = new Set<Execution>();
  /** Waiting runs whose children ended, in line for a slot (served before new claims). */
  private readonly resuming: { ex: Execution; go: () => void }[] = [];
  private readonly deadlines = new MinHeap<Execution>();
  private deadlineTimer: NodeJS.Timeout | undefined;
  private deadlineDue = Infinity;
  /** Final writes not settled yet (see {@link track}), and who waits for them to be none. */
  private pending = 0;
  private drainWaiters: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];
  private stopping = false;
  private readonly stats: StatsRecorder;
  /** Claims nothing new while set (an operator's `pauseWorker`). */
  private paused = false;

  constructor(
    readonly runtime: Runtime,
    public concurrency: number,
    id?: string,
  ) {
    this.workerId = id ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
    this.stats = new StatsRecorder(runtime.storage, runtime.logger);
  }

  attemptEnded(rec: TaskRecord, status: Outcome['status'], at: number): void {
    this.stats.record(rec, status, at);
  }

  capacity(): number {
    return this.stopping || this.paused ? 0 : Math.max(0, this.concurrency - this.running.length - this.resuming.length);
  }

  /** Tasks running now. */
  get size(): number {
    return this.running.length;
  }

  run(record: TaskRecord): void {
    const task = this.runtime.task(record.name);
    if (task === undefined) {
      const outcome: Outcome = { status: 'error', error: toErrorInfo(new TaskNotFoundError(record.name)) };
      logFailure(this.runtime.logger, record, outcome);
      const broker = this.runtime.broker;
      if (broker.immediate !== undefined) broker.immediate.finishNow(record, outcome);
      else this.track(broker.finish(record, outcome));
      return;
    }
    let ex = this.spare;
    if (ex !== undefined) {
      this.spare = undefined;
      ex.reuse(record, task);
    } else {
      ex = new Execution(this, record, task);
    }
    ex.slot = this.running.length;
    this.running.push(ex);
    const timeout = record.timeout ?? task.def.options.timeout;
    if (timeout !== undefined && timeout > 0) {
      ex.timeoutMs = timeout;
      // a thread or process task starts its clock once its module is loaded there
      if (task.remote === undefined) this.startClock(ex);
    }
    ex.start();
    if (ex.spare) this.spare = ex;
  }

  startClock(ex: Execution): void {
    ex.deadline = Date.now() + ex.timeoutMs;
    this.deadlines.push(ex, ex.deadline);
    if (ex.deadline < this.deadlineDue) this.armDeadlines();
  }

  abort(id: string, reason?: string): void {
    // at most `concurrency` entries: a scan beats keeping a map on the hot path
    for (const ex of this.running) if (ex.rec.id === id) return ex.cancel(reason);
    for (const ex of this.waiting) if (ex.rec.id === id) return ex.cancel(reason);
    for (const r of this.resuming) if (r.ex.rec.id === id) return r.ex.cancel(reason);
  }

  /** A run waits for its children: its slot goes to the next task. */
  suspend(ex: Execution): void {
    this.unslot(ex);
    this.waiting.add(ex);
    this.runtime.broker.wake();
  }

  /** A waiting run takes a slot again: at once when one is free, else before any new claim. */
  acquire(ex: Execution): Promise<void> {
    if (ex.done || !this.waiting.delete(ex)) return Promise.resolve();
    if (this.resuming.length === 0 && this.running.length < this.concurrency) {
      this.slotIn(ex);
      return Promise.resolve();
    }
    return new Promise((go) => this.resuming.push({ ex, go }));
  }

  private slotIn(ex: Execution): void {
    ex.slot = this.running.length;
    this.running.push(ex);
  }

  /** Takes `ex` out of the running list (a swap with the last). */
  private unslot(ex: Execution): void {
    const list = this.running;
    const at = ex.slot;
    if (at >= 0 && list[at] === ex) {
      const last = list.pop()!;
      if (last !== ex) {
        list[at] = last;
        last.slot = at;
      }
    }
    ex.slot = -1;
  }

  /** Free slots go to the runs in line first. */
  private resumeWaiting(): void {
    while (this.resuming.length > 0 && this.running.length < this.concurrency) {
      const next = this.resuming.shift()!;
      this.slotIn(next.ex);
      next.go();
    }
  }

  info(): WorkerInfo {
    return {
      id: this.workerId,
      host: hostname(),
      pid: process.pid,
      startedAt: this.startedAt,
      concurrency: this.concurrency,
      running: this.running.length,
      ...(this.waiting.size + this.resuming.length > 0 ? { waiting: this.waiting.size + this.resuming.length } : {}),
      lastSeenAt: Date.now(),
      paused: this.paused || this.stopping,
      queues: [this.runtime.name],
    };
  }

  /** An operator's command, delivered by the broker from wherever it was given. */
  control(command: WorkerCommand): void {
    switch (command.op) {
      case 'pause':
        this.paused = true;
        break;
      case 'resume':
        this.paused = false;
        break;
      case 'concurrency':
        if (Number.isInteger(command.n) && command.n >= 1) this.concurrency = command.n;
        this.resumeWaiting();
        break;
      case 'stop':
        this.paused = true;
        this.runtime.requestStop?.();
        break;
    }
    this.runtime.logger.info('Worker command applied', { workerId: this.workerId, op: command.op, concurrency: this.concurrency, paused: this.paused });
  }

  release(ex: Execution): void {
    this.unslot(ex);
    if (this.waiting.size > 0) this.waiting.delete(ex);
    if (this.resuming.length > 0) {
      const at = this.resuming.findIndex((r) => r.ex === ex);
      // an end while in line for a slot: its waitChildren() learns it ended
      if (at >= 0) this.resuming.splice(at, 1)[0].go();
      this.resumeWaiting();
    }
    if (this.isIdle() && this.idleWaiters.length > 0) this.notifyIdle();
  }

  /** Nothing runs or waits, and every end has been recorded. */
  private isIdle(): boolean {
    return this.running.length === 0 && this.pending === 0 && this.waiting.size === 0 && this.resuming.length === 0;
  }

  /** Tracks a final write: close waits for it; a failure is logged. */
  track(p: Promise<unknown>): void {
    this.pending++;
    // one reaction per write (the handlers are shared): a worker tracks every end it records
    p.then(this.untrack, this.untrackFailed);
  }

  /** Writes an end through `Broker.finishThen`, tracked as {@link track} does, with the same handlers. */
  finishTracked(rec: TaskRecord, outcome: Outcome): void {
    this.pending++;
    this.runtime.broker.finishThen!(rec, outcome, this.untrack, this.untrackFailed);
  }

  private readonly untrack = (): void => {
    if (--this.pending === 0 && this.drainWaiters.length > 0) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of waiters) w();
    }
    if (this.isIdle()) this.notifyIdle();
  };

  private readonly untrackFailed = (err: unknown): void => {
    try {
      this.runtime.logger.error('Recording the end of a task failed', { error: err, code: (err as { code?: string }).code ?? ErrorCodes.BROKER_UNAVAILABLE });
    } finally {
      this.untrack();
    }
  };

  /**
   * Stops taking tasks, waits up to `timeoutMs` for running ones, then aborts those left and hands
   * them back to the queue. Resolves when every end has been recorded.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    await this.runtime.broker.stopConsuming();
    if (!this.isIdle()) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.idle(), new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
      clearTimeout(timer);
    }
    for (const ex of [...this.running, ...this.waiting, ...this.resuming.map((r) => r.ex)]) ex.handBack();
    while (this.pending > 0) await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    await this.stats.flush();
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    this.deadlines.clear();
  }

  /** Resolves when nothing runs and every end has been recorded. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private armDeadlines(): void {
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    // drop finished executions from the top
    while (this.deadlines.size > 0 && this.deadlines.peek()!.done) this.deadlines.pop();
    this.deadlineDue = this.deadlines.peekKey();
    if (this.deadlineDue === Infinity) return;
    // clamped: Node fires a longer timeout at once
    this.deadlineTimer = setTimeout(() => this.expire(), Math.min(2_147_483_647, Math.max(0, this.deadlineDue - Date.now())));
  }

  private expire(): void {
    this.deadlineTimer = undefined;
    const now = Date.now();
    while (this.deadlines.peekKey() <= now) {
      const ex = this.deadlines.pop()!;
      if (!ex.done) ex.timeout(ex.timeoutMs);
    }
    this.armDeadlines();
  }
}
