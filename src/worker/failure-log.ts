/**
 * Failures said out loud: every task that ends `error` or times out is logged at `warn` with its
 * id, name and error code (retries of other errors at `info`), so that an operator sees them
 * without listening to events (stalls are logged by the engine's lease sweep that finds them).
 * Nothing is logged for successes (the hot path stays silent).
 */
import type { Outcome } from '../engine/broker';
import { ErrorCodes } from '../errors';
import type { Logger } from '../logger';
import type { TaskRecord } from '../task/task-record';

/** Logs a failed attempt (an `error` or `retry` outcome); other outcomes are ignored. */
export function logFailure(logger: Logger, rec: TaskRecord, outcome: Outcome): void {
  if (outcome.status !== 'error' && outcome.status !== 'retry') return;
  const code = outcome.error.code;
  // `code` is the error's own (qtasks codes, or a library's such as ECONNRESET); `error` its class name
  const fields = { id: rec.id, name: rec.name, code, attempt: rec.attempt, error: outcome.error.name, message: outcome.error.message };
  if (outcome.status === 'error') {
    logger.warn(code === ErrorCodes.TASK_TIMEOUT ? 'Task timed out' : 'Task failed', fields);
  } else if (code === ErrorCodes.TASK_TIMEOUT) {
    logger.warn('Task timed out; it will be retried', { ...fields, retryInMs: outcome.delayMs });
  } else {
    logger.info('Task failed; it will be retried', { ...fields, retryInMs: outcome.delayMs });
  }
}
