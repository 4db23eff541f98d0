/**
 * `PrometheusPlugin`: task metrics for Prometheus (prom-client). Counts attempt ends by task and
 * status, times them in a histogram, tracks tasks in flight and, at each scrape, the queue depth.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { Hook, Plugin } from '../../decorators/middleware.decorator';
import { TaskEndPlugin } from '../../plugins/task-end-plugin';
import type { TaskEndHookEvent, TaskRunHookEvent } from '../../plugins/hook-events';
import type { TaskStatus } from '../../task/task-record';

/** What the plugin reads from an app. */
export interface MetricsApp {
  readonly name: string;
  readonly manager: { counts(): Promise<Record<TaskStatus, number>> };
}

/** Options of {@link PrometheusPlugin}. */
export interface PrometheusOptions {
  /** Registry to put the metrics in (default: a new one, see `plugin.registry`). */
  registry?: Registry;
  /** Metric name prefix (default `qtasks_`). */
  prefix?: string;
  /** Duration histogram buckets, in seconds. */
  buckets?: number[];
}

const DEPTH_STATUSES: TaskStatus[] = ['new', 'delayed', 'retry', 'process'];

/**
 * Prometheus metrics of the apps it is plugged into:
 * `qtasks_tasks_total{queue,task,status}` (attempt ends: success, error, retry, cancel),
 * `qtasks_task_duration_seconds{queue,task,status}`, `qtasks_tasks_in_flight{queue,task}` and
 * `qtasks_queue_depth{queue,status}` (new, delayed, retry, process; read at scrape time).
 * @example
 * ```ts
 * const metrics = new PrometheusPlugin();
 * app.plugin(metrics);
 * const server = await serveMetrics(metrics.registry, { port: 9464 });
 * ```
 */
@Plugin({ discover: false })
export class PrometheusPlugin extends TaskEndPlugin {
  readonly registry: Registry;
  private readonly total: Counter<'queue' | 'task' | 'status'>;
  private readonly duration: Histogram<'queue' | 'task' | 'status'>;
  private readonly inFlight: Gauge<'queue' | 'task'>;
  /** Attempts in flight: `queue \0 id` → labels. */
  private readonly running = new Map<string, { queue: string; task: string }>();
  private readonly apps = new Set<MetricsApp>();

  constructor(options: PrometheusOptions = {}) {
    super();
    const prefix = options.prefix ?? 'qtasks_';
    const registry = (this.registry = options.registry ?? new Registry());
    const apps = this.apps;
    this.total = new Counter({
      name: `${prefix}tasks_total`,
      help: 'Task attempts that ended, by queue, task name and status (success, error, retry, cancel)',
      labelNames: ['queue', 'task', 'status'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: `${prefix}task_duration_seconds`,
      help: 'Duration of task attempts from start to end, in seconds',
      labelNames: ['queue', 'task', 'status'],
      buckets: options.buckets ?? [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60],
      registers: [registry],
    });
    this.inFlight = new Gauge({
      name: `${prefix}tasks_in_flight`,
      help: 'Tasks running now in this process',
      labelNames: ['queue', 'task'],
      registers: [registry],
    });
    new Gauge({
      name: `${prefix}queue_depth`,
      help: 'Tasks in the queue by status (new, delayed, retry, process), read at scrape time',
      labelNames: ['queue', 'status'],
      registers: [registry],
      async collect() {
        for (const app of apps) {
          const counts = await app.manager.counts();
          for (const status of DEPTH_STATUSES) this.set({ queue: app.name, status }, counts[status] ?? 0);
        }
      },
    });
  }

  /** Reports the queue depth of `app` (done by itself once the app starts; for producer-only apps). */
  watch(app: MetricsApp): this {
    this.apps.add(app);
    return this;
  }

  @Hook('app:start') appStart(e: { app: object }): void {
    this.apps.add(e.app as MetricsApp);
  }

  @Hook('app:close') appClose(e: { app: object }): void {
    this.apps.delete(e.app as MetricsApp);
  }

  /** Tasks handed back at shutdown never reach an end point here: they are no longer in flight. */
  @Hook('worker:stop') workerStop(e: { app: object }): void {
    const queue = queueOf(e);
    for (const [key, labels] of this.running) {
      if (labels.queue !== queue) continue;
      this.inFlight.dec(labels);
      this.running.delete(key);
    }
  }

  @Hook('task:before') before(e: TaskRunHookEvent): void {
    const key = `${queueOf(e)}\0${e.record.id}`;
    if (this.running.has(key)) return;
    const labels = { queue: queueOf(e), task: e.record.name };
    this.running.set(key, labels);
    this.inFlight.inc(labels);
  }


  protected onTaskEnd(e: TaskEndHookEvent): void {
    const r = e.record;
    const queue = queueOf(e);
    const labels = { queue, task: r.name, status: r.status };
    this.total.inc(labels);
    if (r.startedAt !== undefined) this.duration.observe(labels, Math.max(0, (r.finishedAt ?? r.updatedAt) - r.startedAt) / 1000);
    if (this.running.delete(`${queue}\0${r.id}`)) this.inFlight.dec({ queue, task: r.name });
  }
}

function queueOf(e: { app: object }): string {
  return (e.app as { name?: string }).name ?? 'default';
}
