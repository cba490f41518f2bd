/**
 * Worker thread: polls GET <url>/healthz on one keep-alive connection of its own, about every
 * intervalMs (the next probe starts intervalMs after the previous one started, or at once if it took
 * longer), and records each probe's latency. Its own event loop keeps the load generator's work in
 * the main thread out of the numbers. Stops on a 'stop' message and posts back the samples.
 */
import http from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

export interface ProbeWorkerData {
  url: string;
  intervalMs: number;
}
export interface ProbeResult {
  latenciesMs: number[];
  failures: number;
  failureReasons: string[];
}

if (!parentPort) throw new Error('healthz-probe-worker must run in a worker thread');
const port = parentPort;
const { url, intervalMs } = workerData as ProbeWorkerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const target = new URL('/healthz', url);
let stopping = false;
const latenciesMs: number[] = [];
const failureReasons: string[] = [];
let failures = 0;

function probe(): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = http.get(target, { agent }, (res) => {
      res.resume();
      res.on('end', () => {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        if (res.statusCode === 200) resolve(ms);
        else reject(new Error(`status ${res.statusCode}`));
      });
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout after 10 s')));
    req.on('error', reject);
  });
}

async function loop(): Promise<void> {
  while (!stopping) {
    const t0 = performance.now();
    try {
      latenciesMs.push(await probe());
    } catch (err) {
      failures++;
      if (failureReasons.length < 10) failureReasons.push((err as Error).message);
    }
    const wait = intervalMs - (performance.now() - t0);
    if (wait > 0 && !stopping) await new Promise((r) => setTimeout(r, wait));
  }
  agent.destroy();
  port.postMessage({ latenciesMs, failures, failureReasons } satisfies ProbeResult);
}

port.on('message', (m: unknown) => {
  if (m === 'stop') stopping = true;
});
void loop();
