/**
 * `TracingPlugin`: OpenTelemetry spans for tasks. `addTask` makes a producer span (child of the
 * active span, or of the running parent task) and keeps its context in the record's headers as `traceparent`;
 * each attempt gets a consumer span that is a child of it, in whatever process runs the task.
 */
import { context, Context, Span, SpanKind, SpanStatusCode, trace, Tracer, TracerProvider } from '@opentelemetry/api';
import { Hook, Plugin } from '../../decorators/middleware.decorator';
import { TaskEndPlugin } from '../../plugins/task-end-plugin';
import type { HookEvents, TaskEndHookEvent, TaskRunHookEvent } from '../../plugins/hook-events';
import { formatTraceparent, parseTraceparent } from './traceparent';
import { runSpans } from './tracing-middleware';

/** Options of {@link TracingPlugin}. */
export interface TracingOptions {
  /** Tracer to use (default: `tracerProvider`'s, or the global one, named `qtasks`). */
  tracer?: Tracer;
  tracerProvider?: TracerProvider;
}

/**
 * Spans `<task> send` (PRODUCER, at `addTask`) and `<task> process` (CONSUMER, one per attempt),
 * with `messaging.*` and `qtasks.*` attributes; an attempt that fails records the error.
 * @example
 * ```ts
 * app.plugin(new TracingPlugin());   // uses the global tracer provider
 * ```
 */
@Plugin({ discover: false })
export class TracingPlugin extends TaskEndPlugin {
  private readonly tracer: Tracer;
  private readonly spans = new Map<string, Span>();

  constructor(options: TracingOptions = {}) {
    super();
    this.tracer = options.tracer ?? (options.tracerProvider ?? trace.getTracerProvider()).getTracer('qtasks');
  }

  @Hook('task:enqueue')
  enqueue(e: HookEvents['task:enqueue']): void {
    const rec = e.record;
    let parent = context.active();
    if (trace.getSpan(parent) === undefined && rec.parentId !== undefined) {
      const running = this.spans.get(rec.parentId);
      if (running) parent = trace.setSpan(parent, running);
    }
    const span = this.tracer.startSpan(
      `${rec.name} send`,
      { kind: SpanKind.PRODUCER, attributes: { ...attrs(e.app, rec.name, rec.id), 'messaging.operation.type': 'send' } },
      parent,
    );
    const tp = formatTraceparent(span.spanContext());
    if (tp !== undefined) rec.headers = { ...rec.headers, traceparent: tp };
    span.end();
  }

  @Hook('task:before')
  before(e: TaskRunHookEvent): void {
    this.start(e.app, e.record);
  }


  /** Ends the spans of attempts handed back at shutdown (they never reach an end point here). */
  @Hook('worker:stop')
  workerStop(): void {
    for (const [id, span] of this.spans) {
      if (runSpans.get(id) === span) runSpans.delete(id);
      span.setAttribute('qtasks.status', 'handback');
      span.end();
    }
    this.spans.clear();
  }

  /** The span of the attempt of task `id` running in this process. */
  spanOf(id: string): Span | undefined {
    return this.spans.get(id);
  }

  private start(app: object, rec: { id: string; name: string; attempt: number; headers?: Record<string, string> }): Span {
    const old = this.spans.get(rec.id);
    if (old) return old;
    const remote = parseTraceparent(rec.headers?.traceparent);
    const parent: Context = remote ? trace.setSpanContext(context.active(), remote) : trace.deleteSpan(context.active());
    const span = this.tracer.startSpan(
      `${rec.name} process`,
      { kind: SpanKind.CONSUMER, attributes: { ...attrs(app, rec.name, rec.id), 'messaging.operation.type': 'process', 'qtasks.attempt': rec.attempt } },
      parent,
    );
    this.spans.set(rec.id, span);
    runSpans.set(rec.id, span);
    return span;
  }

  protected onTaskEnd(e: TaskEndHookEvent): void {
    const r = e.record;
    // an attempt that failed before task:before (validation, say) still gets its span
    const span = this.spans.get(r.id) ?? this.start(e.app, r);
    this.spans.delete(r.id);
    if (runSpans.get(r.id) === span) runSpans.delete(r.id);
    span.setAttribute('qtasks.status', r.status);
    if (r.status === 'error' || r.status === 'retry') {
      if (r.error) span.recordException({ name: r.error.name, message: r.error.message, stack: r.error.stack, code: r.error.code });
      span.setStatus({ code: SpanStatusCode.ERROR, message: r.error?.message });
    } else if (r.status === 'success') {
      span.setStatus({ code: SpanStatusCode.OK });
    }
    span.end();
  }
}

function attrs(app: object, name: string, id: string): Record<string, string> {
  return {
    'messaging.system': 'qtasks',
    'messaging.destination.name': (app as { name?: string }).name ?? 'default',
    'messaging.message.id': id,
    'qtasks.task': name,
  };
}
