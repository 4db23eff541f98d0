/**
 * `add` on the in-memory engine: the queue lives in this process, which exits once the command is
 * done, and no other process can ever see it — so a task added without a worker here would be lost
 * without a word. Refused, saying why and what to do, unless a worker here runs it.
 */
import type { QTasks } from '../../app/qtasks';
import { ErrorCodes, QTasksError, TaskNotFoundError } from '../../errors';
import type { ParsedArgs } from '../args';

/** Throws `QTASKS_ERR_UNSUPPORTED` when the tasks `names` would be added where nothing can run them. */
export async function refuseLostAdd(app: QTasks, args: ParsedArgs, names: string[]): Promise<void> {
  // the core never learns the engine's class: the memory engine says its name
  if (args.flags.local || app.broker.engine !== 'memory') return;
  // an unknown name is the first thing to say
  const known = new Set(app.taskNames());
  for (const name of names) if (!known.has(name)) throw new TaskNotFoundError(name);
  if (args.flags.wait && (await app.manager.workers()).length > 0) return;
  throw new QTasksError(
    ErrorCodes.UNSUPPORTED,
    'The app runs on the in-memory engine: a task added here would be lost when this command exits, since no worker can ever see it. ' +
      'Run it here with --local (and --wait for its result), or give the app a shared engine (--url redis://… or postgres://…)',
  );
}
