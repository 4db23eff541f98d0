/**
 * qtasks/observability/prometheus: the real metrics text (registry and HTTP) shows attempt ends by
 * task and status, durations, tasks in flight and the queue depth.
 */
import 'reflect-metadata';
import { Task } from 'qtasks';
import { MetricsServer, PrometheusPlugin, serveMetrics } from 'qtasks/observability/prometheus';
import { createTestApp, TestApp } from 'qtasks/testing';

let release: (() => void) | undefined;

class Tasks {
  @Task({ name: 'pm.ok' })
  ok(n: number) {
    return n;
  }

  @Task({ name: 'pm.flaky', retry: 1 })
  flaky() {
    throw new Error('no');
  }

  @Task({ name: 'pm.slow' })
  async slow() {
    await new Promise<void>((r) => (release = r));
    return 'done';
  }
}

/** The value of one sample line of the Prometheus text format. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{')) continue;
    const body = line.slice(name.length + 1, line.lastIndexOf('}'));
    const got = Object.fromEntries(body.split(',').map((kv) => kv.split('=')).map(([k, v]) => [k, JSON.parse(v)]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v) && Object.keys(got).length === Object.keys(labels).length) {
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return undefined;
}

describe('PrometheusPlugin', () => {
  let app: TestApp;
  let server: MetricsServer | undefined;
  let queue: string;
  beforeEach(() => {
    queue = `pm-${process.pid}-${Date.now()}`;
    app = createTestApp({ name: queue, config: { logLevel: 'silent' } });
    app.register(Tasks);
  });
  afterEach(async () => {
    release?.();
    release = undefined;
    await server?.close();
    server = undefined;
    await app.close();
  });

  it('counts attempt ends by task and status, with durations', async () => {
    const metrics = new PrometheusPlugin();
    app.plugin(metrics);
    await app.start();
    await (await app.addTask('pm.ok', [1])).result({ timeout: 2_000 });
    await (await app.addTask('pm.ok', [2])).result({ timeout: 2_000 });
    await expect((await app.addTask('pm.flaky')).result({ timeout: 2_000 })).rejects.toBeDefined();
    const text = await metrics.registry.metrics();
    expect(sample(text, 'qtasks_tasks_total', { queue, task: 'pm.ok', status: 'success' })).toBe(2);
    expect(sample(text, 'qtasks_tasks_total', { queue, task: 'pm.flaky', status: 'retry' })).toBe(1);
    expect(sample(text, 'qtasks_tasks_total', { queue, task: 'pm.flaky', status: 'error' })).toBe(1);
    expect(sample(text, 'qtasks_task_duration_seconds_count', { queue, task: 'pm.ok', status: 'success' })).toBe(2);
    expect(sample(text, 'qtasks_task_duration_seconds_bucket', { queue, task: 'pm.ok', status: 'success', le: '+Inf' })).toBe(2);
    expect(sample(text, 'qtasks_tasks_in_flight', { queue, task: 'pm.ok' })).toBe(0);
  });

  it('serves /metrics over HTTP with tasks in flight and the queue depth', async () => {
    const metrics = new PrometheusPlugin({ prefix: 'jobs_' });
    app.plugin(metrics);
    await app.start();
    const slow = await app.addTask('pm.slow');
    await app.addTask('pm.ok', [1], { delay: 60_000 });
    while (release === undefined) await new Promise((r) => setTimeout(r, 2));
    server = await serveMetrics(metrics.registry, { port: 0 });
    const res = await fetch(server.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(sample(text, 'jobs_tasks_in_flight', { queue, task: 'pm.slow' })).toBe(1);
    expect(sample(text, 'jobs_queue_depth', { queue, status: 'delayed' })).toBe(1);
    expect(sample(text, 'jobs_queue_depth', { queue, status: 'process' })).toBe(1);
    expect(sample(text, 'jobs_queue_depth', { queue, status: 'new' })).toBe(0);
    expect((await fetch(server.url.replace('/metrics', '/other'))).status).toBe(404);
    release!();
    expect(await slow.result({ timeout: 2_000 })).toBe('done');
    const after = await metrics.registry.metrics();
    expect(sample(after, 'jobs_tasks_in_flight', { queue, task: 'pm.slow' })).toBe(0);
  });

  it('drops tasks handed back at shutdown from the in-flight gauge', async () => {
    const metrics = new PrometheusPlugin();
    const short = createTestApp({ name: `${queue}-s`, config: { logLevel: 'silent', shutdownTimeoutMs: 20 } });
    short.register(Tasks).plugin(metrics);
    await short.start();
    await short.addTask('pm.slow');
    while (release === undefined) await new Promise((r) => setTimeout(r, 2));
    expect(sample(await metrics.registry.metrics(), 'qtasks_tasks_in_flight', { queue: `${queue}-s`, task: 'pm.slow' })).toBe(1);
    await short.close();
    expect(sample(await metrics.registry.metrics(), 'qtasks_tasks_in_flight', { queue: `${queue}-s`, task: 'pm.slow' })).toBe(0);
  });
});
