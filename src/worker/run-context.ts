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
import { logLine } from '../task/task-history';
import type { EnqueueOptions, TaskRecord } from '../task/task-record';
import type { Runtime } from './runtime';

/** Owner of a run's abort state. */
export interface AbortSource {
  signal(): AbortSignal;
  /** Ends the run as `cancel` and aborts its signal. */
  cancel(reason?: string): void;
}

/** TaskContext bound to one run. */
export class RunContext extends TaskContext {
  private childLogger: Logger | undefined;
  private selfHandle: TaskSelf | undefined;
  readonly addTask: AddTaskFn;

  constructor(
    private readonly runtime: Runtime,
    private readonly record: TaskRecord,
    private readonly abort: AbortSource,
  ) {
    super();
    const parentId = record.id;
    this.addTask = ((name: string, args?: unknown[], opts?: EnqueueOptions) =>
      runtime.addTask(name, args, { ...opts, parentId: opts?.parentId ?? parentId })) as AddTaskFn;
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
      };
    }
    return this.selfHandle;
  }
}
