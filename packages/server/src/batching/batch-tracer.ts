/**
 * The batcher's tracing hooks. telemetry/batch-spans.ts implements them with OpenTelemetry; the batcher
 * only holds what they return and calls it back, so it imports no tracing library, and a batcher given
 * no tracer (tracing off) calls nothing at all.
 */
import type { Priority } from './priority-lanes.js';

/** One job's trace, opaque to the batcher; its tracer reads it again when the job's rows run. */
export interface JobTrace {
  /** The job's first rows left in a batch, or the job ended (with `error`) before any did. */
  endQueueWait(error?: Error): void;
}

/** One batch's trace: ended once the backend answers. */
export interface BatchTrace {
  end(error?: Error): void;
}

export interface BatchTracer {
  /** A job was admitted. Called synchronously in submit, so in the context of the request submitting it. */
  jobQueued(rows: number, priority: Priority): JobTrace;
  /** A batch leaves with rows of these jobs (in batch order, one entry per job). */
  batchStarted(jobs: readonly JobTrace[], rows: number): BatchTrace;
}
