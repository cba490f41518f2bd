/**
 * Drives `GET /v1/models/<model>/generate?class=<i>&seed=<s>` with autocannon: a fixed number of
 * connections (each one request at a time), every request with a fresh seed (so nothing is served from
 * a cache and every image is really generated) unless a list of seeds is given, classes round-robin. Latencies are recorded exactly
 * (float ms from autocannon's 'response' event), not from its 1 ms histogram.
 */
import autocannon from 'autocannon';
import { summarize, type LatencySummary } from '@sagan-serve/bench-stats';

export interface LoadOptions {
  url: string;
  model: string;
  classCount: number;
  connections: number;
  durationSeconds: number;
  /** Per-request timeout in seconds (autocannon counts a timeout as an error). */
  timeoutSeconds?: number;
  /** Cycle over these seeds instead of a fresh seed per request (bench-response-cache.ts: cache hits). */
  seeds?: readonly number[];
}

export interface LoadResult {
  connections: number;
  durationSeconds: number;
  ok: number;
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  imagesPerSecond: number;
  latency: LatencySummary;
  meanResponseBytes: number;
}

let seedCounter = Math.floor(Math.random() * 2 ** 31);

export async function runGenerateLoad(options: LoadOptions): Promise<LoadResult> {
  const base = `/v1/models/${encodeURIComponent(options.model)}/generate`;
  const latencies: number[] = [];
  let bytes = 0;
  const instance = autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationSeconds,
    timeout: options.timeoutSeconds ?? 30,
    requests: [
      {
        method: 'GET',
        setupRequest: (req) => {
          const seed = options.seeds ? options.seeds[seedCounter++ % options.seeds.length] : seedCounter++ % 2 ** 32;
          return { ...req, path: `${base}?class=${seed % options.classCount}&seed=${seed}` };
        },
      },
    ],
  });
  instance.on('response', (_client: unknown, statusCode: number, resBytes: number, responseTimeMs: number) => {
    if (statusCode >= 200 && statusCode < 300) {
      latencies.push(responseTimeMs);
      bytes += resBytes;
    }
  });
  const result = await instance;
  const statusCodes: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = Number(count);
  const ok = latencies.length;
  return {
    connections: options.connections,
    durationSeconds: result.duration,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    imagesPerSecond: ok / result.duration,
    latency: summarize(latencies),
    meanResponseBytes: ok ? bytes / ok : 0,
  };
}
