/**
 * `qtasks -A app inspect`: counts by status and live workers, as tables or `--json`.
 */
import { TASK_STATUSES } from '../../task/task-record';
import type { Command } from '../command';
import { renderTable } from '../table';

export const inspectCommand: Command = {
  name: 'inspect',
  usage: 'inspect [--json]',
  flags: ['json'],
  summary: 'show task counts by status and live workers',
  async run(app, args, io) {
    const [counts, workers, paused] = await Promise.all([app.manager.counts(), app.manager.workers(), app.manager.isPaused()]);
    if (args.flags.json) {
      io.out(JSON.stringify({ queue: app.name, paused, counts, workers }, null, 2));
      return 0;
    }
    io.out(`queue ${app.name}${paused ? ' (paused)' : ''}`);
    io.out(renderTable([...TASK_STATUSES], [TASK_STATUSES.map((s) => counts[s])]));
    io.out('');
    if (workers.length === 0) io.out('no live workers');
    else {
      io.out(
        renderTable(
          ['worker', 'host', 'pid', 'concurrency', 'running', 'started', 'last seen'],
          workers.map((w) => [w.id, w.host, w.pid, w.concurrency, w.running, new Date(w.startedAt).toISOString(), new Date(w.lastSeenAt).toISOString()]),
        ),
      );
    }
    return 0;
  },
};
