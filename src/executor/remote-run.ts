/**
 * What an attempt hands to a thread or process executor, and the errors that come back from one.
 */
import type { Outcome } from '../engine/broker';
import { ErrorCodes, QTasksError, TaskErrorInfo } from '../errors';
import type { TaskContext } from '../task/task-context';
import type { TaskRecord } from '../task/task-record';

/** One attempt, as an executor sees it. */
export interface RemoteRun {
  /** The run's context in the app: its signal aborts (timeout, cancel, shutdown) stop the child. */
  readonly ctx: TaskContext;
  readonly record: TaskRecord;
  /** The arguments to run with (after validation and `task:before` hooks). */
  readonly args: unknown[];
  /** Called when the task starts in the child: its timeout counts from here. */
  started(): void;
}

/** Runs one attempt elsewhere; resolves with the task's value (a generator's: the list of items). */
export type RemoteCall = (run: RemoteRun) => Promise<unknown>;

/**
 * The attempt ended elsewhere as anything but a success (an error, a retry, a cancel), already
 * decided there with the task's own error classes. Middleware sees it as the task's error.
 */
export class RemoteOutcome extends Error {
  constructor(readonly outcome: Exclude<Outcome, { status: 'success' | 'handback' }>) {
    const error = (outcome as { error?: TaskErrorInfo }).error;
    super(error?.message ?? `The task ended ${outcome.status}`);
    this.name = error?.name ?? 'Error';
    if (error?.code !== undefined) (this as { code?: string }).code = error.code;
    if (error?.stack !== undefined) this.stack = error.stack;
  }
}

/** The thread or process running a task died before the task ended (exit, crash, out of memory). */
export class ExecutorCrashedError extends QTasksError {
  constructor(kind: 'thread' | 'process', why: string, cause?: unknown) {
    super(
      ErrorCodes.EXECUTOR_CRASHED,
      `The ${kind} running the task died (${why}); it was replaced. The task is retried by its retry policy`,
      { cause },
    );
  }
}

/** The task's module cannot be loaded in a thread or process, or does not export the task's class. */
export class ExecutorModuleError extends QTasksError {
  constructor(message: string, cause?: unknown) {
    super(ErrorCodes.EXECUTOR_MODULE, message, { cause });
  }
}
