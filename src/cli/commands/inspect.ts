/**
 * `qtasks -A app inspect`: every queue of the engine (counts, paused, workers), then for one queue
 * (`--queue`, default the app's own) counts by status, live workers, the last hour's per-minute
 * figures, and the schedules, as tables or `--json`.
 */
import { TASK_STATUSES } from '../../task/task-record';
import type { Command } from '../command';
import { renderTable } from '../table';

const iso = (ms: number | undefined): string => (ms === undefined ? '-' : new Date(ms).toISOString());
const ms = (v: number | undefined): string => (v === undefined ? '-' : String(v));

export const inspectCommand: Command = {
  name: 'inspect',
  usage: 'inspect [--queue <name>] [--json]',
  flags: ['json', 'queue'],
  summary: 'show every queue, then task counts by status, live workers, per-minute figures of the last hour and schedules of one',
  async run(app, args, io) {
    const m = app.manager;
    const queue = typeof args.flags.queue === 'string' ? args.flags.queue : app.name;
    const [queues, counts, workers, paused, stats, schedules] = await Promise.all([
      m.queues(),
      m.counts(queue),
      m.workers(queue),
      m.isPaused(queue),
      m.stats({ queue }),
      m.schedules(),
    ]);
    if (args.flags.json) {
      io.out(JSON.stringify({ queue, paused, counts, workers, stats, schedules, queues }, null, 2));
      return 0;
    }
    io.out(
      renderTable(
        ['queue', 'new', 'process', 'success', 'error', 'paused', 'workers'],
        queues.map((q) => [q.name, q.counts.new, q.counts.process, q.counts.success, q.counts.error, q.paused ? 'yes' : 'no', q.workers.length]),
      ),
    );
    io.out('');
    io.out(`queue ${queue}${paused ? ' (paused)' : ''}`);
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
