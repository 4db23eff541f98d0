/**
 * `TaskManager` (`app.manager`): what operators do with a queue — list, count, inspect, retry,
 * cancel, remove, purge, pause and resume, and see the workers.
 */
import type { Broker, WorkerInfo } from '../engine/broker';
import { ErrorCodes, QTasksError } from '../errors';
import { checkId, checkListQuery, checkReason, checkStatus } from './check-input';
import { commandWorker } from './worker-commands';
import { readStats, StatsBucket, StatsQuery } from '../stats/task-stats';
import type { ScheduleInfo } from '../timer/timers';

/** What the manager asks of its app beyond the engine. */
export interface ManagerHost {
  /** How long a worker command may take to be applied (the app's `connectTimeoutMs`). */
  commandTimeoutMs?(): number;
  /** The app's schedules. */
  schedules?(): Promise<ScheduleInfo[]>;
  /** The queue the manager reads. */
  queueName?(): string;
}
import type { FinishedStatus, ListQuery, Storage } from '../engine/storage';
import type { TaskRecord, TaskStatus } from '../task/task-record';

/** What `manager.clean()` removes. */
export interface CleanOptions {
  /** Final statuses to clean (default all three: `success`, `error`, `cancel`). */
  status?: FinishedStatus | FinishedStatus[];
  /** Only tasks that finished at least this many ms ago (default 0: every finished task). */
  olderThanMs?: number;
  /** Removes at most this many (default: every match). */
  limit?: number;
}

const FINISHED: FinishedStatus[] = ['success', 'error', 'cancel'];

/** Operations on one queue. Works without a worker in this process. */
export class TaskManager {
  constructor(
    private readonly engine: () => Promise<{ broker: Broker; storage: Storage }>,
    private readonly host: ManagerHost = {},
  ) {}

  private commandTimeoutMs(): number {
    return this.host.commandTimeoutMs?.() ?? 5_000;
  }

  /**
   * Per-minute buckets of the last `sinceMs` (default and at most one hour), oldest first: ends
   * by status and wait/run time percentiles, kept by the engine for every worker of the queue.
   */
  async stats(query: StatsQuery = {}): Promise<StatsBucket[]> {
    const name = this.host.queueName?.();
    if (query.queue !== undefined && name !== undefined && query.queue !== name) {
      throw new QTasksError(ErrorCodes.BAD_OPTION, `stats({ queue: ${JSON.stringify(query.queue)} }): this app's manager reads queue "${name}"; make an app of that queue to read it`);
    }
    return readStats((await this.engine()).storage, query.sinceMs);
  }

  /** Every schedule of the app (timers and `@Task({ cron })`): pattern, next run, last run. */
  async schedules(): Promise<ScheduleInfo[]> {
    return this.host.schedules ? this.host.schedules() : [];
  }

  /** Records, newest first (by enqueue order), filtered and paged. */
  async list(query: ListQuery = {}): Promise<TaskRecord[]> {
    checkListQuery(query);
    return (await this.engine()).storage.list(query);
  }

  /** How many tasks are in each status. */
  async counts(): Promise<Record<TaskStatus, number>> {
    return (await this.engine()).storage.counts();
  }

  /** One record, undefined when unknown. */
  async get(id: string): Promise<TaskRecord | undefined> {
    checkId(id, 'manager.get()');
    return (await this.engine()).storage.get(id);
  }

  /** Queues an `error` or `cancel` task again (same id, attempt reset); false otherwise. */
  async retry(id: string): Promise<boolean> {
    checkId(id, 'manager.retry()');
    return (await this.engine()).broker.retry(id);
  }

  /** Cancels a task; false when unknown or already finished. */
  async cancel(id: string, reason?: string): Promise<boolean> {
    checkId(id, 'manager.cancel()');
    checkReason(reason, 'manager.cancel()');
    return (await this.engine()).broker.cancel(id, reason);
  }

  /** Removes a task that is not running; false when unknown or running. */
  async remove(id: string): Promise<boolean> {
    checkId(id, 'manager.remove()');
    return (await this.engine()).storage.remove(id);
  }

  /** Removes every task in `status` (never running ones); returns how many. */
  async purge(status: TaskStatus): Promise<number> {
    checkStatus(status, 'manager.purge()');
    return (await this.engine()).storage.purge(status);
  }

  /**
   * Removes finished tasks (and their stream items and logs) that ended at least `olderThanMs`
   * ago; returns how many.
   * @example
   * ```ts
   * await app.manager.clean({ status: 'success', olderThanMs: 60 * 60_000 }); // successes older than an hour
   * ```
   */
  async clean(options: CleanOptions = {}): Promise<number> {
    const statuses = options.status === undefined ? FINISHED : Array.isArray(options.status) ? options.status : [options.status];
    const fail = (msg: string) => new QTasksError(ErrorCodes.BAD_OPTION, `manager.clean(): ${msg}`);
    for (const s of statuses) if (!FINISHED.includes(s)) throw fail(`status ${JSON.stringify(s)} is not a final status; use success, error or cancel (purge() removes the others)`);
    const older = options.olderThanMs ?? 0;
    if (!(typeof older === 'number' && older >= 0)) throw fail('olderThanMs must be a non-negative number of ms');
    if (options.limit !== undefined && !(Number.isInteger(options.limit) && options.limit >= 0)) throw fail('limit must be a non-negative integer');
    if (options.limit === 0 || statuses.length === 0) return 0;
    const query = { statuses: [...new Set(statuses)], finishedBefore: Date.now() - older, ...(options.limit === undefined ? {} : { limit: options.limit }) };
    return (await this.engine()).storage.clean(query);
  }

  /** Workers stop claiming; running work finishes. */
  async pause(): Promise<void> {
    await (await this.engine()).broker.pause();
  }

  /** Workers go on claiming. */
  async resume(): Promise<void> {
    await (await this.engine()).broker.resume();
  }

  /** True while the queue is paused. */
  async isPaused(): Promise<boolean> {
    return (await this.engine()).broker.isPaused();
  }

  /** Live workers of the queue. */
  async workers(): Promise<WorkerInfo[]> {
    return (await this.engine()).broker.workers();
  }

  /**
   * Worker `id` stops claiming (its running tasks finish); resolves once it says so in
   * `workers()`. Rejects `QTASKS_ERR_WORKER_NOT_FOUND` for an unknown or dead worker.
   */
  async pauseWorker(id: string): Promise<void> {
    await commandWorker(await this.engine(), id, { op: 'pause' }, (w) => w?.paused === true, this.commandTimeoutMs());
  }

  /** Worker `id` claims again. */
  async resumeWorker(id: string): Promise<void> {
    await commandWorker(await this.engine(), id, { op: 'resume' }, (w) => w !== undefined && w.paused !== true, this.commandTimeoutMs());
  }

  /**
   * Closes worker `id`'s app gracefully, wherever it runs (running tasks finish first; a CLI
   * `run` process then exits 0). Resolves once the worker stopped claiming.
   */
  async stopWorker(id: string): Promise<void> {
    await commandWorker(await this.engine(), id, { op: 'stop' }, (w) => w === undefined || w.paused === true, this.commandTimeoutMs());
  }

  /** Worker `id` runs up to `n` tasks at once from now on (an integer ≥ 1). */
  async setConcurrency(id: string, n: number): Promise<void> {
    if (!Number.isInteger(n) || n < 1) {
      throw new QTasksError(ErrorCodes.BAD_OPTION, `setConcurrency(${JSON.stringify(id)}, ${String(n)}): concurrency must be an integer of 1 or more`);
    }
    await commandWorker(await this.engine(), id, { op: 'concurrency', n }, (w) => w?.concurrency === n, this.commandTimeoutMs());
  }
}
