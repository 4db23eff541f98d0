/**
 * `TracingMiddleware`: makes the run span of `TracingPlugin` the active span while the task body
 * runs, so spans the task makes (HTTP clients, databases, nested `addTask`) join its trace.
 */
import { context, Span, trace } from '@opentelemetry/api';
import { Middleware } from '../../decorators/middleware.decorator';
import type { TaskContext } from '../../task/task-context';

/** Run spans of this process by task id, written by every `TracingPlugin`. */
export const runSpans = new Map<string, Span>();

/**
 * Use with `TracingPlugin`: `app.plugin(new TracingPlugin()).use(TracingMiddleware)`. Needs a
 * context manager (the OpenTelemetry Node SDK registers one) for the span to stay active across
 * `await`.
 */
@Middleware()
export class TracingMiddleware {
  handle(ctx: TaskContext, next: () => Promise<unknown>): Promise<unknown> {
    const span = runSpans.get(ctx.id);
    return span ? context.with(trace.setSpan(context.active(), span), next) : next();
  }
}
