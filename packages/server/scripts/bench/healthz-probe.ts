/** Main-thread side of the /healthz prober (healthz-probe-worker.ts). */
import { Worker } from 'node:worker_threads';
import type { ProbeResult, ProbeWorkerData } from './healthz-probe-worker.js';
import { summarize, type LatencySummary } from '@sagan-serve/bench-stats';

export interface HealthzSummary extends LatencySummary {
  failures: number;
  failureReasons: string[];
  intervalMs: number;
}

export interface RunningProbe {
  /** Stops polling and returns the latency summary. */
  stop(): Promise<HealthzSummary>;
}

export function startHealthzProbe(url: string, intervalMs = 20): RunningProbe {
  const worker = new Worker(new URL('./healthz-probe-worker.js', import.meta.url), {
    workerData: { url, intervalMs } satisfies ProbeWorkerData,
  });
  const result = new Promise<ProbeResult>((resolve, reject) => {
    worker.once('message', (m: ProbeResult) => resolve(m));
    worker.once('error', reject);
  });
  return {
    async stop(): Promise<HealthzSummary> {
      worker.postMessage('stop');
      const r = await result;
      await worker.terminate();
      return { ...summarize(r.latenciesMs), failures: r.failures, failureReasons: r.failureReasons, intervalMs };
    },
  };
}
