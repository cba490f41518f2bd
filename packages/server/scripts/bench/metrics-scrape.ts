/** Reads the server's /metrics and turns two snapshots into per-level figures. */
import { metricValue, parseMetrics, valuesByLabel } from '../shared/metrics-text.js';

export interface MetricsSnapshot {
  atMs: number;
  batchSizeSum: number;
  batchSizeCount: number;
  inferenceSecondsSum: number;
  inferenceSecondsCount: number;
  queueWaitSecondsSum: number;
  queueWaitSecondsCount: number;
  imagesGenerated: number;
  rejected: Record<string, number>;
  workerRestarts: number;
  /** process_cpu_seconds_total: the whole server process (event loop, worker thread, libuv pool). */
  processCpuSeconds: number;
  /** Event-loop delay since the previous scrape (prom-client resets its histogram on each collection). */
  eventLoopLagP99Seconds: number;
  eventLoopLagMaxSeconds: number;
  /** nodejs_gc_duration_seconds (the HTTP thread's GC pauses, every kind): count, sum, and count per `le`. */
  gcPauseCount: number;
  gcPauseSeconds: number;
  gcPauseBuckets: Record<string, number>;
}

export function snapshotMetrics(text: string, atMs = performance.now()): MetricsSnapshot {
  // A gauge with nothing observed yet reads NaN (event-loop lag right after start): count it as 0.
  const samples = parseMetrics(text).filter((sample) => Number.isFinite(sample.value));
  const total = (name: string) => metricValue(samples, name);
  return {
    atMs,
    batchSizeSum: total('sagan_batch_size_sum'),
    batchSizeCount: total('sagan_batch_size_count'),
    inferenceSecondsSum: total('sagan_inference_duration_seconds_sum'),
    inferenceSecondsCount: total('sagan_inference_duration_seconds_count'),
    queueWaitSecondsSum: total('sagan_queue_wait_seconds_sum'),
    queueWaitSecondsCount: total('sagan_queue_wait_seconds_count'),
    imagesGenerated: total('sagan_images_generated_total'),
    rejected: valuesByLabel(samples, 'sagan_requests_rejected_total', 'reason'),
    workerRestarts: total('sagan_worker_restarts_total'),
    processCpuSeconds: total('process_cpu_seconds_total'),
    eventLoopLagP99Seconds: total('nodejs_eventloop_lag_p99_seconds'),
    eventLoopLagMaxSeconds: total('nodejs_eventloop_lag_max_seconds'),
    gcPauseCount: total('nodejs_gc_duration_seconds_count'),
    gcPauseSeconds: total('nodejs_gc_duration_seconds_sum'),
    gcPauseBuckets: valuesByLabel(samples, 'nodejs_gc_duration_seconds_bucket', 'le'),
  };
}

export async function scrapeMetrics(url: string): Promise<MetricsSnapshot> {
  const res = await fetch(`${url}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return snapshotMetrics(await res.text());
}

export interface MetricsDelta {
  batches: number;
  images: number;
  meanBatchSize: number;
  /** Mean session.run time per batch, in ms. */
  meanInferenceMsPerBatch: number;
  /** Fraction of the wall time the worker spent inside session.run. */
  inferenceBusyFraction: number;
  meanQueueWaitMs: number;
  rejected: Record<string, number>;
  workerRestarts: number;
  /** Server process CPU time over wall time: cores in use on average. */
  serverCpuCores: number;
  eventLoopLagP99Ms: number;
  eventLoopLagMaxMs: number;
  /** The HTTP thread's GC pauses between the two scrapes: how many, their total and mean (ms), and how
   *  many took longer than 5 and 10 ms (from the histogram's buckets). */
  gcPauses: { count: number; totalMs: number; meanMs: number; over5Ms: number; over10Ms: number };
}

export function metricsDelta(before: MetricsSnapshot, after: MetricsSnapshot): MetricsDelta {
  const batches = after.batchSizeCount - before.batchSizeCount;
  const images = after.batchSizeSum - before.batchSizeSum;
  const inferSeconds = after.inferenceSecondsSum - before.inferenceSecondsSum;
  const inferCount = after.inferenceSecondsCount - before.inferenceSecondsCount;
  const waitCount = after.queueWaitSecondsCount - before.queueWaitSecondsCount;
  const wallSeconds = (after.atMs - before.atMs) / 1000;
  const rejected: Record<string, number> = {};
  for (const [reason, n] of Object.entries(after.rejected)) {
    const d = n - (before.rejected[reason] ?? 0);
    if (d > 0) rejected[reason] = d;
  }
  return {
    batches,
    images,
    meanBatchSize: batches > 0 ? images / batches : Number.NaN,
    meanInferenceMsPerBatch: inferCount > 0 ? (inferSeconds / inferCount) * 1000 : Number.NaN,
    inferenceBusyFraction: wallSeconds > 0 ? inferSeconds / wallSeconds : Number.NaN,
    meanQueueWaitMs:
      waitCount > 0 ? ((after.queueWaitSecondsSum - before.queueWaitSecondsSum) / waitCount) * 1000 : Number.NaN,
    rejected,
    workerRestarts: after.workerRestarts - before.workerRestarts,
    serverCpuCores: wallSeconds > 0 ? (after.processCpuSeconds - before.processCpuSeconds) / wallSeconds : Number.NaN,
    eventLoopLagP99Ms: after.eventLoopLagP99Seconds * 1000,
    eventLoopLagMaxMs: after.eventLoopLagMaxSeconds * 1000,
    gcPauses: gcPausesBetween(before, after),
  };
}

function gcPausesBetween(before: MetricsSnapshot, after: MetricsSnapshot): MetricsDelta['gcPauses'] {
  const count = after.gcPauseCount - before.gcPauseCount;
  const totalMs = (after.gcPauseSeconds - before.gcPauseSeconds) * 1000;
  const atMost = (le: string) => (after.gcPauseBuckets[le] ?? Number.NaN) - (before.gcPauseBuckets[le] ?? 0);
  return {
    count,
    totalMs,
    meanMs: count > 0 ? totalMs / count : Number.NaN,
    over5Ms: count - atMost('0.005'),
    over10Ms: count - atMost('0.01'),
  };
}
