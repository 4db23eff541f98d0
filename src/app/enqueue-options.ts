/**
 * Checks of enqueue options, with errors that say what to pass instead.
 */
import { ErrorCodes, QTasksError } from '../errors';
import { checkRetention } from '../task/retention';
import { MAX_ID_LENGTH } from './check-input';
import { isQueueName } from '../engine/queue-options';
import type { EnqueueOptions } from '../task/task-record';

/** Throws `QTASKS_ERR_BAD_OPTION` for an option of the wrong kind. */
export function checkEnqueueOptions(o: EnqueueOptions): void {
  const fail = (msg: string) => new QTasksError(ErrorCodes.BAD_OPTION, `addTask options: ${msg}`);
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw fail(`take an object ({ priority, delay, retry, … }), got ${o === null ? 'null' : typeof o}`);
  if (o.priority !== undefined && !Number.isFinite(o.priority)) throw fail('priority must be a finite number (lower runs first)');
  if (o.delay !== undefined && !(typeof o.delay === 'number' && o.delay >= 0 && o.delay < Infinity)) throw fail('delay must be a non-negative number of ms');
  if (o.retry !== undefined && (!Number.isInteger(o.retry) || o.retry < 0)) throw fail('retry must be a non-negative integer');
  if (o.queue !== undefined && !isQueueName(o.queue)) throw fail('queue must be a queue name (non-empty, without spaces or braces)');
  if (o.timeout !== undefined && !(typeof o.timeout === 'number' && o.timeout > 0)) throw fail('timeout must be a positive number of ms');
  if (o.id !== undefined && (typeof o.id !== 'string' || o.id.length === 0 || o.id.length > MAX_ID_LENGTH)) {
    throw fail(`id must be a non-empty string of at most ${MAX_ID_LENGTH} characters`);
  }
  if (o.headers !== undefined && (o.headers === null || typeof o.headers !== 'object' || Array.isArray(o.headers) || Object.values(o.headers).some((v) => typeof v !== 'string'))) {
    throw fail('headers must be an object of strings: { traceparent: "00-…", tenant: "acme" }');
  }
  if (typeof o.backoff === 'function') {
    throw fail('backoff as a function runs in the worker: give it in @Task({ backoff }); addTask takes { type, delay, jitter? }');
  }
  const bad = backoffProblem(o.backoff);
  if (bad) throw fail(bad);
  checkRetention(o.removeOnComplete, 'addTask options: removeOnComplete');
  checkRetention(o.removeOnFail, 'addTask options: removeOnFail');
}

/** What is wrong with a backoff object, undefined when it is fine (or absent). */
export function backoffProblem(b: unknown): string | undefined {
  if (b === undefined) return undefined;
  const o = b as { type?: unknown; delay?: unknown; jitter?: unknown };
  if (b === null || typeof b !== 'object' || !['fixed', 'exponential'].includes(o.type as string) || !(typeof o.delay === 'number' && o.delay >= 0 && o.delay < Infinity)) {
    return "backoff must be { type: 'fixed' | 'exponential', delay: ms, jitter?: 0..1 }";
  }
  if (o.jitter !== undefined && !(typeof o.jitter === 'number' && o.jitter >= 0 && o.jitter <= 1)) {
    return 'backoff jitter must be a number from 0 (none) to 1 (the whole delay is random)';
  }
  return undefined;
}
