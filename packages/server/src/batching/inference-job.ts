/**
 * One client request's work: n rows (images), each a latent and a class. A job's rows may be split
 * across consecutive batches; it settles once all rows are back, or fails as a whole.
 */
import type { ServeError } from '../errors.js';
import type { Priority } from './priority-lanes.js';
import type { JobTrace } from './batch-tracer.js';

export interface JobInput {
  /** Latents, row-major [rows, latentDim]. Owned by the job; the batcher only reads it. */
  z: Float32Array;
  /** Class index per row. */
  classes: Int32Array | number[];
  /** Whether this job needs the attention output (fetched for the whole batch if any row needs it). */
  wantAttention: boolean;
}

export interface JobResult {
  /** Images, row-major [rows, 3, size, size], in the model's output range. */
  image: Float32Array;
  /** Attention maps [rows, queries, keys] when asked for. */
  attention: Float32Array | undefined;
  /** Seconds this job's first row waited in the queue before its batch left. */
  queueWaitSeconds: number;
  /** Batch sizes this job's rows ran in (one entry per batch). */
  batchSizes: number[];
}

export class InferenceJob {
  readonly rows: number;
  readonly input: JobInput;
  /** Arrival time in ms on the batcher's clock. */
  readonly enqueuedAtMs: number;
  readonly deadlineMs: number;
  /** Its lane in the queue (priority-lanes.ts). */
  readonly priority: Priority;
  /** Rows handed to batches so far (0 = not started). */
  dispatchedRows = 0;
  /** Rows whose results have arrived. */
  completedRows = 0;
  settled = false;
  firstDispatchAtMs: number | undefined;
  readonly batchSizes: number[] = [];
  /** Its spans (batch-tracer.ts), set by the batcher when tracing is on. */
  trace: JobTrace | undefined;
  image: Float32Array | undefined;
  attention: Float32Array | undefined;
  readonly promise: Promise<JobResult>;
  private resolveFn!: (r: JobResult) => void;
  private rejectFn!: (e: Error) => void;

  constructor(input: JobInput, enqueuedAtMs: number, timeoutMs: number, priority: Priority = 'interactive') {
    this.input = input;
    this.priority = priority;
    this.rows = input.classes.length;
    this.enqueuedAtMs = enqueuedAtMs;
    this.deadlineMs = enqueuedAtMs + timeoutMs;
    this.promise = new Promise<JobResult>((resolve, reject) => {
      this.resolveFn = resolve;
      this.rejectFn = reject;
    });
    // Callers may drop the promise when a client disconnects; never let a rejection go unhandled.
    this.promise.catch(() => undefined);
  }

  get started(): boolean {
    return this.dispatchedRows > 0;
  }

  get remainingRows(): number {
    return this.rows - this.dispatchedRows;
  }

  resolve(): void {
    if (this.settled) return;
    this.settled = true;
    this.resolveFn({
      image: this.image ?? new Float32Array(0),
      attention: this.attention,
      queueWaitSeconds: ((this.firstDispatchAtMs ?? this.enqueuedAtMs) - this.enqueuedAtMs) / 1000,
      batchSizes: this.batchSizes,
    });
  }

  fail(error: ServeError | Error): void {
    if (this.settled) return;
    this.settled = true;
    this.rejectFn(error);
  }
}
