/**
 * One attempt of one task: injection, middleware, generators, timeout and cancel, and the
 * retry decision. A plain task (no injection, middleware, hooks or timeout) takes a fast path with
 * no context, no AbortController and no extra promise.
 */
import type { Outcome } from '../engine/broker';
import { closeFactory, DependsToken } from '../depends';
import type { ParamPlan } from '../discovery/task-definition';
import { ErrorCodes, QTasksError, TaskErrorInfo, TaskTimeoutError } from '../errors';
import type { Constructor } from '../metadata';
import { RetryError } from '../middleware/retry-error';
import { cloneJson, runArgs, toJson } from '../task/json';
import { recordCopy } from '../task/record-copy';
import { CancelSignal } from '../task/task-context';
import { toErrorInfo } from '../task/task-error-info';
import { copyRecord } from '../task/record-copy';
import type { TaskRecord } from '../task/task-record';
import { retryDelay } from './retry-policy';
import { RunContext } from './run-context';
import { logFailure } from './failure-log';
import type { PreparedTask, Runtime } from './runtime';
import type { HookEvent } from '../plugins/hook-runner';
import { RemoteOutcome } from '../executor/remote-run';

/** What the execution needs from its worker. */
export interface ExecutionHost {
  readonly runtime: Runtime;
  /** Frees the slot; called once when the attempt ends. */
  release(ex: Execution): void;
  /** Tracks the final write of an ended attempt (close waits for it). */
  track(p: Promise<unknown>): void;
  /** Starts the attempt's timeout (a thread or process task: once it started there). */
  startClock?(ex: Execution): void;
  /** Notes how an attempt ended (per-minute statistics). */
  attemptEnded?(rec: TaskRecord, status: Outcome['status']): void;
}

type Closer = () => unknown;

/** True for the id of a task of a workflow (`wf:…`). */
function isWorkflowId(id: string): boolean {
  return id.charCodeAt(0) === 119 /* w */ && id.startsWith('wf:');
}

/** One running attempt. */
export class Execution {
  done = false;
  deadline = 0;
  timeoutMs = 0;
  /** Index in the worker's running list. */
  slot = -1;
  private controller: AbortController | undefined;
  private abortReason: unknown = undefined;
  private ctx: RunContext | undefined;
  private closers: Closer[] | undefined;

  constructor(
    private readonly host: ExecutionHost,
    readonly rec: TaskRecord,
    private readonly task: PreparedTask,
  ) {}

  /** Starts the attempt. Never throws. */
  start(): void {
    const gate = this.host.runtime.workflowGate;
    if (gate !== undefined && isWorkflowId(this.rec.id)) {
      // a flow's parent whose child failed ends CHILD_FAILED without running
      gate(this.rec).then(
        (error) => (error === undefined ? this.begin() : this.complete({ status: 'error', error })),
        (err) => this.fail(err),
      );
      return;
    }
    this.begin();
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
      this.settleValue(value);
      return;
    }
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
    const instance = task.instance ?? (await this.buildInstance());
    const params = task.def.params;
    let callArgs: unknown[];
    if (params.length === 0) callArgs = args;
    else {
      callArgs = [];
      let next = 0;
      for (const p of params) callArgs.push(p.kind === 'arg' ? args[next++] : await this.resolve(p));
      for (; next < args.length; next++) callArgs.push(args[next]);
    }
    return async () => this.unwrap(await task.fn.apply(instance, callArgs));
  }

  /** The body of a thread or process task: its timeout starts when it starts there. */
  private remoteBody(remote: NonNullable<PreparedTask['remote']>, ctx: RunContext, args: unknown[]): () => Promise<unknown> {
    const started = () => {
      if (this.timeoutMs > 0 && !this.done) this.host.startClock?.(this);
    };
    return () => remote({ ctx, record: this.rec, args, started });
  }

  private settleValue(value: unknown): void {
    if (value !== null && typeof value === 'object') {
      if (typeof (value as PromiseLike<unknown>).then === 'function') {
        (value as PromiseLike<unknown>).then(
          (v) => this.settleValue(v),
          (e) => this.fail(e),
        );
        return;
      }
      if (isGenerator(value)) {
        this.iterate(value).then(
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

  /** Drains a generator: each item (after generateHandler) is stored, streamed and collected. */
  private async iterate(gen: AsyncIterator<unknown> | Iterator<unknown>): Promise<unknown[]> {
    const handler = this.task.def.options.generateHandler;
    const broker = this.host.runtime.broker;
    const list: unknown[] = [];
    try {
      for (;;) {
        if (this.done) return list;
        const step = await gen.next();
        if (step.done) break;
        let item = step.value;
        if (handler) item = await handler(item);
        item = toJson(item, 'Yielded items', `item[${list.length}]`, this.host.runtime.config);
        if (this.done) return list;
        list.push(item);
        if (broker.immediate !== undefined) broker.immediate.pushItemNow(this.rec, item);
        else await broker.pushItem(this.rec, item);
      }
    } finally {
      if (this.done) await gen.return?.(undefined);
    }
    return list;
  }

  private context(): RunContext {
    return (this.ctx ??= new RunContext(this.host.runtime, this.rec, this));
  }

  private async resolve(p: ParamPlan): Promise<unknown> {
    switch (p.kind) {
      case 'ctx':
        return this.context();
      case 'logger':
        return this.context().logger;
      case 'self':
        return this.context().self();
      case 'value':
        return this.host.runtime.value(p.token);
      case 'depends':
        return this.openClass(p.cls);
      case 'factory':
        return this.openFactory(p.token);
      case 'unresolved':
        // never planned for a started app (start() refuses it); the test kit's runTask checks first
        throw new QTasksError(ErrorCodes.UNRESOLVED_PARAM, `Parameter #${p.index} of task ${this.rec.name} cannot be injected`);
      default:
        return undefined;
    }
  }

  private async buildInstance(): Promise<object> {
    const plan = this.task.def.ctor;
    const values: unknown[] = [];
    for (const p of plan) values.push(await this.resolve(p));
    return this.host.runtime.construct(this.task.def, (i) => values[i]);
  }

  private async openClass(cls: Constructor): Promise<unknown> {
    const runtime = this.host.runtime;
    const plan: ParamPlan[] = runtime.dependsPlan(cls);
    const values: unknown[] = [];
    for (const p of plan) values.push(await this.resolve(p));
    const instance = new (cls as new (...a: unknown[]) => { open?: () => unknown; close?: () => unknown })(...values);
    if (typeof instance.open === 'function') await instance.open();
    this.addCloser(() => instance.close?.());
    return instance;
  }

  private async openFactory(token: DependsToken): Promise<unknown> {
    const made = token.factory(this.context());
    if (made !== null && typeof made === 'object' && isGenerator(made)) {
      const gen = made as AsyncGenerator<unknown>;
      const first = await gen.next();
      this.addCloser(() => closeFactory(gen));
      return first.value;
    }
    return made;
  }

  /** Keeps a closer for the end of the run; once the run has ended (timeout, cancel), closes at once. */
  private addCloser(close: Closer): void {
    if (!this.done) {
      (this.closers ??= []).push(close);
      return;
    }
    void (async () => close())().catch((err) => this.context().logger.error('A @Depends resource failed to close', { error: err }));
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
    this.host.attemptEnded?.(this.rec, outcome.status);
    const runtime = this.host.runtime;
    if (outcome.status === 'error' || outcome.status === 'retry') logFailure(runtime.logger, this.rec, outcome);
    const point = hookPoint(outcome);
    if (runtime.workflowAdvance !== undefined && isWorkflowId(this.rec.id)) {
      // a workflow moves on before this end is recorded: a worker killed in between runs this step
      // again, and starting the next stage twice enqueues nothing new (its ids are fixed)
      this.host.track(this.finalize(outcome, point));
      return;
    }
    if (this.closers === undefined && (point === undefined || !runtime.hooks.has(point))) {
      this.record(outcome);
      return;
    }
    if (this.closers === undefined) {
      // hooks only: when they are all synchronous, finish at once as on the plain path
      const ran = runtime.hooks.run(point!, this.endEvent(outcome));
      if (ran instanceof Promise) {
        this.host.track(ran.then(() => runtime.broker.finish(this.rec, outcome)).then((r) => r && runtime.onSettled?.(r)));
        return;
      }
      this.record(outcome);
      return;
    }
    this.host.track(this.finalize(outcome, point));
  }

  /** Hands the record back with its outcome: at once when the broker can, else tracked until written. */
  private record(outcome: Outcome): void {
    const runtime = this.host.runtime;
    const broker = runtime.broker;
    if (broker.immediate === undefined) {
      this.host.track(broker.finish(this.rec, outcome).then((r) => r && runtime.onSettled?.(r)));
      return;
    }
    const out = broker.immediate.finishNow(this.rec, outcome);
    if (out !== undefined) runtime.onSettled?.(out);
  }

  /** The event of an end point. */
  private endEvent(outcome: Outcome): HookEvent {
    const runtime = this.host.runtime;
    return new EndEvent(runtime.app ?? runtime, this.rec, outcome, this.ctx) as unknown as HookEvent;
  }

  private async finalize(outcome: Outcome, point: ReturnType<typeof hookPoint>): Promise<void> {
    const runtime = this.host.runtime;
    const closers = this.closers;
    this.closers = undefined;
    if (closers) {
      for (let i = closers.length - 1; i >= 0; i--) {
        try {
          await closers[i]();
        } catch (err) {
          this.context().logger.error('A @Depends resource failed to close', { error: err });
        }
      }
    }
    if (point !== undefined && runtime.hooks.has(point)) await runtime.hooks.run(point, this.endEvent(outcome));
    if (runtime.workflowAdvance !== undefined && isWorkflowId(this.rec.id)) {
      try {
        await runtime.workflowAdvance(this.rec, outcome);
      } catch (err) {
        this.context().logger.error('Starting the next stage of a workflow failed', { error: err, id: this.rec.id, code: (err as { code?: string }).code });
      }
    }
    const out = await runtime.broker.finish(this.rec, outcome);
    if (out) runtime.onSettled?.(out);
  }
}

/**
 * What an end-point hook receives: the record as it will be stored, its error and result — copies,
 * made when first read, so that a hook that changes them never changes what is stored.
 */
class EndEvent {
  #view: TaskRecord | undefined = undefined;
  #result: { value: unknown } | undefined = undefined;
  #error: { value: TaskErrorInfo | undefined } | undefined = undefined;
  readonly #rec: TaskRecord;
  readonly #outcome: Outcome;

  constructor(
    readonly app: object,
    rec: TaskRecord,
    outcome: Outcome,
    readonly ctx: RunContext | undefined,
  ) {
    this.#rec = rec;
    this.#outcome = outcome;
  }

  get record(): TaskRecord {
    return (this.#view ??= recordCopy({ ...copyRecord(this.#rec), ...recordView(this.#outcome) }));
  }

  get result(): unknown {
    return (this.#result ??= { value: cloneJson((this.#outcome as { returning?: unknown }).returning) }).value;
  }

  get error(): TaskErrorInfo | undefined {
    return (this.#error ??= { value: cloneJson((this.#outcome as { error?: TaskErrorInfo }).error) }).value;
  }
}

function hookPoint(o: Outcome): 'task:success' | 'task:error' | 'task:retry' | 'task:cancel' | undefined {
  switch (o.status) {
    case 'success':
      return 'task:success';
    case 'error':
      return 'task:error';
    case 'retry':
      return 'task:retry';
    case 'cancel':
      return 'task:cancel';
    default:
      return undefined;
  }
}

function recordView(o: Outcome): Partial<TaskRecord> {
  const now = Date.now();
  switch (o.status) {
    case 'success':
      return { status: 'success', returning: o.returning, finishedAt: now, updatedAt: now };
    case 'error':
      return { status: 'error', error: o.error, finishedAt: now, updatedAt: now };
    case 'cancel':
      return { status: 'cancel', cancelReason: o.reason, finishedAt: now, updatedAt: now };
    case 'retry':
      return { status: 'retry', error: o.error, updatedAt: now };
    default:
      return {};
  }
}

/** Errors that another attempt with the same input would meet again. */
const GEN_TAGS = new Set(['[object AsyncGenerator]', '[object Generator]']);

function isGenerator(value: object): value is AsyncIterator<unknown> | Iterator<unknown> {
  return GEN_TAGS.has(Object.prototype.toString.call(value));
}
