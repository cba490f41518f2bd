/**
 * One model's dynamic batcher: admits jobs into the RequestQueue, asks batch-policy.ts when a batch
 * leaves, assembles the batch's input tensors, runs it on the backend (the model's worker), and hands
 * each job its rows back. Deadlines: a job whose deadline passes while any of its rows still waits is
 * failed with TIMEOUT and those rows never run.
 */
import { serveError } from '../errors.js';
import { decideBatch } from './batch-policy.js';
import type { BatchTracer, JobTrace } from './batch-tracer.js';
import { InferenceJob, type JobInput, type JobResult } from './inference-job.js';
import type { RowSlice } from './job-fifo.js';
import { DEFAULT_LANE_SETTINGS, type LaneSettings, type Priority, type RowsByPriority } from './priority-lanes.js';
import { RequestQueue } from './request-queue.js';
import type { BatchingConfig } from '@sagan-serve/model-contract/batching-config';

export interface BatchInput {
  /** [rows, latentDim] row-major; the backend may take ownership (it is transferred to a worker). */
  z: Float32Array;
  /** [rows] class indices. */
  classes: BigInt64Array;
  rows: number;
  /** Whether to compute and return the attention output. */
  fetchAttention: boolean;
}

export interface BatchOutput {
  /** [rows, imageRowLength]. */
  image: Float32Array;
  /** [rows, attentionRowLength] when fetchAttention was set. */
  attention?: Float32Array;
  /** Time inside session.run, in seconds. */
  inferenceSeconds: number;
}

/** What runs a batch. Rejects with a ServeError (INFERENCE_FAILED, WORKER_FAILED) on failure. */
export interface BatchBackend {
  run(batch: BatchInput): Promise<BatchOutput>;
}

export interface RowShape {
  latentDim: number;
  /** Floats per image row: 3 * size * size. */
  imageRowLength: number;
  /** Floats per attention row: queries * keys; 0 when the model has no attention output. */
  attentionRowLength: number;
}

/** A model's batching, and the server's priority lanes (DEFAULT_LANE_SETTINGS when not given). */
export interface BatcherConfig extends BatchingConfig {
  lanes?: Readonly<LaneSettings>;
}

export type RejectReason = 'queue_full' | 'timeout' | 'shutdown' | 'failed';

/** Hooks for metrics; every method is optional. Seconds everywhere. */
export interface BatcherObserver {
  queueDepth?(rows: number, rowsByPriority: Readonly<RowsByPriority>): void;
  queueWait?(seconds: number, priority: Priority): void;
  batch?(rows: number, inferenceSeconds: number): void;
  rejected?(reason: RejectReason): void;
}

/** The batcher's view of time: ms on any monotonic origin, and timers. Tests pass a fake clock. */
export interface Clock {
  nowMs(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  nowMs: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface SubmitOptions {
  /** Aborting removes the job's waiting rows; its promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** The request field that set the row count (`n`, `steps`), named when the rows can never fit the queue. */
  rowsField?: string;
  /** The job's lane (priority-lanes.ts): 'bulk' for throughput work such as samples chunks. */
  priority?: Priority;
}

/**
 * A refusal as a promise that is already marked handled: a caller that keeps it aside while it does
 * other work (the samples stream submits its next chunk before it writes the current one) must not
 * have it reported as an unhandled rejection, which ends the process. Awaiting it still throws.
 */
function refused(error: unknown): Promise<never> {
  const promise = Promise.reject(error instanceof Error ? error : new Error(String(error)));
  promise.catch(() => undefined);
  return promise;
}

export class Batcher {
  private readonly queue: RequestQueue;
  private readonly deadlineTimers = new Map<InferenceJob, unknown>();
  /** Removes a job's listener from its caller's abort signal once the job settles (see submit). */
  private readonly abortListeners = new Map<InferenceJob, () => void>();
  private wakeTimer: unknown = undefined;
  private wakeAtMs: number | undefined;
  private inflight = 0;
  private closing = false;
  /** Smoothed seconds per batch, for the retry hint of a refusal. */
  private meanBatchSeconds = 0.05;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly backend: BatchBackend,
    /** The model's row sizes (floats per latent, image and attention row). */
    readonly shape: RowShape,
    private readonly config: BatcherConfig,
    private readonly observer: BatcherObserver = {},
    private readonly clock: Clock = systemClock,
    /** Spans for queue waits and batches (batch-tracer.ts); none when tracing is off. */
    private readonly tracer?: BatchTracer,
  ) {
    this.queue = new RequestQueue(config.maxQueueSize, config.maxBatchSize, config.lanes ?? DEFAULT_LANE_SETTINGS);
  }

  get queuedRows(): number {
    return this.queue.queuedRows;
  }

  get busy(): boolean {
    return this.inflight > 0 || this.queue.queuedRows > 0;
  }

  /** Seconds a rejected client should wait: roughly the time to work off the current queue. */
  retryAfterSeconds(): number {
    const batchesAhead = Math.ceil(this.queue.queuedRows / this.config.maxBatchSize) + this.inflight;
    return Math.max(1, Math.ceil((batchesAhead * this.meanBatchSeconds) / this.config.instances));
  }

  /**
   * Load shedding before any per-request work: throws QUEUE_FULL (counted like a refused submit) when
   * not even `rows` more rows would be admitted now. Callers check this before validating and building
   * a request, so that under overload a refusal costs little more than parsing the HTTP request; the
   * exact admission decision is still submit's (which also applies the bulk lane's limit).
   */
  refuseIfFull(rows = 1): void {
    try {
      this.queue.checkRoom(rows, this.retryAfterSeconds());
    } catch (err) {
      this.observer.rejected?.('queue_full');
      throw err;
    }
  }

  /**
   * Queue a job. Resolves with its rows; rejects with ServeError QUEUE_FULL (at once), TIMEOUT,
   * SHUTTING_DOWN, INFERENCE_FAILED or WORKER_FAILED.
   */
  submit(input: JobInput, options: SubmitOptions = {}): Promise<JobResult> {
    if (input.z.length !== input.classes.length * this.shape.latentDim) {
      throw new RangeError(
        `z has ${input.z.length} values, expected ${input.classes.length} x ${this.shape.latentDim}`,
      );
    }
    const most = this.config.maxQueueSize;
    if (input.classes.length > most) {
      // No wait would make room, so this is the request's fault, not overload (and no retry hint).
      return refused(
        serveError.INVALID_ARGUMENT(
          options.rowsField,
          `${options.rowsField ?? 'the request'} asks for ${input.classes.length} images; this model's queue holds at most ${most} (batching.maxQueueSize)`,
          `1..${most}`,
        ),
      );
    }
    if (this.closing) {
      this.observer.rejected?.('shutdown');
      return refused(serveError.SHUTTING_DOWN());
    }
    const job = new InferenceJob(input, this.clock.nowMs(), this.config.requestTimeoutMs, options.priority);
    try {
      this.queue.admit(job, this.retryAfterSeconds());
    } catch (err) {
      this.observer.rejected?.('queue_full');
      return refused(err);
    }
    job.trace = this.tracer?.jobQueued(job.rows, job.priority);
    this.deadlineTimers.set(
      job,
      this.clock.setTimeout(() => this.expire(job), this.config.requestTimeoutMs),
    );
    const { signal } = options;
    if (signal) {
      if (signal.aborted) this.cancel(job, signal.reason);
      else {
        // One signal may serve many jobs (a samples stream submits a chunk at a time under one
        // client-gone signal): a listener left behind would keep its settled job, and that job's
        // output, alive until the stream ends.
        const onAbort = () => this.cancel(job, signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        this.abortListeners.set(job, () => signal.removeEventListener('abort', onAbort));
      }
    }
    this.reportDepth();
    this.schedule();
    return job.promise;
  }

  /** Stop admitting; resolves when queued and running work is done. */
  close(): Promise<void> {
    this.closing = true;
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Fail every waiting job with SHUTTING_DOWN (after the grace period). Running batches still finish. */
  abortQueued(): void {
    for (const job of this.queue.drain())
      this.finish(job, serveError.SHUTTING_DOWN('this request had not started'), 'shutdown');
    this.reportDepth();
    this.notifyIfIdle();
  }

  private expire(job: InferenceJob): void {
    this.deadlineTimers.delete(job);
    if (job.settled || job.remainingRows === 0) return;
    this.queue.remove(job);
    this.reportDepth();
    this.finish(job, serveError.TIMEOUT(this.config.requestTimeoutMs), 'timeout');
    this.schedule();
  }

  private cancel(job: InferenceJob, reason: unknown): void {
    if (job.settled) return;
    this.queue.remove(job);
    this.reportDepth();
    this.finish(job, reason instanceof Error ? reason : new Error('request cancelled'));
    this.schedule();
  }

  private finish(job: InferenceJob, error: Error | undefined, reason?: RejectReason): void {
    const timer = this.deadlineTimers.get(job);
    if (timer !== undefined) {
      this.clock.clearTimeout(timer);
      this.deadlineTimers.delete(job);
    }
    const removeAbortListener = this.abortListeners.get(job);
    if (removeAbortListener) {
      removeAbortListener();
      this.abortListeners.delete(job);
    }
    if (error) {
      if (job.firstDispatchAtMs === undefined) job.trace?.endQueueWait(error);
      if (reason && !job.settled) this.observer.rejected?.(reason);
      job.fail(error);
    } else {
      job.resolve();
    }
  }

  private schedule(): void {
    for (;;) {
      const decision = decideBatch({
        nowMs: this.clock.nowMs(),
        queuedRows: this.queue.queuedRows,
        oldestEnqueuedAtMs: this.queue.oldestEnqueuedAtMs,
        maxBatchSize: this.config.maxBatchSize,
        maxQueueDelayMs: this.config.maxQueueDelayMs,
        instanceFree: this.inflight < this.config.instances,
      });
      if (decision.kind === 'dispatch') {
        this.clearWake();
        this.dispatch(this.queue.take(decision.rows));
        continue;
      }
      if (decision.kind === 'wait') this.setWake(decision.wakeAtMs);
      else this.clearWake();
      this.notifyIfIdle();
      return;
    }
  }

  private setWake(atMs: number): void {
    if (this.wakeAtMs === atMs && this.wakeTimer !== undefined) return;
    this.clearWake();
    this.wakeAtMs = atMs;
    this.wakeTimer = this.clock.setTimeout(
      () => {
        this.wakeTimer = undefined;
        this.wakeAtMs = undefined;
        this.schedule();
      },
      Math.max(0, atMs - this.clock.nowMs()),
    );
  }

  private clearWake(): void {
    if (this.wakeTimer !== undefined) this.clock.clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    this.wakeAtMs = undefined;
  }

  private dispatch(slices: RowSlice[]): void {
    const { latentDim } = this.shape;
    const rows = slices.reduce((sum, s) => sum + s.count, 0);
    const z = new Float32Array(rows * latentDim);
    const classes = new BigInt64Array(rows);
    let row = 0;
    let fetchAttention = false;
    const nowMs = this.clock.nowMs();
    const traces: JobTrace[] = [];
    for (const { job, start, count } of slices) {
      z.set(job.input.z.subarray(start * latentDim, (start + count) * latentDim), row * latentDim);
      for (let i = 0; i < count; i++) classes[row + i] = BigInt(job.input.classes[start + i]);
      if (job.firstDispatchAtMs === undefined) {
        job.firstDispatchAtMs = nowMs;
        this.observer.queueWait?.((nowMs - job.enqueuedAtMs) / 1000, job.priority);
        job.trace?.endQueueWait();
      }
      if (job.trace) traces.push(job.trace);
      job.batchSizes.push(rows);
      fetchAttention ||= job.input.wantAttention;
      row += count;
    }
    this.reportDepth();
    this.inflight++;
    const startedMs = nowMs;
    const batchTrace = this.tracer?.batchStarted(traces, rows);
    this.backend
      .run({ z, classes, rows, fetchAttention })
      .then((output) => this.checkedOutput(output, rows, fetchAttention))
      .then(
        (output) => {
          this.meanBatchSeconds = 0.8 * this.meanBatchSeconds + 0.2 * ((this.clock.nowMs() - startedMs) / 1000);
          this.observer.batch?.(rows, output.inferenceSeconds);
          batchTrace?.end();
          this.deliver(slices, output);
        },
        (err: unknown) => {
          const error = err instanceof Error ? err : serveError.INFERENCE_FAILED(String(err));
          batchTrace?.end(error);
          for (const { job } of slices) {
            this.queue.remove(job);
            this.finish(job, error, 'failed');
          }
        },
      )
      .finally(() => {
        this.inflight--;
        this.schedule();
      });
  }

  /**
   * The output if it holds exactly a row per row of the batch. Warm-up checks only batches 1 and 2; a
   * graph whose output rows differ from its input rows at other sizes would otherwise have rows copied
   * from the wrong place, or left blank, in answers that say 200.
   */
  private checkedOutput(output: BatchOutput, rows: number, fetchAttention: boolean): BatchOutput {
    const { imageRowLength, attentionRowLength } = this.shape;
    const wrong = (what: string, values: number | undefined, rowLength: number) =>
      `the model's ${what} output has ${values ?? 'no'} values; a batch of ${rows} needs ${rows * rowLength} (${rows} x ${rowLength})`;
    if (output.image.length !== rows * imageRowLength)
      throw serveError.INFERENCE_FAILED(wrong('image', output.image.length, imageRowLength));
    if (fetchAttention && attentionRowLength > 0 && output.attention?.length !== rows * attentionRowLength) {
      throw serveError.INFERENCE_FAILED(wrong('attention', output.attention?.length, attentionRowLength));
    }
    return output;
  }

  private deliver(slices: RowSlice[], output: BatchOutput): void {
    const { imageRowLength, attentionRowLength } = this.shape;
    let row = 0;
    for (const { job, start, count } of slices) {
      if (!job.settled) {
        job.image ??= new Float32Array(job.rows * imageRowLength);
        job.image.set(
          output.image.subarray(row * imageRowLength, (row + count) * imageRowLength),
          start * imageRowLength,
        );
        if (job.input.wantAttention && output.attention) {
          job.attention ??= new Float32Array(job.rows * attentionRowLength);
          job.attention.set(
            output.attention.subarray(row * attentionRowLength, (row + count) * attentionRowLength),
            start * attentionRowLength,
          );
        }
        job.completedRows += count;
        if (job.completedRows === job.rows) this.finish(job, undefined);
      }
      row += count;
    }
  }

  private reportDepth(): void {
    this.observer.queueDepth?.(this.queue.queuedRows, this.queue.queuedRowsByPriority);
  }

  private notifyIfIdle(): void {
    if (this.busy || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters.splice(0);
    for (const resolve of waiters) resolve();
  }
}
