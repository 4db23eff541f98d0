/**
 * W3C `traceparent` strings (version 00), written and read without a global propagator so that
 * tracing works whatever propagator the application registered.
 */
import { isSpanContextValid, SpanContext, TraceFlags } from '@opentelemetry/api';

/** `00-<trace id>-<span id>-<flags>` of a span context. */
export function formatTraceparent(sc: SpanContext): string | undefined {
  if (!isSpanContextValid(sc)) return undefined;
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

const PATTERN = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The remote span context of a `traceparent`, undefined when it does not parse. */
export function parseTraceparent(value: string | undefined): SpanContext | undefined {
  const m = value === undefined ? null : PATTERN.exec(value.trim());
  if (!m || m[1] === 'ff') return undefined;
  const sc: SpanContext = { traceId: m[2], spanId: m[3], traceFlags: parseInt(m[4], 16) as TraceFlags, isRemote: true };
  return isSpanContextValid(sc) ? sc : undefined;
}
