/**
 * One load level against a running server: /metrics before, generate load with autocannon while a
 * worker thread probes /healthz, /metrics after. Shared by bench.ts and bench-healthz.ts.
 */
import { cpuShare, cpuSnapshot, measureQuietly, type CpuShare } from './cpu-usage.js';
import { startHealthzProbe, type HealthzSummary } from './healthz-probe.js';
import { runGenerateLoad, type LoadResult } from './load.js';
import { metricsDelta, scrapeMetrics, type MetricsDelta } from './metrics-scrape.js';
import type { ServerProcess } from './server-process.js';
import { sleep } from '../reliability/http-client.js';

export interface LevelResult {
  connections: number;
  load: LoadResult;
  healthz: HealthzSummary;
  server: MetricsDelta;
  /** Cores used by the server, this bench, and other processes during the level (Linux only). */
  cpu: CpuShare | undefined;
  /** Attempts made (more than 1 when other processes disturbed the first; the least-disturbed one is kept). */
  attempts: number;
}

export interface LevelOptions {
  connections: number;
  durationSeconds: number;
  healthzIntervalMs: number;
  /** Wait up to this long for other processes to go quiet before starting (0 = do not wait). */
  quietWaitSeconds?: number;
  /** Measure again (up to this many times) when other processes used more than 0.25 core meanwhile. */
  retries?: number;
  log?: (message: string) => void;
}

/** Waits until the server's queue is empty and nothing runs (requests abandoned by the previous level finish). */
export async function settle(server: ServerProcess, maxMs = 5000): Promise<void> {
  const deadline = performance.now() + maxMs;
  while (performance.now() < deadline) {
    const res = await fetch(`${server.url}/v1/models/${encodeURIComponent(server.model)}`);
    const body = (await res.json()) as { queue_depth?: number };
    if (!body.queue_depth) break;
    await sleep(50);
  }
  await sleep(250);
}

export async function measureLevel(server: ServerProcess, options: LevelOptions): Promise<LevelResult> {
  const { result, attempts } = await measureQuietly(
    () => measureOnce(server, options),
    (r) => r.cpu?.otherCores,
    {
      serverPid: server.pid,
      quietWaitSeconds: options.quietWaitSeconds ?? 0,
      retries: options.retries ?? 0,
      log: options.log,
    },
  );
  return { ...result, attempts };
}

async function measureOnce(server: ServerProcess, options: LevelOptions): Promise<Omit<LevelResult, 'attempts'>> {
  await settle(server);
  const before = await scrapeMetrics(server.url);
  const cpuBefore = cpuSnapshot(server.pid);
  const probe = startHealthzProbe(server.url, options.healthzIntervalMs);
  let load: LoadResult;
  try {
    load = await runGenerateLoad({
      url: server.url,
      model: server.model,
      classCount: server.classes.length,
      connections: options.connections,
      durationSeconds: options.durationSeconds,
    });
  } catch (err) {
    await probe.stop().catch(() => undefined);
    throw err;
  }
  const cpuAfter = cpuSnapshot(server.pid);
  const healthz = await probe.stop();
  const after = await scrapeMetrics(server.url);
  return {
    connections: options.connections,
    load,
    healthz,
    server: metricsDelta(before, after),
    cpu: cpuShare(cpuBefore, cpuAfter),
  };
}

/** Untimed load so that the first measured level does not pay for first-batch allocations. */
export async function warmUp(server: ServerProcess, connections: number, seconds: number): Promise<void> {
  if (seconds <= 0) return;
  await runGenerateLoad({
    url: server.url,
    model: server.model,
    classCount: server.classes.length,
    connections,
    durationSeconds: seconds,
  });
}

/** One real request, checked to be a PNG; throws with the server's answer otherwise. */
export async function checkOneImage(
  server: ServerProcess,
): Promise<{ bytes: number; headers: Record<string, string> }> {
  const res = await fetch(`${server.url}/v1/models/${encodeURIComponent(server.model)}/generate?class=0&seed=1`);
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200 || body.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a') {
    throw new Error(
      `sanity request failed: ${res.status} ${res.headers.get('content-type')} ${body.subarray(0, 300).toString('utf8')}`,
    );
  }
  const headers: Record<string, string> = {};
  for (const name of ['x-model', 'x-model-version', 'x-class', 'x-seed', 'content-type'])
    headers[name] = res.headers.get(name) ?? '';
  return { bytes: body.length, headers };
}
