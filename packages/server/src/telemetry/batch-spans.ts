/**
 * The batcher's tracing hooks (batching/batch-tracer.ts) as OpenTelemetry spans:
 *
 * - `queue`: one per job, a child of the request span, from submit to its first rows leaving in a batch.
 * - `inference`: one per batch. A batch serves several requests, each in its own trace, so the span links
 *   to every request span in it (OpenTelemetry's practice for batches); its parent is the request span of
 *   the batch's first job, so that request's trace holds its inference span and the others reach it by
 *   their link.
 */
import { ROOT_CONTEXT, trace, type Link, type Span, type SpanContext } from '@opentelemetry/api';
import type { BatchTrace, BatchTracer, JobTrace } from '../batching/batch-tracer.js';
import { requestContext, requestSpan, SPAN_ATTRIBUTES, tracer, tracingActive } from './request-span.js';
import { endStageSpan } from './stage-span.js';

class JobSpans implements JobTrace {
  private queueEnded = false;

  constructor(
    private readonly queueSpan: Span,
    /** The request span, which batches link to (undefined outside any request). */
    readonly request: SpanContext | undefined,
  ) {}

  endQueueWait(error?: Error): void {
    if (this.queueEnded) return;
    this.queueEnded = true;
    endStageSpan(this.queueSpan, error);
  }
}

class BatchSpan implements BatchTrace {
  constructor(private readonly span: Span) {}

  end(error?: Error): void {
    endStageSpan(this.span, error);
  }
}

/** One model version's hooks; undefined when tracing is off, so the batcher calls nothing. */
export function batchSpansFor(model: string, version: string, provider: () => string): BatchTracer | undefined {
  if (!tracingActive()) return undefined;
  const versionAttributes = { [SPAN_ATTRIBUTES.model]: model, [SPAN_ATTRIBUTES.version]: version };
  return {
    jobQueued(rows, priority) {
      const parent = requestContext();
      const request = requestSpan(parent);
      request?.setAttributes(versionAttributes);
      const queueSpan = tracer.startSpan(
        'queue',
        { attributes: { ...versionAttributes, [SPAN_ATTRIBUTES.rows]: rows, [SPAN_ATTRIBUTES.lane]: priority } },
        parent,
      );
      return new JobSpans(queueSpan, request?.spanContext());
    },
    batchStarted(jobs, rows) {
      const requests = jobs.flatMap((job) => (job instanceof JobSpans && job.request ? [job.request] : []));
      const links: Link[] = requests.map((request) => ({ context: request }));
      const first = requests[0];
      const span = tracer.startSpan(
        'inference',
        {
          links,
          attributes: {
            ...versionAttributes,
            [SPAN_ATTRIBUTES.batchSize]: rows,
            [SPAN_ATTRIBUTES.provider]: provider(),
          },
        },
        first === undefined ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, first),
      );
      return new BatchSpan(span);
    },
  };
}
