/**
 * `npm run bench:healthz`: is /healthz still fast while the server is saturated? (issue 2)
 *
 * Starts the real server on one model, warms it up, then drives --connections concurrent generate
 * clients for --duration s while a worker thread probes GET /healthz on its own keep-alive connection
 * every --interval-ms. Prints /healthz p50/p99/max (and the generate load for context) and writes JSON.
 */
import path from 'node:path';
import { Command } from 'commander';
import { checkOneImage, measureLevel, warmUp } from './bench/level.js';
import { machineInfo } from './bench/machine.js';
import type { MetricsDelta } from './bench/metrics-scrape.js';
import { fmt, groupLogLines, nonNegativeInt, positiveNumber, table, timestamp, writeJson } from './bench/report.js';
import { addServerOptions, serverEnv, type ServerCliOptions } from './bench/server-options.js';
import { startServerProcess } from './bench/server-process.js';

interface Options extends ServerCliOptions {
  duration: number;
  connections: number;
  intervalMs: number;
  minProbes: number;
  warmup: number;
  quietWait: number;
  retries: number;
  out?: string;
}

const program = addServerOptions(
  new Command('bench-healthz').description('Measure /healthz latency while generate requests saturate the server'),
)
  .option('--duration <s>', 'seconds of saturation', positiveNumber, 20)
  .option('--connections <n>', 'concurrent generate clients', nonNegativeInt, 64)
  .option('--interval-ms <ms>', '/healthz probe period', positiveNumber, 20)
  .option('--min-probes <n>', 'fail (exit 1) with fewer probes than this', nonNegativeInt, 500)
  .option('--warmup <s>', 'untimed load first, seconds', nonNegativeInt, 2)
  .option(
    '--quiet-wait <s>',
    'wait up to this long for other processes to use < 0.25 core first (0 = never wait)',
    nonNegativeInt,
    30,
  )
  .option(
    '--retries <n>',
    'measure again (up to n times) when other processes used > 0.25 core meanwhile',
    nonNegativeInt,
    2,
  )
  .option('--out <file>', 'JSON results (default bench-results/healthz-<timestamp>.json)');

function gcSummary(gc: MetricsDelta['gcPauses']): string {
  return `${gc.count} in the run, ${fmt(gc.totalMs, 0)} ms in all, mean ${fmt(gc.meanMs, 2)} ms, over 5 ms: ${gc.over5Ms}, over 10 ms: ${gc.over10Ms}`;
}

function log(message: string): void {
  process.stderr.write(`[bench:healthz] ${message}\n`);
}

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<Options>();
  const startedAt = new Date();
  const machine = await machineInfo();
  log(`starting the server on ${o.modelDir} (${o.providers})`);
  const server = await startServerProcess({ modelDir: o.modelDir, providers: o.providers, env: serverEnv(o) });
  let level;
  let exit;
  try {
    await checkOneImage(server);
    await warmUp(server, o.connections, o.warmup);
    log(`${o.connections} generate clients for ${o.duration} s, probing /healthz every ${o.intervalMs} ms`);
    level = await measureLevel(server, {
      connections: o.connections,
      durationSeconds: o.duration,
      healthzIntervalMs: o.intervalMs,
      quietWaitSeconds: o.quietWait,
      retries: o.retries,
      log,
    });
  } finally {
    exit = await server.stop();
  }
  const h = level.healthz;
  const lines = [
    `\n/healthz under load: ${server.model}, ${o.connections} generate clients for ${o.duration} s (${machine.cpuModel}, ${machine.logicalCpus} CPUs, node ${machine.node})`,
    table(
      ['probes', 'failures', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'mean ms'],
      [[h.count, h.failures, fmt(h.p50Ms, 2), fmt(h.p95Ms, 2), fmt(h.p99Ms, 2), fmt(h.maxMs, 2), fmt(h.meanMs, 2)]],
    ),
    `generate meanwhile: ${fmt(level.load.imagesPerSecond)} images/s, p50 ${fmt(level.load.latency.p50Ms)} ms, p99 ${fmt(level.load.latency.p99Ms)} ms, mean batch ${fmt(level.server.meanBatchSize, 2)}, errors ${level.load.errors}, non-2xx ${level.load.non2xx}`,
    `server event loop delay (prom-client, 10 ms resolution): p99 ${fmt(level.server.eventLoopLagP99Ms, 1)} ms, max ${fmt(level.server.eventLoopLagMaxMs, 1)} ms; CPU: server ${fmt(level.cpu?.serverCores ?? level.server.serverCpuCores, 2)}, bench ${fmt(level.cpu?.benchCores, 2)}, other processes ${fmt(level.cpu?.otherCores, 2)} cores`,
    `server GC pauses (HTTP thread, nodejs_gc_duration_seconds): ${gcSummary(level.server.gcPauses)}`,
    `server exit on SIGTERM: code ${exit.code}${exit.signal ? `, signal ${exit.signal}` : ''}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const file = o.out ?? path.join('bench-results', `healthz-${timestamp(startedAt)}.json`);
  const written = await writeJson(file, {
    command: `npm run bench:healthz --${process.argv
      .slice(2)
      .map((a) => ` ${a}`)
      .join('')}`,
    startedAt: startedAt.toISOString(),
    machine,
    options: o,
    model: server.model,
    healthz: h,
    generate: level.load,
    server: level.server,
    cpu: level.cpu,
    attempts: level.attempts,
    exit,
    warnings: groupLogLines(server.warnings()),
  });
  log(`wrote ${written}`);
  if (h.count < o.minProbes) {
    log(`only ${h.count} probes (< ${o.minProbes}): /healthz was too slow to probe every ${o.intervalMs} ms`);
    process.exitCode = 1;
  }
  if (exit.code !== 0 || h.failures > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench-healthz: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
