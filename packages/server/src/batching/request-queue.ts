/**
 * The queue policy: a bounded FIFO of jobs counted in rows. Admission (QUEUE_FULL) and removal
 * (deadline, cancellation) live here; when a batch leaves is batch-policy.ts's business.
 */
import { serveError } from '../errors.js';
import type { InferenceJob } from './inference-job.js';

export interface RowSlice {
  job: InferenceJob;
  /** First row of the job in this slice. */
  start: number;
  count: number;
}

export class RequestQueue {
  private readonly jobs: InferenceJob[] = [];
  private rowsQueued = 0;

  constructor(private readonly maxQueueRows: number) {}

  /** Rows waiting (not yet handed to a batch). */
  get queuedRows(): number {
    return this.rowsQueued;
  }

  get oldestEnqueuedAtMs(): number | undefined {
    return this.jobs[0]?.enqueuedAtMs;
  }

  /** Throws QUEUE_FULL (with the caller's retry hint) unless `rows` more rows fit. */
  checkRoom(rows: number, retryAfterSeconds: number): void {
    if (this.rowsQueued + rows > this.maxQueueRows) {
      throw serveError.QUEUE_FULL(this.rowsQueued, this.maxQueueRows, retryAfterSeconds);
    }
  }

  /** Adds the job or throws QUEUE_FULL (see checkRoom) if its rows do not fit. */
  admit(job: InferenceJob, retryAfterSeconds: number): void {
    this.checkRoom(job.rows, retryAfterSeconds);
    this.jobs.push(job);
    this.rowsQueued += job.rows;
  }

  /** Takes up to maxRows rows from the head, splitting the last job if needed. */
  take(maxRows: number): RowSlice[] {
    const slices: RowSlice[] = [];
    let room = maxRows;
    while (room > 0 && this.jobs.length > 0) {
      const job = this.jobs[0];
      const count = Math.min(room, job.remainingRows);
      slices.push({ job, start: job.dispatchedRows, count });
      job.dispatchedRows += count;
      room -= count;
      this.rowsQueued -= count;
      if (job.remainingRows === 0) this.jobs.shift();
    }
    return slices;
  }

  /** Removes the job's rows that have not been handed to a batch yet. Returns whether it was queued. */
  remove(job: InferenceJob): boolean {
    const index = this.jobs.indexOf(job);
    if (index < 0) return false;
    this.jobs.splice(index, 1);
    this.rowsQueued -= job.remainingRows;
    return true;
  }

  /** Every queued job, oldest first (used to fail them all on shutdown). */
  drain(): InferenceJob[] {
    const all = this.jobs.splice(0);
    this.rowsQueued = 0;
    return all;
  }
}
