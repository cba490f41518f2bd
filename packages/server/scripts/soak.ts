/**
 * `npm run soak`: long mixed load on the real server (child process `node dist/src/cli.js`), watching
 * for leaks. Closed-loop clients send a mix of single images, n=4 grids, attention overlays, explicit-z
 * POSTs, /samples streams, bad requests, and requests abandoned mid-flight. Every --sample-every seconds
 * the server's own process metrics are scraped from /metrics (process_resident_memory_bytes,
 * nodejs_heap_size_used_bytes, nodejs_active_handles_total); after --warmup seconds, growth is reported
 * as first-to-last change and as a least-squares slope per minute. Ends with SIGTERM (exit code checked).
 *
 *   npm run soak -- --minutes 10
 *
 * With --stream <count> it runs one samples stream instead (reliability/stream-soak.ts): the server's
 * memory while a stream of `count` images is read at full speed, or (--stream-reader stalled) while a
 * client that never reads holds one open until the write-idle deadline cuts it.
 *
 *   npm run soak -- --stream 100000
 *   npm run soak -- --stream 100000 --stream-reader stalled --stall-after 1000 --watch-seconds 45
 */
import http from 'node:http';
import { Command, Option } from 'commander';
import { cpuShare, cpuSnapshot } from './bench/cpu-usage.js';
import { machineInfo } from './bench/machine.js';
import { fmt, positiveNumber, table, timestamp, writeJson } from './bench/report.js';
import { startChildServer } from './reliability/child-server.js';
import { printStreamSoak, streamSoak } from './reliability/stream-soak.js';
import { send, sleep, type RawRequest } from './reliability/http-client.js';
import { metricValue, parseMetrics } from './shared/metrics-text.js';
import { MiB, mean, percentile, slope, Tally } from '@sagan-serve/bench-stats';

interface Options {
  minutes: number;
  modelsDir: string;
  model: string;
  concurrency: number;
  sampleEvery: number;
  warmup?: number;
  logLevel: string;
  out?: string;
  stream?: number;
  streamReader: 'full' | 'stalled';
  watchSeconds: number;
  stallAfter: number;
  writeIdleTimeoutMs: number;
}

const program = new Command('soak')
  .description('Mixed load on the real server for a long time; report memory and handle growth')
  .option('--minutes <m>', 'how long to run', positiveNumber, 10)
  .option('--models-dir <dir>', 'MODELS_DIR for the server', 'models')
  .option('--model <name>', 'model to load', 'dogs64')
  .option('--concurrency <n>', 'closed-loop clients', positiveNumber, 6)
  .option('--sample-every <s>', 'seconds between /metrics samples', positiveNumber, 10)
  .option(
    '--warmup <s>',
    'seconds excluded from the growth figures (default: 20% of the run, at most 120)',
    positiveNumber,
  )
  .option('--log-level <level>', 'LOG_LEVEL for the server (its log goes to /dev/null)', 'info')
  .option('--out <file>', 'JSON results (default bench-results/soak-<timestamp>.json)')
  .option(
    '--stream <count>',
    "instead of the mixed load: one /samples stream of <count> images, with the server's memory each second",
    positiveNumber,
  )
  .addOption(
    new Option('--stream-reader <kind>', 'full: read at full speed; stalled: never read')
      .choices(['full', 'stalled'])
      .default('full'),
  )
  .option('--watch-seconds <s>', 'stalled reader: how long to watch the stalled stream', positiveNumber, 45)
  .option('--stall-after <n>', 'stalled reader: images read before it stops reading', positiveNumber, 1000)
  .option(
    '--write-idle-timeout-ms <ms>',
    'WRITE_IDLE_TIMEOUT_MS for the server in --stream mode',
    positiveNumber,
    30_000,
  );

interface Sample {
  t: number;
  rssMiB: number;
  heapUsedMiB: number;
  handles: number;
  requests: number;
  queueDepth: number;
  eventLoopLagP99Ms: number;
}

type Kind = 'single' | 'grid' | 'overlay' | 'post_z' | 'samples' | 'bad' | 'abandoned';
const MIX: Array<[Kind, number]> = [
  ['single', 35],
  ['grid', 15],
  ['overlay', 10],
  ['post_z', 10],
  ['samples', 10],
  ['bad', 15],
  ['abandoned', 5],
];

function pick(): Kind {
  let r = Math.random() * MIX.reduce((s, [, w]) => s + w, 0);
  for (const [kind, w] of MIX) {
    r -= w;
    if (r < 0) return kind;
  }
  return 'single';
}

const seed = () => Math.floor(Math.random() * 2 ** 32);
const json = (body: unknown): Pick<RawRequest, 'headers' | 'body'> => ({
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

function badRequest(model: string, i: number): RawRequest {
  const cases: RawRequest[] = [
    { method: 'GET', path: `/v1/models/${model}/generate?class=not_a_dog` },
    { method: 'GET', path: `/v1/models/${model}/generate?class=0&seed=-1` },
    { method: 'GET', path: `/v1/models/${model}/generate?class=0&size=100000` },
    { method: 'GET', path: '/v1/models/nope/generate?class=0' },
    { method: 'GET', path: '/no/such/route' },
    { method: 'DELETE', path: `/v1/models/${model}/generate` },
    {
      method: 'POST',
      path: `/v1/models/${model}/generate`,
      headers: { 'content-type': 'application/json' },
      body: '{"class":0,"z":[NaN]}',
    },
    {
      method: 'POST',
      path: `/v1/models/${model}/generate`,
      headers: { 'content-type': 'text/plain' },
      body: 'class=0',
    },
    { method: 'POST', path: `/v1/models/${model}/generate`, ...json({ class: 0, z: [1, 2, 3] }) },
    { method: 'POST', path: `/v1/models/${model}/samples`, ...json({ class: 0, count: 10_000_000 }) },
    { method: 'GET', path: `/v1/models/%E0%A4%A/generate?class=0` },
  ];
  return cases[i % cases.length];
}

async function main(): Promise<void> {
  const opts = program.parse().opts<Options>();
  const durationMs = opts.minutes * 60_000;
  const warmupS = opts.warmup ?? Math.min(120, (durationMs / 1000) * 0.2);
  const machine = await machineInfo();
  const log = (m: string) => process.stderr.write(`[soak] ${m}\n`);
  if (opts.stream !== undefined) {
    const result = await streamSoak(
      {
        modelsDir: opts.modelsDir,
        model: opts.model,
        count: Math.round(opts.stream),
        reader: opts.streamReader,
        watchSeconds: opts.watchSeconds,
        stallAfter: Math.round(opts.stallAfter),
        writeIdleTimeoutMs: opts.writeIdleTimeoutMs,
        logLevel: opts.logLevel,
      },
      machine,
      log,
    );
    printStreamSoak(result, machine);
    const file = await writeJson(opts.out ?? `bench-results/soak-stream-${timestamp()}.json`, { machine, ...result });
    console.log(`\nJSON: ${file}`);
    if (result.exitCode !== 0) process.exitCode = 1;
    return;
  }

  const server = await startChildServer({
    env: {
      MODELS_DIR: opts.modelsDir,
      DEFAULT_MODEL: opts.model,
      EXECUTION_PROVIDERS: 'cpu',
      LOG_LEVEL: opts.logLevel,
    },
    captureLogs: false,
  });
  log(
    `server pid ${server.proc.pid} on ${server.base}; ${opts.minutes} min, ${opts.concurrency} clients, warm-up ${warmupS.toFixed(0)} s`,
  );
  const info = JSON.parse(
    (await send(server.base, { method: 'GET', path: `/v1/models/${opts.model}` })).body.toString(),
  ) as {
    status: string;
    manifest: { classes: string[]; image: { size: number }; latent: { dim: number }; attention?: unknown };
  };
  if (info.status !== 'ready') throw new Error(`model ${opts.model} is ${info.status}`);
  const { classes } = info.manifest;
  const size = info.manifest.image.size;
  const dim = info.manifest.latent.dim;
  const m = opts.model;

  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency * 2 });
  const statuses = new Tally();
  const byKind = new Map<Kind, number[]>();
  const clientErrors = new Tally();
  let requests = 0;
  let badIndex = 0;
  const started = performance.now();
  const stopAt = started + durationMs;

  async function one(): Promise<void> {
    const kind = pick();
    const cls = classes[Math.floor(Math.random() * classes.length)];
    let req: RawRequest;
    switch (kind) {
      case 'single':
        req = { method: 'GET', path: `/v1/models/${m}/generate?class=${cls}&seed=${seed()}` };
        break;
      case 'grid':
        req = { method: 'GET', path: `/v1/models/${m}/generate?class=${cls}&seed=${seed()}&n=4&format=webp` };
        break;
      case 'overlay':
        req = info.manifest.attention
          ? {
              method: 'GET',
              path: `/v1/models/${m}/generate?class=${cls}&seed=${seed()}&attention=overlay&query=${Math.floor(Math.random() * size)},${Math.floor(Math.random() * size)}`,
            }
          : { method: 'GET', path: `/v1/models/${m}/generate?class=${cls}&seed=${seed()}&format=jpeg` };
        break;
      case 'post_z':
        req = {
          method: 'POST',
          path: `/v1/models/${m}/generate`,
          ...json({ class: cls, z: Array.from({ length: dim }, () => Math.random() * 2 - 1) }),
        };
        break;
      case 'samples':
        req = {
          method: 'POST',
          path: `/v1/models/${m}/samples`,
          ...json({ classes: [cls, classes[0]], count: 4, start_seed: seed() % 1e6 }),
        };
        break;
      case 'bad':
        req = badRequest(m, badIndex++);
        break;
      case 'abandoned': {
        const controller = new AbortController();
        setTimeout(() => controller.abort(), 2 + Math.random() * 20);
        req = {
          method: 'GET',
          path: `/v1/models/${m}/generate?class=${cls}&seed=${seed()}&n=16`,
          signal: controller.signal,
        };
        break;
      }
    }
    const t0 = performance.now();
    try {
      const res = await send(server.base, { ...req, timeoutMs: 60_000 }, agent);
      statuses.add(res.status);
      if (res.status >= 500) log(`${res.status} on ${req.method} ${req.path}: ${res.body.toString().slice(0, 200)}`);
      if (res.status === 200) {
        const list = byKind.get(kind) ?? [];
        list.push(performance.now() - t0);
        if (list.length > 200_000) list.shift();
        byKind.set(kind, list);
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).name;
      if (kind === 'abandoned') clientErrors.add('abandoned (client abort)');
      else {
        clientErrors.add(code);
        log(`client error on ${req.method} ${req.path}: ${(err as Error).message}`);
      }
    }
    requests++;
  }

  const clients = Array.from({ length: opts.concurrency }, async () => {
    while (performance.now() < stopAt) await one();
  });

  const samples: Sample[] = [];
  const cpuBefore = cpuSnapshot(server.proc.pid);
  const sampler = (async () => {
    for (;;) {
      const t = (performance.now() - started) / 1000;
      const res = await send(server.base, { method: 'GET', path: '/metrics', timeoutMs: 10_000 }).catch(
        () => undefined,
      );
      if (res?.status === 200) {
        const parsed = parseMetrics(res.body.toString());
        const sample: Sample = {
          t,
          rssMiB: metricValue(parsed, 'process_resident_memory_bytes') / MiB,
          heapUsedMiB: metricValue(parsed, 'nodejs_heap_size_used_bytes') / MiB,
          handles: metricValue(parsed, 'nodejs_active_handles_total'),
          requests,
          queueDepth: metricValue(parsed, 'sagan_queue_depth'),
          eventLoopLagP99Ms: metricValue(parsed, 'nodejs_eventloop_lag_p99_seconds') * 1000,
        };
        samples.push(sample);
        log(
          `t=${t.toFixed(0)}s rss ${sample.rssMiB.toFixed(1)} MiB heap ${sample.heapUsedMiB.toFixed(1)} MiB handles ${sample.handles} requests ${requests} queue ${sample.queueDepth}`,
        );
      }
      if (performance.now() >= stopAt) return;
      await sleep(Math.min(opts.sampleEvery * 1000, Math.max(0, stopAt - performance.now())));
    }
  })();
  await Promise.all([...clients, sampler]);
  const cpu = cpuShare(cpuBefore, cpuSnapshot(server.proc.pid));
  agent.destroy();
  // Idle for a moment and take a last sample: handles and queue must fall back once the load stops.
  await sleep(3000);
  const idle = parseMetrics((await send(server.base, { method: 'GET', path: '/metrics' })).body.toString());
  const idleHandles = metricValue(idle, 'nodejs_active_handles_total');
  const idleQueue = metricValue(idle, 'sagan_queue_depth');
  const exitCode = await server.stop();

  const measured = samples.filter((s) => s.t >= warmupS);
  const first = measured.slice(0, 3);
  const last = measured.slice(-3);
  const growth = (key: 'rssMiB' | 'heapUsedMiB' | 'handles') => ({
    first: mean(first.map((s) => s[key])),
    last: mean(last.map((s) => s[key])),
    min: Math.min(...measured.map((s) => s[key])),
    max: Math.max(...measured.map((s) => s[key])),
    slopePerMin: slope(
      measured.map((s) => s.t / 60),
      measured.map((s) => s[key]),
    ),
  });
  const seconds = (performance.now() - started) / 1000;
  const result = {
    machine,
    options: opts,
    warmupSeconds: warmupS,
    seconds,
    requests,
    requestsPerSecond: requests / seconds,
    statuses: statuses.toObject(),
    clientErrors: clientErrors.toObject(),
    latencyMs: Object.fromEntries(
      [...byKind].map(([k, v]) => [
        k,
        { count: v.length, p50: percentile(v, 50), p99: percentile(v, 99), max: Math.max(...v) },
      ]),
    ),
    growth: { rssMiB: growth('rssMiB'), heapUsedMiB: growth('heapUsedMiB'), handles: growth('handles') },
    idleAfterLoad: { handles: idleHandles, queueDepth: idleQueue },
    cpu,
    exitCode,
    samples,
  };

  console.log(
    `\n## Soak: ${opts.model}, ${fmt(seconds / 60, 1)} min, ${opts.concurrency} clients (${machine.cpuModel}, ${machine.logicalCpus} CPUs, Node ${machine.node})\n`,
  );
  console.log(
    `requests ${requests} (${fmt(requests / seconds, 1)}/s); statuses ${JSON.stringify(result.statuses)}; client errors ${JSON.stringify(result.clientErrors)}`,
  );
  console.log(
    `server exit code after SIGTERM: ${exitCode}; after the load: ${idleHandles} active handles, queue depth ${idleQueue}`,
  );
  if (cpu)
    console.log(
      `CPU (cores): server ${fmt(cpu.serverCores, 2)}, load generator ${fmt(cpu.benchCores, 2)}, other processes ${fmt(cpu.otherCores, 2)}`,
    );
  console.log(`\nAfter ${fmt(warmupS, 0)} s warm-up (${measured.length} samples, mean of first 3 vs last 3):\n`);
  console.log(
    table(
      ['metric', 'first', 'last', 'min', 'max', 'slope /min'],
      [
        [
          'RSS MiB',
          fmt(result.growth.rssMiB.first),
          fmt(result.growth.rssMiB.last),
          fmt(result.growth.rssMiB.min),
          fmt(result.growth.rssMiB.max),
          fmt(result.growth.rssMiB.slopePerMin, 2),
        ],
        [
          'heap used MiB',
          fmt(result.growth.heapUsedMiB.first),
          fmt(result.growth.heapUsedMiB.last),
          fmt(result.growth.heapUsedMiB.min),
          fmt(result.growth.heapUsedMiB.max),
          fmt(result.growth.heapUsedMiB.slopePerMin, 2),
        ],
        [
          'active handles',
          fmt(result.growth.handles.first, 0),
          fmt(result.growth.handles.last, 0),
          fmt(result.growth.handles.min, 0),
          fmt(result.growth.handles.max, 0),
          fmt(result.growth.handles.slopePerMin, 2),
        ],
      ],
    ),
  );
  console.log(
    `\n${table(
      ['request', '200s', 'p50 ms', 'p99 ms', 'max ms'],
      Object.entries(result.latencyMs).map(([k, v]) => [k, v.count, fmt(v.p50), fmt(v.p99), fmt(v.max)]),
    )}`,
  );
  const file = await writeJson(opts.out ?? `bench-results/soak-${timestamp()}.json`, result);
  console.log(`\nJSON: ${file}`);
  const fiveHundreds = Object.entries(result.statuses)
    .filter(([s]) => Number(s) >= 500)
    .reduce((n, [, c]) => n + c, 0);
  if (fiveHundreds > 0 || exitCode !== 0) process.exitCode = 1;
}

await main();
