/**
 * Checks of enqueue options, with errors that say what to pass instead.
 */
import { ErrorCodes, QTasksError } from '../errors';
import type { EnqueueOptions } from '../task/task-record';

/** Throws `QTASKS_ERR_BAD_OPTION` for an option of the wrong kind. */
export function checkEnqueueOptions(o: EnqueueOptions): void {
  const fail = (msg: string) => new QTasksError(ErrorCodes.BAD_OPTION, `addTask options: ${msg}`);
  if (o.priority !== undefined && !Number.isFinite(o.priority)) throw fail('priority must be a finite number (lower runs first)');
  if (o.delay !== undefined && !(o.delay >= 0)) throw fail('delay must be a non-negative number of ms');
  if (o.retry !== undefined && (!Number.isInteger(o.retry) || o.retry < 0)) throw fail('retry must be a non-negative integer');
  if (o.timeout !== undefined && !(o.timeout > 0)) throw fail('timeout must be a positive number of ms');
  if (o.id !== undefined && (typeof o.id !== 'string' || o.id.length === 0)) throw fail('id must be a non-empty string');
  if (o.backoff !== undefined && (!['fixed', 'exponential'].includes(o.backoff.type) || !(o.backoff.delay >= 0))) {
    throw fail("backoff must be { type: 'fixed' | 'exponential', delay: ms }");
  }
}
