/**
 * `qtasks -A app inspect`: counts by status, live workers, the last hour's per-minute figures and
 * the schedules, as tables or `--json`.
 */
import { TASK_STATUSES } from '../../task/task-record';
import type { Command } from '../command';
import { renderTable } from '../table';

const iso = (ms: number | undefined): string => (ms === undefined ? '-' : new Date(ms).toISOString());
const ms = (v: number | undefined): string => (v === undefined ? '-' : String(v));

export const inspectCommand: Command = {
  name: 'inspect',
  usage: 'inspect [--json]',
  flags: ['json'],
  summary: 'show task counts by status, live workers, per-minute figures of the last hour and schedules',
  async run(app, args, io) {
    const m = app.manager;
    const [counts, workers, paused, stats, schedules] = await Promise.all([m.counts(), m.workers(), m.isPaused(), m.stats(), m.schedules()]);
    if (args.flags.json) {
      io.out(JSON.stringify({ queue: app.name, paused, counts, workers, stats, schedules }, null, 2));
      return 0;
    }
    io.out(`queue ${app.name}${paused ? ' (paused)' : ''}`);
    io.out(renderTable([...TASK_STATUSES], [TASK_STATUSES.map((s) => counts[s])]));
    io.out('');
    if (workers.length === 0) io.out('no live workers');
    else {
      io.out(
        renderTable(
          ['worker', 'host', 'pid', 'concurrency', 'running', 'paused', 'started', 'last seen'],
          workers.map((w) => [w.id, w.host, w.pid, w.concurrency, w.running, w.paused ? 'yes' : 'no', iso(w.startedAt), iso(w.lastSeenAt)]),
        ),
      );
    }
    io.out('');
    if (stats.length === 0) io.out('no task ended in the last hour');
    else {
      io.out(
        renderTable(
          ['minute', 'success', 'error', 'retry', 'cancel', 'wait p50 ms', 'run p50 ms', 'run p95 ms'],
          stats.map((b) => [iso(b.at).slice(0, 16), b.success, b.error, b.retry, b.cancel, ms(b.waitMsP50), ms(b.runMsP50), ms(b.runMsP95)]),
        ),
      );
    }
    if (schedules.length > 0) {
      io.out('');
      io.out(
        renderTable(
          ['schedule', 'task', 'source', 'next run', 'last run'],
          schedules.map((s) => [s.pattern ?? `every ${s.everyMs} ms`, s.name, s.source, iso(s.nextRunAt), iso(s.lastRunAt)]),
        ),
      );
    }
    return 0;
  },
};
