/**
 * The test kit (`qtasks/testing`): an in-memory app that runs tasks without a worker, and waits
 * until the queue is drained.
 */
import 'reflect-metadata';
import { QTasks } from '../app/qtasks';
import type { QTasksOptions } from '../app/options';
import { MemoryBroker } from '../engines/memory/memory-broker';
import { ErrorCodes, QTasksError, TaskNotFoundError } from '../errors';
import { MemoryStorage } from '../engines/memory/memory-storage';
import { isFinal, TaskRecord } from '../task/task-record';
import { copyRecord } from '../task/record-copy';
import { Worker } from '../worker/worker';

/** An in-memory app with `runTask` and `drain`. */
export class TestApp extends QTasks {
  private direct: Worker | undefined;

  /**
   * Runs a task in this process without a worker (retries included) and returns its final record.
   * The task gets the same injection, middleware and hooks as on a worker.
   */
  async runTask(name: string, args: unknown[] = []): Promise<TaskRecord> {
    this.registry.replan();
    this.registry.assertResolved(name);
    const handle = await this.addTask(name, args);
    const broker = this.memoryBroker();
    const worker = (this.direct ??= new Worker(this.internals, Number.MAX_SAFE_INTEGER, 'test-runner'));
    // the final record, also when `removeOnComplete` drops it from the storage
    const ended = broker.waitFinal(handle.id).then(
      (r) => (r && isFinal(r.status) ? (structuredClone(copyRecord(r)) as TaskRecord) : undefined),
      () => undefined,
    );
    for (;;) {
      const rec = await this.getTask(handle.id);
      if (rec === undefined) {
        const final = await ended;
        if (final) return final;
        throw new TaskNotFoundError(handle.id, 'id');
      }
      if (isFinal(rec.status)) return rec;
      const claimed = broker.claimNow(handle.id, worker);
      if (claimed) {
        worker.run(claimed);
        await worker.idle();
        continue;
      }
      if (rec.status === 'process' || rec.status === 'waiting') {
        await broker.waitFinal(handle.id);
        continue;
      }
      // a retry waiting for its backoff
      await new Promise((r) => setTimeout(r, Math.max(1, (rec.runAt ?? Date.now()) - Date.now())));
      const final = await this.getTask(handle.id);
      if (final && final.status === 'retry' && (final.runAt ?? 0) <= Date.now()) continue;
      if (final && isFinal(final.status)) return copyRecord(final);
    }
  }

  /**
   * Resolves once nothing is queued or running (delayed tasks are not counted). Needs `start()`
   * when tasks are queued.
   */
  async drain(): Promise<void> {
    const broker = this.memoryBroker();
    for (;;) {
      const counts = await this.manager.counts();
      // a task waiting for its retry backoff is not done yet
      const busy = broker.readyCount() > 0 || counts.process > 0 || counts.waiting > 0 || counts.retry > 0 || (this.worker?.size ?? 0) > 0;
      if (!busy) {
        await this.worker?.idle();
        return;
      }
      if (!this.worker && broker.readyCount() > 0) {
        throw new QTasksError(ErrorCodes.INVALID_STATE, 'drain() with tasks queued and no worker: call app.start() first (or use runTask)');
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  private memoryBroker(): MemoryBroker {
    if (!(this.broker instanceof MemoryBroker)) {
      throw new QTasksError(ErrorCodes.INCOMPATIBLE_ENGINE, 'The test kit runs on the in-memory engine; create the app with createTestApp()');
    }
    return this.broker;
  }
}

/** An in-memory app for tests (`discover: false`: register what the test uses). */
export function createTestApp(options: QTasksOptions = {}): TestApp {
  return new TestApp({
    discover: false,
    ...options,
    broker: options.broker ?? new MemoryBroker(),
    storage: options.storage ?? new MemoryStorage(),
    redis: undefined,
  });
}

export { QTasks };
