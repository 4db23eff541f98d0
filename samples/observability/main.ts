/**
 * Observability sample: JSON logs through pino, Prometheus metrics served at /metrics, and
 * OpenTelemetry spans (here kept in memory; use any exporter). Each part is its own subpath import.
 */
import 'reflect-metadata';
import { Writable } from 'node:stream';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { QTasks, Task, TaskContext } from 'qtasks';
import { TracingPlugin } from 'qtasks/observability/otel';
import { PinoLogger, TaskLogPlugin } from 'qtasks/observability/pino';
import { PrometheusPlugin, serveMetrics } from 'qtasks/observability/prometheus';

class Orders {
  @Task({ name: 'order.ship' })
  ship(ctx: TaskContext, id: string) {
    ctx.logger.info('shipping', { order: id });
    return `shipped ${id}`;
  }
}

export async function main(log: (line: string) => void = console.log): Promise<Record<string, unknown>> {
  // logs: collected here; pass `new PinoLogger()` to write JSON lines to stdout
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk, _enc, cb) => (lines.push(...String(chunk).trim().split('\n')), cb()) });
  const exporter = new InMemorySpanExporter();
  const tracing = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const metrics = new PrometheusPlugin();

  const app = new QTasks({ name: 'sample-observability', discover: false, logger: new PinoLogger({ level: 'info' }, sink) });
  app.register(Orders).plugin(TaskLogPlugin).plugin(metrics).plugin(new TracingPlugin({ tracerProvider: tracing }));
  await app.start();
  const server = await serveMetrics(metrics.registry, { port: 0 });
  try {
    for (const id of ['A1', 'A2']) await (await app.addTask('order.ship', [id])).result({ timeout: 2_000 });
    const text = await (await fetch(server.url)).text();
    const shipped = text.split('\n').find((l) => l.startsWith('qtasks_tasks_total{') && l.includes('order.ship'));
    log(`GET ${server.url} -> ${shipped}`);
    const spans = exporter.getFinishedSpans().map((s) => s.name);
    log(`spans: ${spans.join(', ')}`);
    log(`log lines: ${lines.length}, e.g. ${lines.find((l) => l.includes('"shipping"'))}`);
    return { metricsLine: shipped, spans, logLines: lines.length };
  } finally {
    await server.close();
    await app.close();
    await tracing.shutdown();
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
