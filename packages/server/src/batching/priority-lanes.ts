/**
 * Priority lanes: which waiting rows of a model a batch takes, when two kinds of traffic share it.
 * Interactive requests (a person waits for one answer: /generate, interpolate, v2 infer) go ahead of
 * bulk rows (a pipeline's /samples stream, which cares about throughput, not about one chunk's wait).
 *
 * The rule, all of it:
 * - Order: a batch takes the bulk reserve first, then interactive rows, then bulk rows into any room
 *   left. Each lane is a FIFO.
 * - Share (the starvation guard): while bulk rows wait, every batch carries at least
 *   min(bulk rows waiting, R) of them, R = ceil(bulkMinShare x maxBatchSize) >= 1. So a bulk row with B
 *   bulk rows ahead of it leaves within floor(B / R) + 1 batches, however many interactive rows arrive;
 *   and since the bulk lane holds at most L rows (below), within ceil(L / R) batches of its arrival.
 * - Room (the admission guard): bulk rows may hold at most L = max(maxBatchSize, floor(maxQueueSize / 2))
 *   rows of the queue, so bulk streams alone never fill it and interactive requests keep at least the
 *   other half (a bulk chunk refused mid-stream waits for room; a fresh interactive request would not).
 * - Lanes off: one FIFO in arrival order, no bulk limit (the queue as it was before lanes).
 *
 * The batching decision (batch-policy.ts: when a batch leaves) does not know about lanes; its clock is
 * the oldest waiting row of either lane.
 */

export const PRIORITIES = ['interactive', 'bulk'] as const;
export type Priority = (typeof PRIORITIES)[number];

export interface LaneSettings {
  /** false: one FIFO in arrival order for every priority. */
  enabled: boolean;
  /** The part of every batch reserved for bulk rows while any wait, in (0, 1]. */
  bulkMinShare: number;
}

export const DEFAULT_LANE_SETTINGS: Readonly<LaneSettings> = Object.freeze({ enabled: true, bulkMinShare: 0.25 });

/** Rows per priority. */
export type RowsByPriority = Record<Priority, number>;

/**
 * R: the rows of each batch that bulk rows take first while any wait, 1..maxBatchSize. The small
 * tolerance keeps a product that binary floating point puts just above an integer (0.1 x 30 gives
 * 3.0000000000000004) from rounding up to the next row.
 */
export function bulkReservedRows(bulkMinShare: number, maxBatchSize: number): number {
  return Math.min(maxBatchSize, Math.max(1, Math.ceil(bulkMinShare * maxBatchSize - 1e-9)));
}

/**
 * L: the most rows bulk jobs may hold in a queue of maxQueueSize rows. At least a batch, so a samples
 * chunk (maxBatchSize rows) always fits an empty bulk lane; never more than the queue.
 */
export function bulkQueueLimit(maxQueueSize: number, maxBatchSize: number): number {
  return Math.min(maxQueueSize, Math.max(maxBatchSize, Math.floor(maxQueueSize / 2)));
}

/** How many of a batch's `rows` come from each lane, given the rows waiting in each (see the rule above). */
export function splitBatchRows(
  rows: number,
  waiting: Readonly<RowsByPriority>,
  reservedForBulk: number,
): RowsByPriority {
  const bulkReserve = Math.min(waiting.bulk, reservedForBulk, rows);
  const interactive = Math.min(waiting.interactive, rows - bulkReserve);
  const bulk = Math.min(waiting.bulk, rows - interactive);
  return { interactive, bulk };
}
