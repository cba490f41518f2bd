/**
 * Every Prometheus metric the server exports, on a Registry of its own per app (so tests and several
 * apps in one process never share counters). README "Metrics" documents the same names, labels, buckets.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BatcherObserver, RejectReason } from './batching/batcher.js';
import { PRIORITIES } from './batching/priority-lanes.js';
import type { DeterministicResponsesObserver } from './cache/deterministic-responses.js';

/** Seconds; fits millisecond-scale inference and HTTP latencies up to the request timeout. */
export const LATENCY_BUCKETS_SECONDS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];
export const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

export class Metrics {
  readonly registry = new Registry();
  readonly httpRequestDuration = new Histogram({
    name: 'sagan_http_request_duration_seconds',
    help: 'HTTP request duration from arrival to the last byte written, by route template, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [this.registry],
  });
  readonly inferenceDuration = new Histogram({
    name: 'sagan_inference_duration_seconds',
    help: 'Time inside ONNX Runtime session.run for one batch, measured on the worker thread.',
    labelNames: ['model', 'version', 'provider'] as const,
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [this.registry],
  });
  readonly queueWait = new Histogram({
    name: 'sagan_queue_wait_seconds',
    help: "Time a request waited in its model's queue before its first row was batched, by its priority lane (interactive, bulk).",
    labelNames: ['model', 'version', 'lane'] as const,
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: 'sagan_batch_size',
    help: 'Rows (images) per batch sent to session.run.',
    labelNames: ['model', 'version'] as const,
    buckets: BATCH_SIZE_BUCKETS,
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'sagan_queue_depth',
    help: 'Rows (images) waiting in the model queue.',
    labelNames: ['model', 'version'] as const,
    registers: [this.registry],
  });
  readonly queueDepthByLane = new Gauge({
    name: 'sagan_queue_depth_by_lane',
    help: 'Rows (images) waiting in the model queue, by priority lane (interactive, bulk); they sum to sagan_queue_depth.',
    labelNames: ['model', 'version', 'lane'] as const,
    registers: [this.registry],
  });
  readonly imagesGenerated = new Counter({
    name: 'sagan_images_generated_total',
    help: 'Images produced by the generator (rows returned by session.run).',
    labelNames: ['model', 'version'] as const,
    registers: [this.registry],
  });
  readonly requestsRejected = new Counter({
    name: 'sagan_requests_rejected_total',
    help: 'Generation requests refused or failed by the batcher, by reason (queue_full, timeout, shutdown, failed).',
    labelNames: ['model', 'version', 'reason'] as const,
    registers: [this.registry],
  });
  readonly modelInfo = new Gauge({
    name: 'sagan_model_info',
    help: 'Always 1 for each model version that is ready; labels carry its version and execution provider.',
    labelNames: ['model', 'version', 'provider'] as const,
    registers: [this.registry],
  });
  readonly modelLoadDuration = new Gauge({
    name: 'sagan_model_load_seconds',
    help: 'Seconds to create the session and run its warm-up, per model version.',
    labelNames: ['model', 'version'] as const,
    registers: [this.registry],
  });
  readonly responsesCut = new Counter({
    name: 'sagan_responses_cut_total',
    help: 'Responses whose connection the server destroyed before they were complete: write_idle (the client stopped reading), release_timeout (a retired version waited too long for them), shutdown (the grace period ran out).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly workerRestarts = new Counter({
    name: 'sagan_worker_restarts_total',
    help: 'Inference worker restarts after a crash or a hung run.',
    labelNames: ['model', 'version'] as const,
    registers: [this.registry],
  });

  readonly responseCacheHits = new Counter({
    name: 'sagan_response_cache_hits_total',
    help: 'Seeded image requests answered from the response cache, without inference.',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });
  readonly responseCacheMisses = new Counter({
    name: 'sagan_response_cache_misses_total',
    help: 'Seeded image requests not in the response cache (coalesced ones included).',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });
  readonly responseCacheCoalesced = new Counter({
    name: 'sagan_response_cache_coalesced_total',
    help: 'Response cache misses that waited for the same image already being generated for another request.',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });
  readonly responseCacheEvictions = new Counter({
    name: 'sagan_response_cache_evictions_total',
    help: 'Entries the response cache dropped, least recently used first, to stay within RESPONSE_CACHE_MB.',
    registers: [this.registry],
  });
  readonly responseCacheBytes = new Gauge({
    name: 'sagan_response_cache_bytes',
    help: 'Bytes the response cache holds (bodies plus a fixed overhead per entry); at most RESPONSE_CACHE_MB MiB.',
    registers: [this.registry],
  });
  readonly responseCacheEntries = new Gauge({
    name: 'sagan_response_cache_entries',
    help: 'Responses the response cache holds.',
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    // GC pauses in the same millisecond buckets as the latencies (prom-client's default starts at 1 ms and
    // jumps to 10 ms): a pause of the HTTP thread delays every request and probe it lands on.
    if (options.processMetrics ?? true)
      collectDefaultMetrics({ register: this.registry, gcDurationBuckets: LATENCY_BUCKETS_SECONDS });
  }

  /** The batcher's hooks for one model version, recording into these metrics. */
  batcherObserver(model: string, version: string, provider: () => string): BatcherObserver {
    const labels = { model, version };
    return {
      queueDepth: (rows, rowsByPriority) => {
        this.queueDepth.set(labels, rows);
        for (const lane of PRIORITIES) this.queueDepthByLane.set({ ...labels, lane }, rowsByPriority[lane]);
      },
      queueWait: (seconds, lane) => this.queueWait.observe({ ...labels, lane }, seconds),
      batch: (rows, inferenceSeconds) => {
        this.batchSize.observe(labels, rows);
        this.inferenceDuration.observe({ ...labels, provider: provider() }, inferenceSeconds);
        this.imagesGenerated.inc(labels, rows);
      },
      rejected: (reason: RejectReason) => this.requestsRejected.inc({ ...labels, reason }),
    };
  }

  /** The response cache's hooks, recording into these metrics. */
  responseCacheObserver(): DeterministicResponsesObserver {
    return {
      hit: (model) => this.responseCacheHits.inc({ model }),
      miss: (model) => this.responseCacheMisses.inc({ model }),
      coalesced: (model) => this.responseCacheCoalesced.inc({ model }),
      evicted: (entries) => this.responseCacheEvictions.inc(entries),
      size: (bytes, entries) => {
        this.responseCacheBytes.set(bytes);
        this.responseCacheEntries.set(entries);
      },
    };
  }

  /** Drops a released version's gauges (its counters and histograms stay, as Prometheus expects). */
  forgetVersion(model: string, version: string): void {
    this.queueDepth.remove({ model, version });
    for (const lane of PRIORITIES) this.queueDepthByLane.remove({ model, version, lane });
    this.modelLoadDuration.remove({ model, version });
  }
}
