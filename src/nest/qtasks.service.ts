/**
 * `QTasksService`: the app, injectable anywhere in a Nest application (the app itself is also
 * injectable as `QTasks`).
 */
import { Injectable } from '@nestjs/common';
import { QTasks } from '../app/qtasks';
import type { BulkTask } from '../app/qtasks';
import type { TaskManager } from '../app/task-manager';
import type { TaskHandle } from '../task/task-handle';
import type { EnqueueOptions, TaskRecord } from '../task/task-record';

/** Enqueues and reads tasks of the module's app. */
@Injectable()
export class QTasksService {
  constructor(readonly app: QTasks) {}

  /** Enqueues a task (see `QTasks.addTask`). */
  addTask<R = unknown>(name: string, args?: unknown[], opts?: EnqueueOptions): Promise<TaskHandle<R>> {
    return this.app.addTask<R>(name, args, opts);
  }

  /** Enqueues many tasks in one call. */
  addTasks(tasks: BulkTask[]): Promise<TaskHandle[]> {
    return this.app.addTasks(tasks);
  }

  /** The record of a task, undefined for an unknown id. */
  getTask(id: string): Promise<TaskRecord | undefined> {
    return this.app.getTask(id);
  }

  /** A handle on an existing task (`result()`, `stream()`, `cancel()`). */
  handle<R = unknown>(id: string): TaskHandle<R> {
    return this.app.handle<R>(id);
  }

  /** Cancels a task; false when unknown or already finished. */
  cancel(id: string, reason?: string): Promise<boolean> {
    return this.app.cancel(id, reason);
  }

  /** The queue's TaskManager (list, counts, retry, pause, workers…). */
  get manager(): TaskManager {
    return this.app.manager;
  }
}
