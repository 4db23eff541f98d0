/**
 * The retry decision after a failed attempt: whether the task gets another attempt and after how
 * long (its `retry`, `retryOn`, `RetryError`, `UnrecoverableError` and backoff with jitter or a
 * function).
 */
import { ErrorCodes, QTasksError } from '../errors';
import { isUnrecoverable } from '../errors/unrecoverable-error';
import type { Logger } from '../logger';
import type { TaskOptions } from '../metadata';
import { RetryError } from '../middleware/retry-error';
import type { BackoffOptions, TaskRecord } from '../task/task-record';

/** Errors no retry can fix (the arguments or the result are wrong). */
const NO_RETRY = new Set<string>([ErrorCodes.VALIDATION, ErrorCodes.NOT_SERIALIZABLE, ErrorCodes.PAYLOAD_TOO_LARGE]);

/** Delay in ms before the next attempt, or undefined when `err` ends the task. */
export function retryDelay(rec: TaskRecord, options: TaskOptions, err: unknown, logger: Logger): number | undefined {
  if (isUnrecoverable(err) || (err instanceof RetryError && isUnrecoverable(err.cause))) return undefined;
  const retries = rec.retry ?? options.retry ?? 0;
  const backoff = rec.backoff ?? options.backoff;
  if (err instanceof RetryError) {
    if (rec.attempt > (err.maxRetries ?? retries)) return undefined;
    if (err.delay !== undefined) return err.delay;
    return backoffDelay(backoff, rec, err.cause ?? err, logger);
  }
  if (rec.attempt > retries) return undefined;
  if (err instanceof QTasksError && NO_RETRY.has(err.code)) return undefined;
  const retryOn = options.retryOn;
  if (retryOn && retryOn.length > 0 && !retryOn.some((C) => err instanceof (C as unknown as new () => Error))) return undefined;
  return backoffDelay(backoff, rec, err, logger);
}

/** The backoff of one retry; a function's negative (or invalid) answer means no more retries. */
function backoffDelay(backoff: TaskOptions['backoff'], rec: TaskRecord, err: unknown, logger: Logger): number | undefined {
  if (!backoff) return 0;
  if (typeof backoff === 'function') {
    let ms: unknown;
    try {
      ms = backoff(rec.attempt, err);
    } catch (thrown) {
      logger.error(`The backoff function of task ${rec.name} threw; the task ends without another attempt`, { error: thrown });
      return undefined;
    }
    if (typeof ms !== 'number' || Number.isNaN(ms)) {
      logger.error(`The backoff function of task ${rec.name} returned ${String(ms)}, not a number of ms; the task ends without another attempt`);
      return undefined;
    }
    return ms < 0 ? undefined : Math.min(ms, MAX_DELAY_MS);
  }
  return withJitter(backoff, rec.attempt);
}

/** Longest delay a retry waits (about 24 days, what a timer can hold). */
const MAX_DELAY_MS = 2_147_483_647;

/** The delay of attempt `attempt`'s retry for an object backoff, jitter applied. */
export function withJitter(b: BackoffOptions, attempt: number): number {
  const base = b.type === 'exponential' ? b.delay * 2 ** (attempt - 1) : b.delay;
  const capped = Math.min(base, MAX_DELAY_MS);
  return b.jitter ? Math.round(capped * (1 - b.jitter * Math.random())) : capped;
}
