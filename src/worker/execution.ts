/**
 * One attempt of one task, from start to its recorded end: the fast path, the full run (rate limit,
 * validation, hooks, middleware, the body inline or in an executor), timeout, cancel and hand-back,
 * and the outcome (the retry decision). Injection is in run-injection, generators in
 * generator-drain, recording the end in attempt-end (its hooks' event in end-event). A plain task (no
 * injection, middleware, hooks or timeout) takes a fast path with no context, no AbortController and
 * no extra promise.
 */
import type { Outcome } from '../engine/broker';
import { ErrorCodes, QTasksError, TaskTimeoutError } from '../errors';
import { RemoteOutcome } from '../executor/remote-run';
import { RetryError } from '../middleware/retry-error';
import { runArgs, toJson } from '../task/json';
import { recordCopy } from '../task/record-copy';
import { CancelSignal } from '../task/task-context';
import { toErrorInfo } from '../task/task-error-info';
import type { TaskRecord } from '../task/task-record';
import { EndedRun, isWorkflowId, recordEnd } from './attempt-end';
import { logFailure } from './failure-log';
import { drainGenerator, isGenerator } from './generator-drain';
import { retryDelay } from './retry-policy';
import { RunContext } from './run-context';
import { Closer, RunInjection } from './run-injection';
import type { PreparedTask, Runtime } from './runtime';

/** What the execution needs from its worker. */
export interface ExecutionHost {
  readonly runtime: Runtime;
  /** Frees the slot; called once when the attempt ends. */
  release(ex: Execution): void;
  /** Tracks the final write of an ended attempt (close waits for it). */
  track(p: Promise<unknown>): void;
  /** Starts the attempt's timeout (a thread or process task: once it started there). */
  startClock?(ex: Execution): void;
  /** Notes how an attempt ended (per-minute statistics); `at` is when. */
  attemptEnded?(rec: TaskRecord, status: Outcome['status'], at: number): void;
  /** Gives the run's slot back while it waits for its children (a worker's host only). */
  suspend?(ex: Execution): void;
  /** Takes a slot again for a waiting run; resolves once it has one, or once the run ended. */
  acquire?(ex: Execution): Promise<void>;
}

/** One running attempt. */
export class Execution implements EndedRun {
  done = false;
  deadline = 0;
  timeoutMs = 0;
  /** Index in the worker's running list. */
  slot = -1;
  private controller: AbortController | undefined;
  private abortReason: unknown = undefined;
  private ctx: RunContext | undefined;
  /** Made for a run that injects anything (never on the fast path). */
  private injection: RunInjection | undefined;
  /** True from a `waitChildren()` until the record says `process` again. */
  private waiting = false;
  /** True once the run called `waitChildren()` (its end then follows the status writes). */
  private waited = false;
  /** The stored status changes of `waitChildren()`, in order (made by the first). */
  private statusWrites: Promise<unknown> | undefined = undefined;

  /**
   * True when the attempt ran and ended within `start()` on the plain path, with no timeout: nothing
   * holds it any more, so its worker may use it again for another attempt ({@link reuse}).
   */
  spare = false;

  constructor(
    private readonly host: ExecutionHost,
    public rec: TaskRecord,
    private task: PreparedTask,
  ) {}

  /** Makes a {@link spare} execution the start of a new attempt. */
  reuse(rec: TaskRecord, task: PreparedTask): void {
    // a spare one had no timeout, context or injection, and never waited for children; a cancel
    // from inside its body may have aborted it
    this.rec = rec;
    this.task = task;
    this.done = false;
    this.spare = false;
    this.controller = undefined;
    this.abortReason = undefined;
    this.ctx = undefined;
    this.injection = undefined;
  }

  /**
   * Starts the attempt. Never throws.
   *
   * The callbacks of the rarer paths are made in methods of their own (here and in begin, complete):
   * a function that makes a closure keeps `this` in a context object it allocates at every call,
   * even when the closure's branch is not taken.
   */
  start(): void {
    const gate = this.host.runtime.workflowGate;
    if (gate !== undefined && isWorkflowId(this.rec.id)) {
      this.afterGate(gate);
      return;
    }
    this.begin();
  }

  /** A flow's parent whose child failed ends CHILD_FAILED without running. */
  private afterGate(gate: NonNullable<Runtime['workflowGate']>): void {
    gate(this.rec).then(
      // a cancel (or a timeout) heard meanwhile ended the attempt: it never runs
      (error) => (this.done ? undefined : error === undefined ? this.begin() : this.complete({ status: 'error', error })),
      (err) => this.fail(err),
    );
  }

  private begin(): void {
    const task = this.task;
    const hooks = this.host.runtime.hooks;
    if (
      !task.def.needsContext &&
      task.pipeline === undefined &&
      task.prepareArgs === undefined &&
      task.acquire === undefined &&
      task.instance !== undefined &&
      task.remote === undefined &&
      !hooks.has('task:before') &&
      !hooks.has('task:after')
    ) {
      let value: unknown;
      try {
        value = task.fn.apply(task.instance, runArgs(this.rec.args));
      } catch (err) {
        this.fail(err);
        return;
      }
      if (value === null || typeof value !== 'object') {
        // a plain value: ended here, and no callback kept this execution
        this.succeed(value);
        this.spare = this.done && this.timeoutMs === 0 && !isWorkflowId(this.rec.id);
        return;
      }
      this.settleValue(value);
      return;
    }
    this.runFullThenEnd();
  }

  private runFullThenEnd(): void {
    this.runFull().then(
      (v) => this.succeed(v),
      (e) => this.fail(e),
    );
  }

  /** The run's AbortSignal, made on first use. */
  signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortReason !== undefined) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  /** Timeout reached: abort and end as a timeout error (or a retry). */
  timeout(ms: number): void {
    if (this.done) return;
    const err = new TaskTimeoutError(ms);
    this.abort(err);
    this.fail(err, true);
  }

  /** Cancel from anywhere: abort and end as `cancel`. */
  cancel(reason?: string): void {
    if (this.done) return;
    this.abort(new CancelSignal(reason));
    this.complete({ status: 'cancel', reason });
  }

  /** Shutdown: abort and give the task back to the queue. */
  handBack(): void {
    if (this.done) return;
    this.abort(new QTasksError(ErrorCodes.CLOSED, 'Worker shut down while the task ran; it was handed back to the queue'));
    this.complete({ status: 'handback' });
  }

  /**
   * Runs `wait` (a `waitChildren()`) with the record stored `waiting` and the slot given back, then
   * takes a slot again and stores `process`. When the attempt ends meanwhile (cancel, timeout,
   * shutdown), rejects with what ended it; that end is recorded by `complete`.
   */
  async suspendWhile<T>(wait: () => Promise<T>): Promise<T> {
    const host = this.host;
    if (host.suspend === undefined || host.acquire === undefined) {
      throw new QTasksError(ErrorCodes.UNSUPPORTED, 'waitChildren() needs a worker of this app to run the task');
    }
    if (this.waiting) throw new QTasksError(ErrorCodes.INVALID_STATE, `Task ${this.rec.id} is waiting for its children already: await the first waitChildren() before calling it again`);
    this.waiting = true;
    this.waited = true;
    // stored first: a child that starts in the freed slot sees its parent waiting
    await this.writeWaiting(true);
    if (this.done) throw this.endReason();
    host.suspend(this);
    let value: T | undefined;
    let failure: { err: unknown } | undefined;
    try {
      value = await wait();
    } catch (err) {
      failure = { err };
    }
    if (!this.done) await host.acquire(this);
    if (this.done) throw this.endReason();
    this.waiting = false;
    await this.writeWaiting(false);
    if (failure !== undefined) throw failure.err;
    return value as T;
  }

  /** Queues a stored status change of `waitChildren()` (a failed write is logged: the run goes on). */
  private writeWaiting(waiting: boolean): Promise<unknown> {
    const broker = this.host.runtime.broker;
    const before = this.statusWrites ?? Promise.resolve();
    if (broker.setWaiting === undefined) return before;
    this.statusWrites = before.then(() => broker.setWaiting!(this.rec, waiting)).catch((err: unknown) => {
      this.host.runtime.logger.warn('Storing the waiting status of a task failed', { id: this.rec.id, waiting, error: err });
    });
    return this.statusWrites;
  }

  /** What ended the attempt while it waited. */
  private endReason(): unknown {
    return this.abortReason ?? new QTasksError(ErrorCodes.INVALID_STATE, `Task ${this.rec.id} ended while it waited for its children`);
  }

  // ---- running ----

  private async runFull(): Promise<unknown> {
    const { task, rec } = this;
    const runtime = this.host.runtime;
    const app = runtime.app ?? runtime;
    const ctx = this.context();
    if (task.acquire) await task.acquire(this.signal());
    // the run's own arguments: what the task or a hook changes in them is never stored
    let args = runArgs(rec.args);
    if (task.prepareArgs) args = await task.prepareArgs(args);
    const hooked = runtime.hooks.has('task:before') || runtime.hooks.has('task:after');
    const record = hooked ? recordCopy(rec) : rec;
    if (runtime.hooks.has('task:before')) {
      args = (await runtime.hooks.run('task:before', { app, record, ctx, args })).args ?? args;
    }
    if (this.done) return undefined;
    const body = task.remote ? this.remoteBody(task.remote, ctx, args) : await this.localBody(args);
    let result = task.pipeline ? await task.pipeline(ctx, body) : await body();
    if (runtime.hooks.has('task:after') && !this.done) {
      result = (await runtime.hooks.run('task:after', { app, record, ctx, args, result })).result;
    }
    return result;
  }

  private async localBody(args: unknown[]): Promise<() => Promise<unknown>> {
    const task = this.task;
    const injection = (this.injection ??= new RunInjection({
      rec: this.rec,
      runtime: this.host.runtime,
      task,
      context: () => this.context(),
      ended: () => this.done,
    }));
    const instance = await injection.instance();
    const callArgs = await injection.callArgs(args);
    return async () => {
      // a cancel, timeout or shutdown heard while the instance, the arguments or a middleware
      // were awaited ended the attempt: the body never starts (its signal is aborted already, so
      // it would never hear the abort it waits for)
      if (this.abortReason !== undefined) throw this.abortReason;
      return this.unwrap(await task.fn.apply(instance, callArgs));
    };
  }

  /** The body of a thread or process task: its timeout starts when it starts there. */
  private remoteBody(remote: NonNullable<PreparedTask['remote']>, ctx: RunContext, args: unknown[]): () => Promise<unknown> {
    const started = () => {
      if (this.timeoutMs > 0 && !this.done) this.host.startClock?.(this);
    };
    return () => (this.abortReason !== undefined ? Promise.reject(this.abortReason) : remote({ ctx, record: this.rec, args, started }));
  }

  private settleValue(value: unknown): void {
    if (value !== null && typeof value === 'object') {
      // a result's own code (a throwing `then` getter or method, a revoked proxy) ends the task,
      // never the worker's dispatch
      let then: unknown;
      let generator = false;
      try {
        then = (value as PromiseLike<unknown>).then;
        if (typeof then !== 'function') generator = isGenerator(value);
      } catch (err) {
        this.fail(err);
        return;
      }
      if (typeof then === 'function') {
        try {
          (then as PromiseLike<unknown>['then']).call(
            value,
            (v) => this.settleValue(v),
            (e) => this.fail(e),
          );
        } catch (err) {
          this.fail(err);
        }
        return;
      }
      if (generator) {
        this.iterate(value as AsyncIterator<unknown> | Iterator<unknown>).then(
          (v) => this.succeed(v),
          (e) => this.fail(e),
        );
        return;
      }
    }
    this.succeed(value);
  }

  private unwrap(value: unknown): unknown {
    return value !== null && typeof value === 'object' && isGenerator(value) ? this.iterate(value) : value;
  }

  private iterate(gen: AsyncIterator<unknown> | Iterator<unknown>): Promise<unknown[]> {
    const runtime = this.host.runtime;
    return drainGenerator(gen, {
      rec: this.rec,
      broker: runtime.broker,
      config: runtime.config,
      handler: this.task.def.options.generateHandler,
      ended: () => this.done,
    });
  }

  /** The run's context, made on first use. */
  context(): RunContext {
    return (this.ctx ??= new RunContext(this.host.runtime, this.rec, this));
  }

  // ---- ending ----

  private succeed(value: unknown): void {
    if (this.done) return;
    let returning: unknown;
    try {
      returning = toJson(value, 'Task results', 'result', this.host.runtime.config);
    } catch (err) {
      this.fail(err);
      return;
    }
    this.complete({ status: 'success', returning });
  }

  private fail(err: unknown, fromTimeout = false): void {
    if (this.done) return;
    if (!fromTimeout && this.abortReason !== undefined) err = this.abortReason;
    if (err instanceof CancelSignal) {
      this.complete({ status: 'cancel', reason: err.reason });
      return;
    }
    // decided where it ran, with the task's own error classes
    if (err instanceof RemoteOutcome) {
      this.complete(err.outcome);
      return;
    }
    const error = toErrorInfo(err instanceof RetryError && err.cause !== undefined ? err.cause : err);
    const delayMs = this.retryDelay(err);
    this.complete(delayMs === undefined ? { status: 'error', error } : { status: 'retry', error, delayMs });
  }

  /** Delay before the next attempt, or undefined when this error ends the task. */
  private retryDelay(err: unknown): number | undefined {
    return retryDelay(this.rec, this.task.def.options, err, this.host.runtime.logger);
  }

  private abort(reason: unknown): void {
    if (this.abortReason !== undefined) return;
    this.abortReason = reason;
    this.controller?.abort(reason);
  }

  private complete(outcome: Outcome): void {
    if (this.done) return;
    this.done = true;
    this.host.release(this);
    // one clock read for the statistics and the record's end
    const at = Date.now();
    this.host.attemptEnded?.(this.rec, outcome.status, at);
    const runtime = this.host.runtime;
    if (outcome.status === 'error' || outcome.status === 'retry') logFailure(runtime.logger, this.rec, outcome);
    const closers = this.injection?.closers;
    if (closers !== undefined) this.injection!.closers = undefined;
    if (this.waited) {
      this.recordAfterWrites(outcome, closers);
      return;
    }
    recordEnd(this.host, this, outcome, closers, at);
  }

  /**
   * Records the end after the status writes of waitChildren(); one that ended while waiting is
   * stored `process` again first, so that its end is recorded as usual.
   */
  private recordAfterWrites(outcome: Outcome, closers: Closer[] | undefined): void {
    const before = this.waiting ? this.writeWaiting(false) : (this.statusWrites ?? Promise.resolve());
    this.waiting = false;
    this.host.track(before.then(() => recordEnd(this.host, this, outcome, closers)));
  }

  /** The run's context if one was made. */
  get madeContext(): RunContext | undefined {
    return this.ctx;
  }
}
