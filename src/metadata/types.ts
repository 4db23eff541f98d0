/**
 * Shapes of the metadata the decorators write.
 */
import type { BackoffFunction, BackoffOptions } from '../task/task-record';
import type { RetentionOption } from '../task/retention';

/** A class, abstract or not. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Constructor<T = unknown> = abstract new (...args: any[]) => T;
/** A class that can be built with `new`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ConcreteConstructor<T = unknown> = new (...args: any[]) => T;

/** Options of `@Task`. */
export interface TaskOptions {
  /** Task name (default: the class name, or `Class.method`). */
  name?: string;
  /**
   * The named queue the task is enqueued on (default: the app's `name`). Workers consume it when
   * their app's `name` or `queues` lists it; `discover` never includes it in an app that does not.
   */
  queue?: string;
  /** The first parameter of the task is its own {@link TaskSelf}. */
  echo?: boolean;
  priority?: number;
  /** Retries after the first attempt. */
  retry?: number;
  /** Error classes worth a retry (default: every error). */
  retryOn?: Constructor<Error>[];
  /**
   * Delay between attempts: `{ type, delay, jitter? }`, or a function `(attempt, error) => ms` run
   * by the worker (a negative number ends the task `error` with no more retries).
   */
  backoff?: BackoffOptions | BackoffFunction;
  /** Milliseconds allowed for one attempt. */
  timeout?: number;
  /** Maps each yielded item before it is stored and streamed. */
  generateHandler?: (item: unknown) => unknown;
  /** Middleware classes run around this task only (after the global ones). */
  middlewares?: Constructor[];
  tags?: string[];
  description?: string;
  /** `true`: validate class-typed parameters; or the DTO class of each argument. */
  validate?: boolean | (Constructor | undefined)[];
  /** At most `max` starts in any sliding window of `per` ms, for all workers. */
  rateLimit?: { max: number; per: number };
  /** Cron schedule that enqueues this task with no arguments. */
  cron?: string | { pattern: string; timezone?: string; args?: unknown[] };
  /** Retention once the task succeeds (see {@link RetentionOption}); `addTask` options override it. */
  removeOnComplete?: RetentionOption;
  /** Retention once the task ends `error` (see {@link RetentionOption}). */
  removeOnFail?: RetentionOption;
  /**
   * Where the task runs: `'inline'` (default: on the worker's event loop), `'thread'` (a worker
   * thread of the app's pool) or `'process'` (a child process of the app's pool).
   */
  executor?: ExecutorKind;
  /**
   * The file that exports the task's class, loaded by path in the thread or process (default: the
   * file where `@Task` ran). Pass `__filename` where a build tool hides it.
   */
  module?: string;
}

/** Where a task runs. */
export type ExecutorKind = 'inline' | 'thread' | 'process';

/** Metadata of a method-form task. */
export interface MethodTaskMeta {
  method: string;
  options: TaskOptions;
}

/** Options of `@State`. */
export interface StateOptions {
  /** Name under which the state is stored (default: the class name). */
  name?: string;
}

/** Lifetime of a `@Depends` resource. */
export type DependsScope = 'task' | 'worker';

/** Options of `@Depends`. */
export interface DependsOptions {
  scope?: DependsScope;
}
