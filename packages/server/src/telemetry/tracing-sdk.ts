/**
 * The OpenTelemetry SDK: the one module that starts it. NodeSDK with the HTTP and Express
 * instrumentations (the HTTP server span per request, continuing an incoming W3C `traceparent`) and
 * the trace exporter the SDK's standard environment names (OTLP over HTTP, protobuf unless
 * OTEL_EXPORTER_OTLP_PROTOCOL says otherwise). Only traces: the SDK's metrics and logs stay off
 * (metrics are Prometheus's, logs pino's).
 *
 * Instrumentations patch modules as they are loaded, so this starts before the app is imported: the
 * CLI starts it, then imports server.js (see cli.ts). node:http is patched through `require` (Express
 * requires it), but Express itself is imported by ESM, which `require` hooks never see: the
 * instrumentation package's ESM loader hook (import-in-the-middle) is registered for Express alone, so
 * no other module is wrapped.
 */
import { register } from 'node:module';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK, type tracing } from '@opentelemetry/sdk-node';
import { markTracingActive } from './request-span.js';

export interface Tracing {
  /** Ends the SDK, exporting the spans still buffered. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** Where spans go; by default the exporter the environment names, behind a batch span processor. */
  spanProcessors?: tracing.SpanProcessor[];
}

/** The modules imported by ESM that an instrumentation patches. */
const ESM_INSTRUMENTED = ['express'];

export function startTracing(options: TracingOptions = {}): Tracing {
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: ESM_INSTRUMENTED } });
  const sdk = new NodeSDK({
    // service.name unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES names one: the SDK's environment
    // detector merges over this resource.
    resource: defaultResource().merge(resourceFromAttributes({ 'service.name': 'sagan-serve' })),
    spanProcessors: options.spanProcessors,
    instrumentations: [new HttpInstrumentation(), new ExpressInstrumentation()],
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  markTracingActive();
  return { shutdown: () => sdk.shutdown() };
}
