/**
 * The data kept for every task: its record, status and the options it was enqueued with.
 */
import type { TaskErrorInfo } from '../errors';
import type { AttemptInfo, TaskLogLine } from './task-history';
import type { RetentionOption } from './retention';

/**
 * Where a task is in its life. `waiting`: a task waiting for its children (`self.waitChildren()`,
 * or a flow's parent before its children ended); it holds no worker slot.
 */
export type TaskStatus = 'new' | 'delayed' | 'process' | 'waiting' | 'success' | 'error' | 'cancel' | 'retry';

/** Every status, in life order. */
export const TASK_STATUSES: readonly TaskStatus[] = ['new', 'delayed', 'process', 'waiting', 'success', 'error', 'cancel', 'retry'];

/**
 * The index of `status` in {@link TASK_STATUSES}, -1 for anything else: a few comparisons, where a
 * lookup by a string key (an object or a Set) hashes it (this runs several times per task).
 */
export function statusIndex(status: unknown): number {
  switch (status) {
    case 'new':
      return 0;
    case 'delayed':
      return 1;
    case 'process':
      return 2;
    case 'waiting':
      return 3;
    case 'success':
      return 4;
    case 'error':
      return 5;
    case 'cancel':
      return 6;
    case 'retry':
      return 7;
    default:
      return -1;
  }
}

/** Statuses that end a task. */
export const FINAL_STATUSES: ReadonlySet<TaskStatus> = new Set<TaskStatus>(['success', 'error', 'cancel']);

/** Backoff between retries. */
export interface BackoffOptions {
  type: 'fixed' | 'exponential';
  /** Base delay in ms (exponential: delay * 2^(attempt-1)). */
  delay: number;
  /**
   * 0..1: how much of each delay is random, so that tasks failing together do not retry together
   * (0.5: the delay is drawn between half and all of it). Default 0.
   */
  jitter?: number;
}

/**
 * A backoff computed by the task's own code: the delay in ms before attempt `attempt + 1`, after
 * `error` ended attempt `attempt` (a negative number: no more retries, the task ends `error`).
 * Only in `@Task({ backoff })`: it runs in the worker, which has the task's code; enqueue options
 * are stored as JSON and take the object form only.
 */
export type BackoffFunction = (attempt: number, error: unknown) => number;

/** Options of one `addTask`. */
export interface EnqueueOptions {
  /** Lower runs first; FIFO among equals. */
  priority?: number;
  /** Milliseconds before the task becomes due. */
  delay?: number;
  /** Retries after the first attempt. */
  retry?: number;
  backoff?: BackoffOptions;
  /** Milliseconds allowed for one attempt. */
  timeout?: number;
  /** Dedup key: a second add with the same id returns the existing task. */
  id?: string;
  /**
   * Retention of the task once it succeeds (its `result()` still settles): `true` drops it at once,
   * a number keeps that many of the queue's newest successes, `{ age, count }` keeps those that
   * finished within `age` ms (and at most `count`).
   */
  removeOnComplete?: RetentionOption;
  /** Retention of the task once it ends `error`, as {@link removeOnComplete}. */
  removeOnFail?: RetentionOption;
  /** Set by nested `addTask` calls. */
  parentId?: string;
  /**
   * The named queue to enqueue on instead of the task's own (`@Task({ queue })`, else the app's
   * `name`); it must be a queue this app knows (its name, its `queues`, a registered task's queue).
   */
  queue?: string;
  /**
   * Enqueue inside this open database transaction (a `pg` client after `BEGIN`, PostgreSQL engine):
   * the task exists once it commits, never if it rolls back. Other engines reject `QTASKS_ERR_UNSUPPORTED`.
   */
  transaction?: unknown;
  /**
   * String headers carried with the task to every attempt, unchanged by every engine (e.g. a W3C
   * `traceparent`, a tenant or request id). Plugins may add to them at `task:enqueue`.
   */
  headers?: Record<string, string>;
}

/** A task as kept by the storage. Arguments and results are JSON. */
export interface TaskRecord {
  id: string;
  name: string;
  status: TaskStatus;
  priority: number;
  args: unknown[];
  /** 0 until it runs, 1 on the first run. */
  attempt: number;
  progress?: unknown;
  createdAt: number;
  updatedAt: number;
  startedAt?: number;
  finishedAt?: number;
  returning?: unknown;
  error?: TaskErrorInfo;
  cancelReason?: string;
  parentId?: string;
  workerId?: string;
  /** When a delayed or retrying task becomes due (ms since epoch). */
  runAt?: number;
  /** Retries allowed after the first attempt. */
  retry?: number;
  backoff?: BackoffOptions;
  timeout?: number;
  removeOnComplete?: RetentionOption;
  removeOnFail?: RetentionOption;
  /** Lines the task wrote with `ctx.log(line)`, oldest first (the newest `maxLogLines` are kept). */
  logs?: TaskLogLine[];
  /**
   * Every attempt, oldest first: when it started and ended, how it ended and its error (the newest
   * `maxAttemptHistory` are kept). On records read from the storage (`getTask`, the manager).
   */
  attempts?: AttemptInfo[];
  /** How many times its lease expired while it ran. */
  stalls?: number;
  /** Enqueue sequence, for stable newest-first listing. */
  seq?: number;
  /** String headers given at enqueue (`EnqueueOptions.headers`, plugins), as carried by the engine. */
  headers?: Record<string, string>;
}

/** True for `success`, `error` and `cancel`. */
export function isFinal(status: TaskStatus): boolean {
  return status === 'success' || status === 'error' || status === 'cancel';
}
