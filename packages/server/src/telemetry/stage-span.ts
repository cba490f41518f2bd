/**
 * A stage of a request (`encode`) as a child span of the request's span, ended when the work settles,
 * with the error recorded if it fails. Runs the work directly when tracing is off.
 */
import { SpanStatusCode, type Attributes, type Span } from '@opentelemetry/api';
import { requestContext, tracer, tracingActive } from './request-span.js';

/** Ends a stage's span, marked failed with the error when there is one. */
export function endStageSpan(span: Span, error?: Error): void {
  if (error) {
    span.recordException(error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  }
  span.end();
}

export async function inStageSpan<T>(name: string, attributes: Attributes, work: () => Promise<T>): Promise<T> {
  if (!tracingActive()) return work();
  const span = tracer.startSpan(name, { attributes }, requestContext());
  try {
    const result = await work();
    endStageSpan(span);
    return result;
  } catch (err) {
    endStageSpan(span, err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
}
