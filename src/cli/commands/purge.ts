/**
 * `qtasks -A app purge <status>`: removes every task in a status (never running ones), in batches
 * with progress on stderr.
 */
import { ErrorCodes, QTasksError } from '../../errors';
import { TASK_STATUSES, TaskStatus } from '../../task/task-record';
import { numberFlag } from '../args';
import type { Command } from '../command';
import { Progress } from './progress';

export const purgeCommand: Command = {
  name: 'purge',
  usage: 'purge <status> [--batch N] [--json]',
  flags: ['batch', 'json'],
  summary: 'remove every task in a status (success, error, cancel, new, delayed, retry)',
  async run(app, args, io) {
    const status = args.positionals[0] as TaskStatus | undefined;
    if (status === undefined || !TASK_STATUSES.includes(status)) {
      throw new QTasksError(ErrorCodes.CLI_USAGE, `purge needs a status: one of ${TASK_STATUSES.filter((s) => s !== 'process' && s !== 'waiting').join(', ')}`);
    }
    if (status === 'process' || status === 'waiting') throw new QTasksError(ErrorCodes.CLI_USAGE, 'Running or waiting tasks cannot be purged: cancel them (or let them end) first');
    const batch = numberFlag(args.flags, 'batch') ?? 1_000;
    if (!Number.isInteger(batch) || batch < 1) throw new QTasksError(ErrorCodes.CLI_USAGE, '--batch takes a positive integer');
    const total = (await app.manager.counts())[status];
    const progress = new Progress(io.err, `removed ${status}`, total);
    let removed = 0;
    // batches show progress; a final purge sweeps whatever arrived meanwhile
    for (;;) {
      const page = await app.manager.list({ status, limit: batch });
      if (page.length === 0) break;
      const results = await Promise.all(page.map((r) => app.manager.remove(r.id)));
      const n = results.filter(Boolean).length;
      removed += n;
      progress.update(removed);
      if (n === 0) break;
    }
    removed += await app.manager.purge(status);
    progress.end(removed);
    if (args.flags.json) io.out(JSON.stringify({ queue: app.name, status, removed }));
    else io.out(`removed ${removed} ${status} task${removed === 1 ? '' : 's'} from queue ${app.name}`);
    return 0;
  },
};
