/**
 * The request's span and the server's tracer, through @opentelemetry/api only: with no SDK started
 * (tracing off) the API is a no-op, and `tracingActive()` lets callers skip even that.
 */
import { getRPCMetadata } from '@opentelemetry/core';
import { context, trace, type Context, type Span } from '@opentelemetry/api';

export const tracer = trace.getTracer('sagan-serve');

/** Span attribute names; all carry the `sagan.` prefix. */
export const SPAN_ATTRIBUTES = {
  model: 'sagan.model',
  version: 'sagan.version',
  provider: 'sagan.provider',
  batchSize: 'sagan.batch_size',
  rows: 'sagan.rows',
  cacheHit: 'sagan.cache_hit',
  lane: 'sagan.lane',
  format: 'sagan.format',
} as const;

let active = false;

/** Whether a tracer provider was started (telemetry/tracing-sdk.ts); spans are skipped when not. */
export function tracingActive(): boolean {
  return active;
}

/** Called once the SDK is registered. */
export function markTracingActive(): void {
  active = true;
}

/**
 * The current request's HTTP server span (instrumentation-http puts it in the context's RPC metadata),
 * else whatever span is active: stage spans hang under the request, not under the middleware that
 * happened to be running.
 */
export function requestSpan(from: Context = context.active()): Span | undefined {
  return getRPCMetadata(from)?.span ?? trace.getSpan(from);
}

/** A context whose active span is the current request's span: the parent of its stage spans. */
export function requestContext(): Context {
  const current = context.active();
  const span = requestSpan(current);
  return span ? trace.setSpan(current, span) : current;
}

/** The current request's trace id, for log correlation; undefined when tracing is off. */
export function activeTraceId(): string | undefined {
  if (!active) return undefined;
  return requestSpan()?.spanContext().traceId;
}
