/**
 * qtasks/observability/otel: real spans (in-memory exporter). A run's span is a child of the
 * producer's span through the record's traceparent; nested tasks join the parent's trace; a failed
 * attempt records its error.
 */
import 'reflect-metadata';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Task, TaskContext } from 'qtasks';
import { formatTraceparent, parseTraceparent, TracingMiddleware, TracingPlugin } from 'qtasks/observability/otel';
import { createTestApp, TestApp } from 'qtasks/testing';

class Tasks {
  @Task({ name: 'ot.leaf' })
  leaf(n: number) {
    return n * 2;
  }

  @Task({ name: 'ot.parent' })
  async parent(ctx: TaskContext) {
    const h = await ctx.addTask('ot.leaf', [3]);
    return h.id;
  }

  @Task({ name: 'ot.active' })
  async active() {
    await new Promise((r) => setTimeout(r, 1));
    return trace.getActiveSpan()?.spanContext().spanId ?? 'none';
  }

  @Task({ name: 'ot.fail' })
  fail() {
    throw new Error('nope');
  }
}

describe('TracingPlugin', () => {
  let app: TestApp;
  let exporter: InMemorySpanExporter;
  let provider: BasicTracerProvider;
  const manager = new AsyncLocalStorageContextManager();
  beforeAll(() => {
    context.setGlobalContextManager(manager.enable());
  });
  afterAll(() => {
    context.disable();
  });
  beforeEach(() => {
    exporter = new InMemorySpanExporter();
    provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    app = createTestApp({ name: `ot-${process.pid}-${Date.now()}`, config: { logLevel: 'silent' } });
    app.register(Tasks).plugin(new TracingPlugin({ tracerProvider: provider }));
  });
  afterEach(async () => {
    await app.close();
    await provider.shutdown();
  });

  const byName = (name: string): ReadableSpan[] => exporter.getFinishedSpans().filter((s) => s.name === name);

  it('makes the run span a child of the producer span, inside the caller trace', async () => {
    await app.start();
    const tracer = provider.getTracer('test');
    const id = await tracer.startActiveSpan('request', async (root) => {
      const h = await app.addTask('ot.leaf', [2]);
      root.end();
      await h.result({ timeout: 2_000 });
      return h.id;
    });
    const [root] = byName('request');
    const [send] = byName('ot.leaf send');
    await app.drain();
    const [run] = byName('ot.leaf process');
    expect(send.kind).toBe(SpanKind.PRODUCER);
    expect(send.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(run.kind).toBe(SpanKind.CONSUMER);
    expect(run.spanContext().traceId).toBe(root.spanContext().traceId);
    expect(run.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
    expect(run.attributes['messaging.message.id']).toBe(id);
    expect(run.status.code).toBe(SpanStatusCode.OK);
    expect((await app.getTask(id))?.headers?.traceparent).toBe(formatTraceparent(send.spanContext()));
  });

  it('puts a nested task in the trace of the task that added it', async () => {
    await app.start();
    const childId = await (await app.addTask<string>('ot.parent')).result({ timeout: 2_000 });
    await app.handle(childId).result({ timeout: 2_000 });
    await app.drain();
    const [parentRun] = byName('ot.parent process');
    const [childSend] = byName('ot.leaf send');
    const [childRun] = byName('ot.leaf process');
    expect(childSend.parentSpanContext?.spanId).toBe(parentRun.spanContext().spanId);
    expect(childRun.spanContext().traceId).toBe(parentRun.spanContext().traceId);
  });

  it('with TracingMiddleware, the run span is the active span inside the task body', async () => {
    app.use(TracingMiddleware);
    const rec = await app.runTask('ot.active');
    const [run] = byName('ot.active process');
    expect(rec.returning).toBe(run.spanContext().spanId);
  });

  it('records the error of a failed attempt', async () => {
    await app.runTask('ot.fail');
    const [run] = byName('ot.fail process');
    expect(run.status.code).toBe(SpanStatusCode.ERROR);
    expect(run.events.some((e) => e.name === 'exception')).toBe(true);
    expect(run.attributes['qtasks.status']).toBe('error');
  });

  it('reads and writes W3C traceparent strings', () => {
    const sc = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 };
    expect(formatTraceparent(sc)).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    expect(parseTraceparent('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')).toMatchObject({ ...sc, isRemote: true });
    expect(parseTraceparent('garbage')).toBeUndefined();
    expect(parseTraceparent('00-00000000000000000000000000000000-b7ad6b7169203331-01')).toBeUndefined();
    expect(trace.getSpan(context.active())).toBeUndefined();
  });
});
