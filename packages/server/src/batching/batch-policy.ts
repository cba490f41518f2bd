/**
 * The batching decision, and nothing else: given the queue's state and whether the backend is free,
 * say whether a batch leaves now, or when to look again. Pure, so its rules are easy to test and read.
 *
 * Rules (Triton's dynamic batcher, one in-flight batch per model instance):
 * - Nothing leaves while every instance is busy; the next batch keeps forming in the queue meanwhile.
 * - A full batch (queued rows >= maxBatchSize) leaves as soon as an instance is free.
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
  /** Whether an instance (a session in its worker) could start a batch now. */
  instanceFree: boolean;
}

export type BatchDecision =
  | { kind: 'dispatch'; rows: number }
  /** Look again at wakeAtMs (the oldest request's delay expiry) unless something else happens first. */
  | { kind: 'wait'; wakeAtMs: number }
  /** Nothing to do until a request arrives or an instance becomes free. */
  | { kind: 'idle' };

export function decideBatch(input: BatchPolicyInput): BatchDecision {
  const { nowMs, queuedRows, oldestEnqueuedAtMs, maxBatchSize, maxQueueDelayMs, instanceFree } = input;
  if (queuedRows === 0 || oldestEnqueuedAtMs === undefined || !instanceFree) return { kind: 'idle' };
  const rows = Math.min(queuedRows, maxBatchSize);
  if (queuedRows >= maxBatchSize) return { kind: 'dispatch', rows };
  const wakeAtMs = oldestEnqueuedAtMs + maxQueueDelayMs;
  if (nowMs >= wakeAtMs) return { kind: 'dispatch', rows };
  return { kind: 'wait', wakeAtMs };
}
