/**
 * The general enqueue path of an app: finds a task by name, builds its record, and hands records
 * to the broker after preparing arguments and running `task:enqueue` hooks (bulk adds, the first
 * add before the engine is connected, and adds inside a caller's transaction). The app keeps only
 * the one-task fast path.
 */
import type { Config } from '../config';
import { ClosedError, ErrorCodes, QTasksError, TaskNotFoundError } from '../errors';
import type { HookRunner } from '../plugins/hook-runner';
import { toJsonArgs } from '../task/json';
import { recordCopy } from '../task/record-copy';
import { QTaskHandle, TaskHandle } from '../task/task-handle';
import type { EnqueueOptions, TaskRecord } from '../task/task-record';
import type { PreparedTask } from '../worker/runtime';
import { isHeaders, newRecord } from './new-record';
import type { TaskRegistry } from './task-registry';
import type { AppQueue, AppQueues } from './app-queues';

/** One entry of `addTasks`. */
export interface BulkTask {
  name: string;
  args?: unknown[];
  opts?: EnqueueOptions;
}

/** What the enqueue path needs from its app. */
export interface EnqueueHost {
  /** The app, as plugin hooks receive it. */
  readonly app: object;
  readonly config: Config;
  readonly hooks: HookRunner;
  readonly registry: TaskRegistry;
  /** The app's queues: each task is enqueued on its own. */
  readonly queues: AppQueues;
  /** True when `@Task` classes imported so far are included on first use. */
  readonly discover: boolean;
  /** A new task id. */
  readonly newId: () => string;
  /** True once the app is closed. */
  isClosed(): boolean;
}

/** Finds tasks, builds records and enqueues them on the general path. */
export class Enqueuer {
  constructor(private readonly host: EnqueueHost) {}

  /** The prepared task of `name`; throws `QTASKS_ERR_TASK_NOT_FOUND`, `QTASKS_ERR_CLOSED`, `QTASKS_ERR_BAD_OPTION`. */
  taskFor(name: string): PreparedTask {
    const host = this.host;
    if (host.isClosed()) throw new ClosedError('addTask');
    if (typeof name !== 'string') throw new QTasksError(ErrorCodes.BAD_OPTION, `addTask(name, …): the task name is a string, got ${name === null ? 'null' : typeof name}`);
    let task = host.registry.task(name);
    if (task === undefined && host.discover) {
      host.registry.discover();
      task = host.registry.task(name);
    }
    if (task === undefined) throw new TaskNotFoundError(String(name));
    return task;
  }

  /**
   * The queue a task goes to: `opts.queue` (a queue this app knows, else
   * `QTASKS_ERR_UNKNOWN_QUEUE`), else the task's own (`@Task({ queue })`), else the app's.
   */
  queueFor(task: PreparedTask, opts: EnqueueOptions | undefined): AppQueue {
    const queues = this.host.queues;
    const chosen = opts?.queue;
    if (chosen !== undefined) return chosen === queues.main.name ? queues.main : queues.named(chosen, 'addTask option queue');
    const own = task.def.options.queue;
    return own === undefined || own === queues.main.name ? queues.main : queues.get(own);
  }

  /** Includes every `@Task` class imported so far, when the app discovers. */
  discoverAll(): void {
    if (this.host.discover) this.host.registry.discover();
  }

  /** True when `name` is a task this app can enqueue. */
  has(name: string): boolean {
    try {
      this.taskFor(name);
      return true;
    } catch {
      return false;
    }
  }

  /** A new task's record (options checked). */
  record(task: PreparedTask, name: string, args: unknown[] | undefined, opts: EnqueueOptions | undefined): TaskRecord {
    return newRecord(task, name, args, opts, this.host.newId, this.host.config);
  }

  /** `addTasks`: every entry checked and built before anything is enqueued. */
  async addTasks(tasks: BulkTask[]): Promise<TaskHandle[]> {
    if (!Array.isArray(tasks) || !Array.from(tasks).every((t) => t !== null && typeof t === 'object')) {
      throw new QTasksError(ErrorCodes.BAD_OPTION, 'addTasks() takes an array of { name, args?, opts? }');
    }
    if (tasks.length === 0) return [];
    const records: TaskRecord[] = [];
    const prepared: PreparedTask[] = [];
    const queues: AppQueue[] = [];
    for (const t of tasks) {
      const task = this.taskFor(t.name);
      prepared.push(task);
      records.push(this.record(task, t.name, t.args, t.opts));
      queues.push(this.queueFor(task, t.opts));
    }
    const main = this.host.queues.main;
    if (queues.every((q) => q === main)) return this.addMany(prepared, records, main);
    // one enqueue per queue, the handles in the order given
    const out = new Array<TaskHandle>(tasks.length);
    await Promise.all(
      [...new Set(queues)].map(async (q) => {
        const at = queues.flatMap((x, i) => (x === q ? [i] : []));
        const handles = await this.addMany(at.map((i) => prepared[i]), at.map((i) => records[i]), q);
        at.forEach((i, k) => (out[i] = handles[k]));
      }),
    );
    return out;
  }

  /** `addTask` with `{ transaction }`: the broker enqueues on the caller's open transaction. */
  async addInTransaction<R>(task: PreparedTask, record: TaskRecord, transaction: unknown, queue: AppQueue): Promise<TaskHandle<R>> {
    const host = this.host;
    await queue.init();
    if (task.prepareArgs) await task.prepareArgs(record.args);
    if (host.hooks.has('task:enqueue')) {
      const ev = await host.hooks.run('task:enqueue', { app: host.app, record, args: record.args });
      if (ev.args !== record.args && Array.isArray(ev.args)) record.args = toJsonArgs(ev.args);
    }
    if (host.isClosed()) throw new ClosedError('addTask');
    const [stored] = await queue.broker.enqueueWith(transaction, [record]);
    return new QTaskHandle<R>(stored.id, queue);
  }

  /**
   * Prepares arguments and runs `task:enqueue` hooks for each record (`tasks[i]`, or `tasks[0]` for
   * all), then enqueues them on `queue` in one call.
   */
  async addMany(tasks: PreparedTask[], records: TaskRecord[], queue: AppQueue): Promise<TaskHandle[]> {
    const host = this.host;
    await queue.init();
    for (let i = 0; i < records.length; i++) await this.prepare(tasks[i] ?? tasks[0], records[i]);
    if (host.isClosed()) throw new ClosedError('addTask');
    const stored = await queue.broker.enqueue(records);
    return stored.map((r) => new QTaskHandle(r.id, queue, r));
  }

  /** Checks a record's arguments and runs the `task:enqueue` hooks on it. */
  private async prepare(task: PreparedTask, rec: TaskRecord): Promise<void> {
    const host = this.host;
    if (task.prepareArgs) await task.prepareArgs(rec.args);
    if (host.hooks.has('task:enqueue')) {
      // hooks get a copy; what is stored is the event's args (returned or changed) and record.headers
      const view = recordCopy(rec);
      const ev = await host.hooks.run('task:enqueue', { app: host.app, record: view, args: view.args });
      if (Array.isArray(ev.args)) rec.args = toJsonArgs(ev.args, host.config);
      if (isHeaders(view.headers)) rec.headers = { ...view.headers };
    }
  }

  /**
   * Stores a task `waiting`, not queued (a flow's parent while its children run), checked and
   * hooked as `addTask`; {@link release} queues it. False (nothing written) when its queue's engine
   * cannot (no record writer or no `release`) or it is delayed: it is then enqueued when released.
   */
  async hold(name: string, args: unknown[], opts: EnqueueOptions): Promise<boolean> {
    const task = this.taskFor(name);
    const queue = this.queueFor(task, opts);
    const record = this.record(task, name, args, opts);
    await queue.init();
    const writer = queue.storage.recordWriter;
    if (writer === undefined || queue.broker.release === undefined || record.status !== 'new') return false;
    await this.prepare(task, record);
    if (this.host.isClosed()) throw new ClosedError('addTask');
    record.status = 'waiting';
    await writer.insert([record]);
    return true;
  }

  /** Queues a task {@link hold} stored; false when there is none waiting under `id`. */
  async release(name: string, id: string, opts: EnqueueOptions): Promise<boolean> {
    const queue = this.queueFor(this.taskFor(name), opts);
    await queue.init();
    return (await queue.broker.release?.(id)) ?? false;
  }
}
