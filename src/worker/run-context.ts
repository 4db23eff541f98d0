/**
 * The TaskContext of one run. The AbortSignal and child logger are made only when asked for, so a
 * task that never looks at them costs nothing.
 */
import type { Broker } from '../engine/broker';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { Storage } from '../engine/storage';
import { ErrorCodes, QTasksError } from '../errors';
import { toJson } from '../task/json';
import { AddTaskFn, CancelSignal, TaskContext, TaskSelf } from '../task/task-context';
import type { TaskHandle } from '../task/task-handle';
import { awaitChildren, WaitChildrenOptions } from './wait-children';
import { logLine } from '../task/task-history';
import type { EnqueueOptions, TaskRecord } from '../task/task-record';
import type { Runtime } from './runtime';

/** Owner of a run's abort state. */
export interface AbortSource {
  signal(): AbortSignal;
  /** Ends the run as `cancel` and aborts its signal. */
  cancel(reason?: string): void;
  /** True once the attempt ended. */
  readonly done: boolean;
  /**
   * Runs `wait` while the run holds no worker slot (stored `waiting`), then takes a slot again.
   * Absent where a run cannot wait (a thread or process executor).
   */
  suspendWhile?<T>(wait: () => Promise<T>): Promise<T>;
}

/** TaskContext bound to one run. */
export class RunContext extends TaskContext {
  private childLogger: Logger | undefined;
  private selfHandle: TaskSelf | undefined;
  /** Children added by this run since its last `waitChildren()`, in the order added. */
  private children: Promise<TaskHandle | undefined>[] = [];
  readonly addTask: AddTaskFn;

  constructor(
    private readonly runtime: Runtime,
    private readonly record: TaskRecord,
    private readonly abort: AbortSource,
  ) {
    super();
    const parentId = record.id;
    this.addTask = ((name: string, args?: unknown[], opts?: EnqueueOptions) => {
      if (abort.done) {
        return Promise.reject(
          new QTasksError(ErrorCodes.INVALID_STATE, `Task ${parentId} has ended: a child cannot be added after its parent's run (add it with app.addTask, or before the run returns)`),
        );
      }
      const child = opts?.parentId ?? parentId;
      const added = runtime.addTask(name, args, { ...opts, parentId: child });
      // an add that fails is the caller's to see; waitChildren() skips it
      if (child === parentId) this.children.push(added.then((h) => h as TaskHandle, () => undefined));
      return added;
    }) as AddTaskFn;
  }

  get id(): string {
    return this.record.id;
  }
  get name(): string {
    return this.record.name;
  }
  get attempt(): number {
    return this.record.attempt;
  }
  get args(): readonly unknown[] {
    return this.record.args;
  }
  get parentId(): string | undefined {
    return this.record.parentId;
  }
  get logger(): Logger {
    return (this.childLogger ??= this.runtime.logger.child({ taskId: this.record.id, task: this.record.name, attempt: this.record.attempt }));
  }
  get signal(): AbortSignal {
    return this.abort.signal();
  }
  get broker(): Broker {
    return this.runtime.broker;
  }
  get storage(): Storage {
    return this.runtime.storage;
  }
  get config(): Config {
    return this.runtime.config;
  }

  cancel(reason?: string): never {
    // the run ends `cancel` now, even if the task catches the signal and goes on
    this.abort.cancel(reason);
    throw new CancelSignal(reason);
  }

  async progress(value: unknown): Promise<void> {
    await this.runtime.broker.progress(this.record, toJson(value, 'Progress', 'progress', this.runtime.config));
  }

  async log(line: string): Promise<void> {
    await this.runtime.storage.appendLog(this.record.id, logLine(line, this.record.attempt));
  }

  childResults(): Promise<unknown[]> {
    const read = this.runtime.childResults;
    if (read === undefined) return Promise.reject(new QTasksError(ErrorCodes.INVALID_STATE, 'ctx.childResults() is for the parent of a flow'));
    return read(this.id);
  }

  /**
   * The results of the children added since the last call, in the order added; the run holds no
   * worker slot meanwhile (see {@link TaskSelf.waitChildren}).
   */
  async waitChildren(options?: WaitChildrenOptions): Promise<unknown[]> {
    const abort = this.abort;
    if (abort.done) throw new QTasksError(ErrorCodes.INVALID_STATE, `Task ${this.id} has ended: waitChildren() is for its run`);
    if (abort.suspendWhile === undefined) {
      throw new QTasksError(ErrorCodes.UNSUPPORTED, `waitChildren() is not available to a task running in a thread or process executor (task ${this.name}): run the parent inline`);
    }
    const pending = this.children;
    this.children = [];
    if (pending.length === 0) return [];
    const handles = (await Promise.all(pending)).filter((h): h is TaskHandle => h !== undefined);
    return abort.suspendWhile(() => awaitChildren(handles, options, this.signal));
  }

  /** The echo handle of this run. */
  self(): TaskSelf {
    if (!this.selfHandle) {
      const ctx = this;
      this.selfHandle = {
        get id() {
          return ctx.id;
        },
        ctx,
        addTask: ctx.addTask,
        cancel: (reason?: string) => ctx.cancel(reason),
        waitChildren: <T>(options?: WaitChildrenOptions) => ctx.waitChildren(options) as Promise<T[]>,
      };
    }
    return this.selfHandle;
  }
}
