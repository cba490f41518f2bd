/**
 * The batching decision, and nothing else: given the queue's state and whether the backend is free,
 * say whether a batch leaves now, or when to look again. Pure, so its rules are easy to test and read.
 *
 * Rules (Triton's dynamic batcher, simplified to one in-flight batch per model worker):
 * - Nothing leaves while the backend is busy; the next batch keeps forming in the queue meanwhile.
 * - A full batch (queued rows >= maxBatchSize) leaves as soon as the backend is free.
 * - Otherwise a partial batch leaves once its OLDEST waiting request has waited maxQueueDelayMs.
 *   Later arrivals never restart that clock.
 */
export interface BatchPolicyInput {
  /** Current time in ms (any monotonic origin shared with oldestEnqueuedAtMs). */
  nowMs: number;
  /** Rows (images) waiting in the queue. */
  queuedRows: number;
  /** Arrival time of the oldest waiting request in ms; undefined when the queue is empty. */
  oldestEnqueuedAtMs: number | undefined;
  maxBatchSize: number;
  maxQueueDelayMs: number;
  backendIdle: boolean;
}

export type BatchDecision =
  | { kind: 'dispatch'; rows: number }
  /** Look again at wakeAtMs (the oldest request's delay expiry) unless something else happens first. */
  | { kind: 'wait'; wakeAtMs: number }
  /** Nothing to do until a request arrives or the backend becomes free. */
  | { kind: 'idle' };

export function decideBatch(input: BatchPolicyInput): BatchDecision {
  const { nowMs, queuedRows, oldestEnqueuedAtMs, maxBatchSize, maxQueueDelayMs, backendIdle } = input;
  if (queuedRows === 0 || oldestEnqueuedAtMs === undefined || !backendIdle) return { kind: 'idle' };
  const rows = Math.min(queuedRows, maxBatchSize);
  if (queuedRows >= maxBatchSize) return { kind: 'dispatch', rows };
  const wakeAtMs = oldestEnqueuedAtMs + maxQueueDelayMs;
  if (nowMs >= wakeAtMs) return { kind: 'dispatch', rows };
  return { kind: 'wait', wakeAtMs };
}
