/**
 * `UnrecoverableError`: what a task throws when trying again cannot help (bad input, a record that
 * is gone). The task ends `error` at once, whatever its `retry`, `retryOn` or backoff say.
 */
import { ErrorCodes } from './codes';
import { QTasksError } from './qtasks-error';

/**
 * Ends the task `error` at once, never retried. Its record's error has code
 * `QTASKS_ERR_UNRECOVERABLE`; give the reason as the message and the original error as `cause`.
 * @example
 * ```ts
 * if (!user) throw new UnrecoverableError(`user ${id} does not exist`);
 * ```
 */
export class UnrecoverableError extends QTasksError {
  constructor(message = 'The task failed and trying again cannot help', options: { cause?: unknown } = {}) {
    super(ErrorCodes.UNRECOVERABLE, message, options);
  }
}

/** True for an {@link UnrecoverableError}, also one from another copy of qtasks (by its code). */
export function isUnrecoverable(err: unknown): boolean {
  return err instanceof UnrecoverableError || (err instanceof Error && (err as { code?: unknown }).code === ErrorCodes.UNRECOVERABLE);
}
