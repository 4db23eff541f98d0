/**
 * Operators' commands to one worker (pause, resume, stop, concurrency): checked against the live
 * workers, delivered by the broker, and confirmed by reading the worker's new state back.
 */
import type { Broker, WorkerCommand, WorkerInfo } from '../engine/broker';
import { ErrorCodes, QTasksError } from '../errors';

/**
 * Sends `command` to worker `id` and waits until `applied` holds for what `workers()` shows of it
 * (undefined once it is gone). Unknown or dead worker: `QTASKS_ERR_WORKER_NOT_FOUND`; an engine
 * that cannot deliver commands: `QTASKS_ERR_UNSUPPORTED`; listed but not applied within
 * `timeoutMs`: `QTASKS_ERR_WORKER_UNRESPONSIVE`.
 */
export async function commandWorker(
  engine: { broker: Broker },
  id: string,
  command: WorkerCommand,
  applied: (worker: WorkerInfo | undefined) => boolean,
  timeoutMs: number,
): Promise<void> {
  const broker = engine.broker;
  const find = async (): Promise<WorkerInfo | undefined> => (await broker.workers()).find((w) => w.id === id);
  if (typeof id !== 'string' || (await find()) === undefined) {
    throw new QTasksError(ErrorCodes.WORKER_NOT_FOUND, `No live worker has the id ${JSON.stringify(id)}: manager.workers() lists the live ones`);
  }
  if (broker.controlWorker === undefined) {
    throw new QTasksError(ErrorCodes.UNSUPPORTED, `The ${broker.engine ?? 'current'} engine cannot deliver commands to a worker`);
  }
  await broker.controlWorker(id, command);
  const until = Date.now() + timeoutMs;
  for (;;) {
    const w = await find();
    if (applied(w)) return;
    if (w === undefined) {
      throw new QTasksError(ErrorCodes.WORKER_NOT_FOUND, `Worker ${id} is gone: it stopped or died before it applied "${command.op}"`);
    }
    if (Date.now() > until) {
      throw new QTasksError(ErrorCodes.WORKER_UNRESPONSIVE, `Worker ${id} is listed but did not apply "${command.op}" within ${timeoutMs} ms: its process may be stuck; it stays as it was`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
