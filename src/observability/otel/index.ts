/**
 * `qtasks/otel`: OpenTelemetry tracing of tasks. Optional: install `@opentelemetry/api` (and an SDK)
 * to use it.
 */
import 'reflect-metadata';
export { TracingPlugin } from './tracing-plugin';
export { TracingMiddleware } from './tracing-middleware';
export type { TracingOptions } from './tracing-plugin';
export { formatTraceparent, parseTraceparent } from './traceparent';
