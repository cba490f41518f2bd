/**
 * The queue policy: a bounded queue of jobs counted in rows, in two priority lanes (priority-lanes.ts
 * has the rule). Admission (QUEUE_FULL), removal (deadline, cancellation) and which rows a batch takes
 * live here; when a batch leaves is batch-policy.ts's business.
 */
import { serveError } from '../errors.js';
import type { InferenceJob } from './inference-job.js';
import { JobFifo, type RowSlice } from './job-fifo.js';
import {
  bulkQueueLimit,
  bulkReservedRows,
  splitBatchRows,
  type LaneSettings,
  type Priority,
  type RowsByPriority,
} from './priority-lanes.js';

export class RequestQueue {
  private readonly lanes: Record<Priority, JobFifo> = { interactive: new JobFifo(), bulk: new JobFifo() };
  /** Rows waiting by the priority of their job, whichever lane holds it. */
  private readonly waiting: RowsByPriority = { interactive: 0, bulk: 0 };
  private readonly bulkReservedRows: number;
  private readonly bulkQueueLimit: number;

  constructor(
    private readonly maxQueueRows: number,
    maxBatchSize: number,
    private readonly settings: Readonly<LaneSettings>,
  ) {
    this.bulkReservedRows = bulkReservedRows(settings.bulkMinShare, maxBatchSize);
    this.bulkQueueLimit = bulkQueueLimit(maxQueueRows, maxBatchSize);
  }

  /** Rows waiting (not yet handed to a batch). */
  get queuedRows(): number {
    return this.waiting.interactive + this.waiting.bulk;
  }

  /** Rows waiting by priority (a copy). */
  get queuedRowsByPriority(): RowsByPriority {
    return { ...this.waiting };
  }

  /** Arrival of the oldest waiting job of either lane: the batching decision's clock spans both. */
  get oldestEnqueuedAtMs(): number | undefined {
    const { interactive, bulk } = this.lanes;
    if (interactive.oldestEnqueuedAtMs === undefined) return bulk.oldestEnqueuedAtMs;
    if (bulk.oldestEnqueuedAtMs === undefined) return interactive.oldestEnqueuedAtMs;
    return Math.min(interactive.oldestEnqueuedAtMs, bulk.oldestEnqueuedAtMs);
  }

  /**
   * Throws QUEUE_FULL (with the caller's retry hint) unless `rows` more rows of `priority` fit: the
   * whole queue holds maxQueueRows, and with lanes on bulk rows hold at most the bulk limit of it.
   */
  checkRoom(rows: number, retryAfterSeconds: number, priority: Priority = 'interactive'): void {
    if (this.queuedRows + rows > this.maxQueueRows) {
      throw serveError.QUEUE_FULL(this.queuedRows, this.maxQueueRows, retryAfterSeconds);
    }
    if (this.settings.enabled && priority === 'bulk' && this.waiting.bulk + rows > this.bulkQueueLimit) {
      throw serveError.QUEUE_FULL(this.waiting.bulk, this.bulkQueueLimit, retryAfterSeconds, 'bulk');
    }
  }

  /** Adds the job or throws QUEUE_FULL (see checkRoom) if its rows do not fit. */
  admit(job: InferenceJob, retryAfterSeconds: number): void {
    this.checkRoom(job.rows, retryAfterSeconds, job.priority);
    this.laneOf(job).push(job);
    this.waiting[job.priority] += job.rows;
  }

  /**
   * Takes up to maxRows rows: with lanes on, as many from each lane as splitBatchRows says (interactive
   * first, a share kept for bulk); with lanes off, from the head of the one FIFO.
   */
  take(maxRows: number): RowSlice[] {
    const { interactive, bulk } = this.lanes;
    let slices: RowSlice[];
    if (this.settings.enabled) {
      const rows = splitBatchRows(maxRows, this.waiting, this.bulkReservedRows);
      slices = [...interactive.take(rows.interactive), ...bulk.take(rows.bulk)];
    } else slices = interactive.take(maxRows);
    for (const { job, count } of slices) this.waiting[job.priority] -= count;
    return slices;
  }

  /** Removes the job's rows that have not been handed to a batch yet. Returns whether it was queued. */
  remove(job: InferenceJob): boolean {
    if (!this.laneOf(job).remove(job)) return false;
    this.waiting[job.priority] -= job.remainingRows;
    return true;
  }

  /** Every queued job, oldest first within its lane (used to fail them all on shutdown). */
  drain(): InferenceJob[] {
    this.waiting.interactive = 0;
    this.waiting.bulk = 0;
    return [...this.lanes.interactive.drain(), ...this.lanes.bulk.drain()];
  }

  /** With lanes off every job waits in one FIFO (the interactive lane's), in arrival order. */
  private laneOf(job: InferenceJob): JobFifo {
    return this.settings.enabled ? this.lanes[job.priority] : this.lanes.interactive;
  }
}
