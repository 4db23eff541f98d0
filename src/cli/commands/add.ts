/**
 * `qtasks -A app add <name> [json-args]`: enqueues one task and prints its id (and its result
 * with `--wait`).
 */
import { ErrorCodes, QTasksError } from '../../errors';
import type { EnqueueOptions } from '../../task/task-record';
import { numberFlag } from '../args';
import type { Command } from '../command';
import { addFromFile } from './add-file';
import { refuseLostAdd } from './refuse-lost-add';

export const addCommand: Command = {
  name: 'add',
  usage: 'add <name> [json-args] [--wait] [--timeout ms] [--priority n] [--delay ms] [--id key] [--retry n] [--local] | add --file tasks.json [--wait] [--local]',
  flags: ['wait', 'timeout', 'priority', 'delay', 'id', 'retry', 'local', 'file', 'batch'],
  summary: 'enqueue a task; json-args is a JSON array (or one JSON value)',
  async run(app, args, io) {
    if (args.flags.file !== undefined) return addFromFile(app, args, io);
    const [name, raw] = args.positionals;
    if (!name) throw new QTasksError(ErrorCodes.CLI_USAGE, 'add needs a task name: qtasks -A app add <name> [json-args]');
    let taskArgs: unknown[] = [];
    if (raw !== undefined) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        throw new QTasksError(ErrorCodes.CLI_USAGE, `json-args is not JSON: ${raw} (quote it, e.g. '[1, 2]')`);
      }
      taskArgs = Array.isArray(parsed) ? parsed : [parsed];
    }
    const opts: EnqueueOptions = {};
    const priority = numberFlag(args.flags, 'priority');
    const delay = numberFlag(args.flags, 'delay');
    const retry = numberFlag(args.flags, 'retry');
    if (priority !== undefined) opts.priority = priority;
    if (delay !== undefined) opts.delay = delay;
    if (retry !== undefined) opts.retry = retry;
    if (typeof args.flags.id === 'string') opts.id = args.flags.id;
    // with the in-memory engine nothing else runs the task: --local starts a worker here
    await refuseLostAdd(app, args, [name]);
    if (args.flags.local) await app.start();
    const handle = await app.addTask(name, taskArgs, opts);
    if (!args.flags.wait) {
      io.out(JSON.stringify({ id: handle.id }));
      return 0;
    }
    const timeout = numberFlag(args.flags, 'timeout');
    try {
      const result = await handle.result(timeout === undefined ? undefined : { timeout });
      io.out(JSON.stringify({ id: handle.id, status: 'success', result }));
      return 0;
    } catch (err) {
      const e = err as QTasksError;
      io.out(JSON.stringify({ id: handle.id, status: 'failed', code: e.code, message: e.message }));
      return 1;
    }
  },
};
