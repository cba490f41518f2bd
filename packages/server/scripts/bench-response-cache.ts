/**
 * `npm run bench:response-cache`: what the response cache (issue 22) buys. Starts the real server on one
 * model with RESPONSE_CACHE_MB, then drives --connections generate clients for --duration s twice: with
 * a fresh seed per request (every request a miss: inference, then stored), and cycling over --seeds seeds
 * answered once before (every request a hit). Prints images/s and latency of both, the inference the hit
 * level caused (it should be none), the cache's counters, and writes JSON.
 */
import path from 'node:path';
import { Command } from 'commander';
import { settle } from './bench/level.js';
import { runGenerateLoad, type LoadResult } from './bench/load.js';
import { machineInfo } from './bench/machine.js';
import { metricsDelta, scrapeMetrics } from './bench/metrics-scrape.js';
import { fmt, nonNegativeInt, positiveNumber, table, timestamp, writeJson } from './bench/report.js';
import { addServerOptions, serverEnv, type ServerCliOptions } from './bench/server-options.js';
import { startServerProcess, type ServerProcess } from './bench/server-process.js';
import { metricValue } from './shared/metrics-text.js';

interface Options extends ServerCliOptions {
  duration: number;
  connections: number;
  seeds: number;
  cacheMb: number;
  out?: string;
}

const program = addServerOptions(
  new Command('bench-response-cache').description('Generate throughput and latency: cache misses against cache hits'),
)
  .option('--duration <s>', 'seconds per level', positiveNumber, 10)
  .option('--connections <n>', 'concurrent generate clients', nonNegativeInt, 16)
  .option('--seeds <n>', 'distinct seeds the hit level cycles over', nonNegativeInt, 64)
  .option('--cache-mb <mb>', 'RESPONSE_CACHE_MB for the server', positiveNumber, 64)
  .option('--out <file>', 'JSON results (default bench-results/response-cache-<timestamp>.json)');

function log(message: string): void {
  process.stderr.write(`[bench:response-cache] ${message}\n`);
}

const CACHE_METRICS = [
  'sagan_response_cache_hits_total',
  'sagan_response_cache_misses_total',
  'sagan_response_cache_coalesced_total',
  'sagan_response_cache_evictions_total',
  'sagan_response_cache_bytes',
  'sagan_response_cache_entries',
] as const;

async function cacheCounters(server: ServerProcess): Promise<Record<string, number>> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return Object.fromEntries(CACHE_METRICS.map((name) => [name, metricValue(text, name)]));
}

/** One level: load, with the server's inference between two scrapes. */
async function level(server: ServerProcess, o: Options, seeds?: readonly number[]) {
  await settle(server);
  const before = await scrapeMetrics(server.url);
  const load = await runGenerateLoad({
    url: server.url,
    model: server.model,
    classCount: server.classes.length,
    connections: o.connections,
    durationSeconds: o.duration,
    seeds,
  });
  return { load, server: metricsDelta(before, await scrapeMetrics(server.url)), cache: await cacheCounters(server) };
}

function row(name: string, load: LoadResult, images: number): Array<string | number> {
  return [
    name,
    fmt(load.imagesPerSecond),
    fmt(load.latency.p50Ms, 2),
    fmt(load.latency.p99Ms, 2),
    load.errors + load.non2xx,
    images,
  ];
}

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<Options>();
  const startedAt = new Date();
  const machine = await machineInfo();
  log(`starting the server on ${o.modelDir} (${o.providers}, RESPONSE_CACHE_MB=${o.cacheMb})`);
  const server = await startServerProcess({
    modelDir: o.modelDir,
    providers: o.providers,
    env: { ...serverEnv(o), RESPONSE_CACHE_MB: String(o.cacheMb) },
  });
  const seeds = Array.from({ length: o.seeds }, (_, i) => 1_000_003 * (i + 1));
  let misses;
  let hits;
  let exit;
  try {
    log(`miss level: ${o.connections} clients, a fresh seed per request, ${o.duration} s`);
    misses = await level(server, o);
    log(`filling the cache with ${seeds.length} seeds`);
    for (const seed of seeds) {
      const res = await fetch(
        `${server.url}/v1/models/${encodeURIComponent(server.model)}/generate?class=${seed % server.classes.length}&seed=${seed}`,
      );
      if (res.status !== 200) throw new Error(`filling the cache: seed ${seed} answered ${res.status}`);
      await res.arrayBuffer();
    }
    log(`hit level: ${o.connections} clients cycling over ${seeds.length} cached seeds, ${o.duration} s`);
    hits = await level(server, o, seeds);
  } finally {
    exit = await server.stop();
  }
  const lines = [
    `\nResponse cache: ${server.model}, ${o.connections} clients, ${o.duration} s per level, RESPONSE_CACHE_MB=${o.cacheMb} (${machine.cpuModel}, ${machine.logicalCpus} CPUs, node ${machine.node})`,
    table(
      ['level', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'images generated'],
      [
        row('miss (fresh seeds)', misses.load, misses.server.images),
        row('hit (cached seeds)', hits.load, hits.server.images),
      ],
    ),
    `cache after the hit level: ${CACHE_METRICS.map((name) => `${name.replace('sagan_response_cache_', '')} ${hits.cache[name]}`).join(', ')}`,
    `server exit on SIGTERM: code ${exit.code}${exit.signal ? `, signal ${exit.signal}` : ''}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const file = o.out ?? path.join('bench-results', `response-cache-${timestamp(startedAt)}.json`);
  const written = await writeJson(file, {
    command: `npm run bench:response-cache --${process.argv
      .slice(2)
      .map((a) => ` ${a}`)
      .join('')}`,
    startedAt: startedAt.toISOString(),
    machine,
    options: o,
    model: server.model,
    misses,
    hits,
    exit,
  });
  log(`wrote ${written}`);
  if (exit.code !== 0 || hits.load.errors + hits.load.non2xx + misses.load.errors + misses.load.non2xx > 0)
    process.exitCode = 1;
  // A hit level that ran inference means requests were not answered from the cache.
  if (hits.server.images > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench-response-cache: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
