/**
 * One lane of a model's queue: jobs in arrival order, handed out by rows. A job larger than the rows
 * asked for is split: its first rows leave now, the rest stay at the head for the next batch.
 */
import type { InferenceJob } from './inference-job.js';

export interface RowSlice {
  job: InferenceJob;
  /** First row of the job in this slice. */
  start: number;
  count: number;
}

export class JobFifo {
  private readonly jobs: InferenceJob[] = [];

  get oldestEnqueuedAtMs(): number | undefined {
    return this.jobs[0]?.enqueuedAtMs;
  }

  push(job: InferenceJob): void {
    this.jobs.push(job);
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
      if (job.remainingRows === 0) this.jobs.shift();
    }
    return slices;
  }

  /** Takes the job out. Returns whether it was here. */
  remove(job: InferenceJob): boolean {
    const index = this.jobs.indexOf(job);
    if (index < 0) return false;
    this.jobs.splice(index, 1);
    return true;
  }

  /** Every job, oldest first, leaving the lane empty. */
  drain(): InferenceJob[] {
    return this.jobs.splice(0);
  }
}
