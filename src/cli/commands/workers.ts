/**
 * `qtasks -A app workers [list | pause <id> | resume <id> | stop <id> | concurrency <id> <n>]`:
 * lists the live workers of the queue, or sends one of them an operator's command (applied
 * wherever it runs, confirmed before the command returns).
 */
import { ErrorCodes, QTasksError } from '../../errors';
import type { Command } from '../command';
import { renderTable } from '../table';

const ACTIONS = ['list', 'pause', 'resume', 'stop', 'concurrency'] as const;

export const workersCommand: Command = {
  name: 'workers',
  usage: 'workers [list | pause <id> | resume <id> | stop <id> | concurrency <id> <n>] [--json]',
  flags: ['json'],
  summary: 'list live workers, or pause, resume, stop or resize one of them by id',
  async run(app, args, io) {
    const [action = 'list', id, n] = args.positionals;
    if (!(ACTIONS as readonly string[]).includes(action)) {
      throw new QTasksError(ErrorCodes.CLI_USAGE, `workers takes one of ${ACTIONS.join(', ')}, not ${JSON.stringify(action)}`);
    }
    if (action === 'list') {
      const workers = await app.manager.workers();
      if (args.flags.json) io.out(JSON.stringify(workers, null, 2));
      else if (workers.length === 0) io.out('no live workers');
      else {
        io.out(renderTable(
          ['id', 'host', 'pid', 'concurrency', 'running', 'paused', 'last seen'],
          workers.map((w) => [w.id, w.host, w.pid, w.concurrency, w.running, w.paused ? 'yes' : 'no', new Date(w.lastSeenAt).toISOString()]),
        ));
      }
      return 0;
    }
    if (id === undefined) throw new QTasksError(ErrorCodes.CLI_USAGE, `workers ${action} needs a worker id (qtasks workers list shows them)`);
    if (action === 'pause') await app.manager.pauseWorker(id);
    else if (action === 'resume') await app.manager.resumeWorker(id);
    else if (action === 'stop') await app.manager.stopWorker(id);
    else {
      const size = Number(n);
      if (n === undefined || !Number.isInteger(size) || size < 1) {
        throw new QTasksError(ErrorCodes.CLI_USAGE, 'workers concurrency needs a worker id and an integer of 1 or more');
      }
      await app.manager.setConcurrency(id, size);
    }
    const done = { worker: id, action, ...(action === 'concurrency' ? { concurrency: Number(n) } : {}) };
    io.out(args.flags.json ? JSON.stringify(done) : `worker ${id}: ${action}${action === 'concurrency' ? ` ${n}` : ''} applied`);
    return 0;
  },
};
