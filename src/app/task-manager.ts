/**
 * `TaskManager` (`app.manager`): what operators do with a queue — list, count, inspect, retry,
 * cancel, remove, purge, pause and resume, and see the workers.
 */
import type { Broker, WorkerInfo } from '../engine/broker';
import type { ListQuery, Storage } from '../engine/storage';
import type { TaskRecord, TaskStatus } from '../task/task-record';

/** Operations on one queue. Works without a worker in this process. */
export class TaskManager {
  constructor(
    private readonly engine: () => Promise<{ broker: Broker; storage: Storage }>,
  ) {}

  /** Records, newest first (by enqueue order), filtered and paged. */
  async list(query: ListQuery = {}): Promise<TaskRecord[]> {
    return (await this.engine()).storage.list(query);
  }

  /** How many tasks are in each status. */
  async counts(): Promise<Record<TaskStatus, number>> {
    return (await this.engine()).storage.counts();
  }

  /** One record, undefined when unknown. */
  async get(id: string): Promise<TaskRecord | undefined> {
    return (await this.engine()).storage.get(id);
  }

  /** Queues an `error` or `cancel` task again (same id, attempt reset); false otherwise. */
  async retry(id: string): Promise<boolean> {
    return (await this.engine()).broker.retry(id);
  }

  /** Cancels a task; false when unknown or already finished. */
  async cancel(id: string, reason?: string): Promise<boolean> {
    return (await this.engine()).broker.cancel(id, reason);
  }

  /** Removes a task that is not running; false when unknown or running. */
  async remove(id: string): Promise<boolean> {
    return (await this.engine()).storage.remove(id);
  }

  /** Removes every task in `status` (never running ones); returns how many. */
  async purge(status: TaskStatus): Promise<number> {
    return (await this.engine()).storage.purge(status);
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
}
