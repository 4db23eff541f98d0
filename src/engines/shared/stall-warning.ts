/**
 * The warning an engine logs for each task its stall sweep took from a worker that stopped renewing
 * its lease: queued again, or ended `QTASKS_ERR_STALLED` past `maxStalls`. One text for every
 * engine, so that an alert on it holds whichever engine runs.
 */
import { ErrorCodes } from '../../errors';
import type { Logger } from '../../logger';

/** A task a stall sweep handled, as its log line names it. */
export interface StalledTask {
  id: string;
  name: string;
  stalls: number | undefined;
  worker: string;
}

/** Logs at warn that `task` stalled: `ended` past `maxStalls` (it ended error), queued again otherwise. */
export function warnStall(logger: Logger, task: StalledTask, ended: boolean): void {
  const fields = { id: task.id, name: task.name, code: ErrorCodes.STALLED, stalls: task.stalls, worker: task.worker };
  if (ended) logger.warn('Task stalled more than maxStalls times: its worker stopped renewing its lease; it ended error', fields);
  else logger.warn('Task stalled: its worker stopped renewing its lease (crashed or blocked); it was queued again', fields);
}
