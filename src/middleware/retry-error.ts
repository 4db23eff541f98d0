/**
 * `RetryError`: thrown by a middleware (or a task) to ask for another attempt, whatever the task's
 * `retryOn` says. It is how a middleware turns an error into a retry.
 */
import { ErrorCodes, QTasksError } from '../errors';

/** Options of {@link RetryError}. */
export interface RetryErrorOptions {
  /** The error that caused the retry; it is what the record shows if no attempt is left. */
  cause?: unknown;
  /** Milliseconds before the next attempt (default: the task's backoff, or at once). */
  delay?: number;
  /**
   * Retries allowed after the first attempt for this request (default: the task's `retry`).
   * Lets a middleware retry a task declared with no retries.
   */
  maxRetries?: number;
}

/**
 * Ends the attempt as a retry. Ignores `retryOn`; counts against the task's retries (or
 * `maxRetries`). When none is left the task ends `error` with the cause recorded.
 * @example
 * ```ts
 * @Middleware()
 * class RetryOnTimeout {
 *   async handle(ctx: TaskContext, next: () => Promise<unknown>) {
 *     try { return await next(); }
 *     catch (err) { if (isTransient(err)) throw new RetryError({ cause: err, delay: 100, maxRetries: 2 }); throw err; }
 *   }
 * }
 * ```
 */
export class RetryError extends QTasksError {
  readonly delay: number | undefined;
  readonly maxRetries: number | undefined;

  constructor(options: RetryErrorOptions = {}) {
    const why = options.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(ErrorCodes.RETRY_REQUESTED, `A retry was requested${why}`, { cause: options.cause });
    if (options.delay !== undefined && !(options.delay >= 0)) {
      throw new QTasksError(ErrorCodes.BAD_OPTION, 'RetryError delay must be a non-negative number of ms');
    }
    if (options.maxRetries !== undefined && !(Number.isInteger(options.maxRetries) && options.maxRetries >= 0)) {
      throw new QTasksError(ErrorCodes.BAD_OPTION, 'RetryError maxRetries must be a non-negative integer');
    }
    this.delay = options.delay;
    this.maxRetries = options.maxRetries;
  }
}
