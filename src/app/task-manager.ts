/**
 * `TaskManager` (`app.manager`): what operators do with the queues of an app — list the queues,
 * list, count, inspect, retry, cancel, remove, purge, pause and resume, and manage the workers.
 * Calls on a queue take its name (default: the app's own); calls on a task id find its queue.
 */
import type { Broker, WorkerInfo } from '../engine/broker';
import { ErrorCodes, QTasksError } from '../errors';
import { checkId, checkListQuery, checkReason, checkStatus } from './check-input';
import { commandWorker } from './worker-commands';
import { readStats, StatsBucket, StatsQuery } from '../stats/task-stats';
import type { ScheduleInfo } from '../timer/timers';
import type { FinishedStatus, ListQuery, Storage } from '../engine/storage';
import type { TaskRecord, TaskStatus } from '../task/task-record';

/** What the manager asks of its app beyond the engine. */
export interface ManagerHost {
  /** How long a worker command may take to be applied (the app's `connectTimeoutMs`). */
  commandTimeoutMs?(): number;
  /** The app's schedules. */
  schedules?(): Promise<ScheduleInfo[]>;
}

/** One queue's engine, as the manager reads it. */
export interface ManagedQueue {
  readonly name: string;
  readonly broker: Broker;
  readonly storage: Storage;
}

/** How the manager reaches the queues of its app and of the engine. */
export interface ManagerQueues {
  /** Queue `name` (the app's own when undefined), connected; `QTASKS_ERR_UNKNOWN_QUEUE` when unknown. */
  resolve(name: string | undefined, what: string): Promise<ManagedQueue>;
  /** Every queue the app knows, connected, its own first (and those named in `also`). */
  connectedKnown(also?: readonly string[]): Promise<ManagedQueue[]>;
  /** The queue holding task `id` and its record, undefined when none does. */
  locate(id: string): Promise<{ queue: ManagedQueue; record: TaskRecord } | undefined>;
  /** True when the app uses one queue only. */
  readonly single: boolean;
  /** Names of every queue the engine holds. */
  engineNames(): Promise<string[]>;
}

/** One queue as `manager.queues()` lists it. */
export interface QueueInfo {
  name: string;
  counts: Record<TaskStatus, number>;
  paused: boolean;
  /** Live workers consuming it. */
  workers: WorkerInfo[];
}

/** `manager.list()` query: a {@link ListQuery} and the queue to read (default: the app's own). */
export interface ManagerListQuery extends ListQuery {
  queue?: string;
}

/** What `manager.clean()` removes. */
export interface CleanOptions {
  /** Final statuses to clean (default all three: `success`, `error`, `cancel`). */
  status?: FinishedStatus | FinishedStatus[];
  /** Only tasks that finished at least this many ms ago (default 0: every finished task). */
  olderThanMs?: number;
  /** Removes at most this many (default: every match). */
  limit?: number;
  /** The queue to clean (default: the app's own). */
  queue?: string;
}

const FINISHED: FinishedStatus[] = ['success', 'error', 'cancel'];

/** Operations on the queues of an app (its own by default). Works without a worker in this process. */
export class TaskManager {
  constructor(
    private readonly reach: ManagerQueues,
    private readonly host: ManagerHost = {},
  ) {}

  private commandTimeoutMs(): number {
    return this.host.commandTimeoutMs?.() ?? 5_000;
  }

  /** The queue holding `id` (the app's own when it uses one queue, or when none holds it). */
  private async queueOf(id: string): Promise<ManagedQueue> {
    if (this.reach.single) return this.reach.resolve(undefined, 'manager');
    return (await this.reach.locate(id))?.queue ?? this.reach.resolve(undefined, 'manager');
  }

  /**
   * Every queue of the engine (those whose apps connected, and those this app knows), its own
   * first: counts by status, whether it is paused, its live workers.
   */
  async queues(): Promise<QueueInfo[]> {
    const all = await this.reach.connectedKnown(await this.reach.engineNames());
    return Promise.all(
      all.map(async (q) => ({ name: q.name, counts: await q.storage.counts(), paused: await q.broker.isPaused(), workers: await q.broker.workers() })),
    );
  }

  /**
   * Per-minute buckets of the last `sinceMs` (default and at most one hour), oldest first: ends
   * by status and wait/run time percentiles, kept by the engine for every worker of the queue.
   */
  async stats(query: StatsQuery = {}): Promise<StatsBucket[]> {
    return readStats((await this.reach.resolve(query.queue, 'manager.stats()')).storage, query.sinceMs);
  }

  /** Every schedule of the app (timers and `@Task({ cron })`): pattern, next run, last run. */
  async schedules(): Promise<ScheduleInfo[]> {
    return this.host.schedules ? this.host.schedules() : [];
  }

  /** Records of a queue (default: the app's own), newest first (by enqueue order), filtered and paged. */
  async list(query: ManagerListQuery = {}): Promise<TaskRecord[]> {
    checkListQuery(query);
    const { queue, ...rest } = query;
    const q = await this.reach.resolve(queue, 'manager.list()');
    return q.storage.list(queue === undefined ? query : rest);
  }

  /** How many tasks of a queue (default: the app's own) are in each status. */
  async counts(queue?: string): Promise<Record<TaskStatus, number>> {
    return (await this.reach.resolve(queue, 'manager.counts()')).storage.counts();
  }

  /** One record (looked up in every queue the app knows), undefined when unknown. */
  async get(id: string): Promise<TaskRecord | undefined> {
    checkId(id, 'manager.get()');
    if (this.reach.single) return (await this.reach.resolve(undefined, 'manager.get()')).storage.get(id);
    // the lookup has read the record already
    return (await this.reach.locate(id))?.record;
  }

  /** Streamed items of a task from index `from` (looked up in every queue the app knows). */
  async items(id: string, from = 0): Promise<unknown[]> {
    checkId(id, 'manager.items()');
    return (await this.queueOf(id)).storage.items(id, from);
  }

  /** Queues an `error` or `cancel` task again (same id, attempt reset); false otherwise. */
  async retry(id: string): Promise<boolean> {
    checkId(id, 'manager.retry()');
    return (await this.queueOf(id)).broker.retry(id);
  }

  /** Cancels a task; false when unknown or already finished. */
  async cancel(id: string, reason?: string): Promise<boolean> {
    checkId(id, 'manager.cancel()');
    checkReason(reason, 'manager.cancel()');
    return (await this.queueOf(id)).broker.cancel(id, reason);
  }

  /** Removes a task that is not running; false when unknown or running. */
  async remove(id: string): Promise<boolean> {
    checkId(id, 'manager.remove()');
    return (await this.queueOf(id)).storage.remove(id);
  }

  /** Removes every task in `status` (never running ones) from a queue (default: the app's own); returns how many. */
  async purge(status: TaskStatus, queue?: string): Promise<number> {
    checkStatus(status, 'manager.purge()');
    return (await this.reach.resolve(queue, 'manager.purge()')).storage.purge(status);
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
    const q = await this.reach.resolve(options.queue, 'manager.clean()');
    if (options.limit === 0 || statuses.length === 0) return 0;
    const query = { statuses: [...new Set(statuses)], finishedBefore: Date.now() - older, ...(options.limit === undefined ? {} : { limit: options.limit }) };
    return q.storage.clean(query);
  }

  /** Workers stop claiming from a queue (default: the app's own); running work finishes. */
  async pause(queue?: string): Promise<void> {
    await (await this.reach.resolve(queue, 'manager.pause()')).broker.pause();
  }

  /** Workers go on claiming from a queue (default: the app's own). */
  async resume(queue?: string): Promise<void> {
    await (await this.reach.resolve(queue, 'manager.resume()')).broker.resume();
  }

  /** True while a queue (default: the app's own) is paused. */
  async isPaused(queue?: string): Promise<boolean> {
    return (await this.reach.resolve(queue, 'manager.isPaused()')).broker.isPaused();
  }

  /**
   * Live workers of a queue; without `queue`, of every queue this app knows (each worker consumes
   * one queue; `queues` says which).
   */
  async workers(queue?: string): Promise<WorkerInfo[]> {
    if (queue !== undefined || this.reach.single) return (await this.reach.resolve(queue, 'manager.workers()')).broker.workers();
    const seen = new Map<string, WorkerInfo>();
    for (const q of await this.reach.connectedKnown()) for (const w of await q.broker.workers()) if (!seen.has(w.id)) seen.set(w.id, w);
    return [...seen.values()];
  }

  /** The queue whose workers list worker `id` (else the app's own: the command then says it is unknown). */
  private async queueOfWorker(id: string): Promise<ManagedQueue> {
    if (!this.reach.single && typeof id === 'string') {
      for (const q of await this.reach.connectedKnown()) if ((await q.broker.workers()).some((w) => w.id === id)) return q;
    }
    return this.reach.resolve(undefined, 'manager');
  }

  /**
   * Worker `id` stops claiming (its running tasks finish); resolves once it says so in
   * `workers()`. Rejects `QTASKS_ERR_WORKER_NOT_FOUND` for an unknown or dead worker.
   */
  async pauseWorker(id: string): Promise<void> {
    await commandWorker(await this.queueOfWorker(id), id, { op: 'pause' }, (w) => w?.paused === true, this.commandTimeoutMs());
  }

  /** Worker `id` claims again. */
  async resumeWorker(id: string): Promise<void> {
    await commandWorker(await this.queueOfWorker(id), id, { op: 'resume' }, (w) => w !== undefined && w.paused !== true, this.commandTimeoutMs());
  }

  /**
   * Closes worker `id`'s app gracefully, wherever it runs (running tasks finish first; a CLI
   * `run` process then exits 0). Resolves once the worker stopped claiming.
   */
  async stopWorker(id: string): Promise<void> {
    await commandWorker(await this.queueOfWorker(id), id, { op: 'stop' }, (w) => w === undefined || w.paused === true, this.commandTimeoutMs());
  }

  /** Worker `id` runs up to `n` tasks at once from now on (an integer ≥ 1). */
  async setConcurrency(id: string, n: number): Promise<void> {
    if (!Number.isInteger(n) || n < 1) {
      throw new QTasksError(ErrorCodes.BAD_OPTION, `setConcurrency(${JSON.stringify(id)}, ${String(n)}): concurrency must be an integer of 1 or more`);
    }
    await commandWorker(await this.queueOfWorker(id), id, { op: 'concurrency', n }, (w) => w?.concurrency === n, this.commandTimeoutMs());
  }
}
