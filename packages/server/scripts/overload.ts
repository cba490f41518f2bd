/**
 * `npm run overload`: what the real server does when offered more than it can do.
 *
 *   1. Start `node dist/src/cli.js` (child process) on --models-dir/--model.
 *   2. Capacity: --capacity-clients closed-loop clients send single-image requests for --capacity-seconds
 *      (after a short warm-up); capacity = images/s answered 200 at saturation.
 *   3. Overload: open loop at --factor x capacity requests/s (a fixed arrival schedule that does not wait
 *      for answers, so the server cannot slow the clients down) for --duration seconds, then wait for
 *      every answer. /metrics is scraped every 250 ms (queue depth) and /healthz probed every 100 ms.
 *   4. Report: accepted throughput vs capacity; 503s and whether each had Retry-After and how fast it came;
 *      504s; latency of accepted requests vs REQUEST_TIMEOUT_MS; max queue depth vs MAX_QUEUE_SIZE; whether
 *      any answer came later than its deadline allows; the server's exit code after SIGTERM.
 *
 *   npm run overload -- --duration 60
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Command } from 'commander';
import { cpuShare, cpuSnapshot } from './bench/cpu-usage.js';
import { machineInfo } from './bench/machine.js';
import { fmt, positiveNumber, table, timestamp, writeJson } from './bench/report.js';
import { startChildServer } from './reliability/child-server.js';
import { send, sleep, type RawResponse } from './reliability/http-client.js';
import { histogramBuckets, histogramQuantileBound, metricValue } from './shared/metrics-text.js';
import { percentile, Tally } from '@sagan-serve/bench-stats';

interface Options {
  duration: number;
  factor: number;
  capacitySeconds: number;
  capacityClients: number;
  modelsDir: string;
  model: string;
  maxQueueSize: number;
  requestTimeoutMs: number;
  logLevel: string;
  connections: number;
  out?: string;
}

const program = new Command('overload')
  .description('Measure capacity, then offer a multiple of it open-loop and check the server sheds load correctly')
  .option('--duration <s>', 'seconds of overload', positiveNumber, 60)
  .option('--factor <x>', 'offered load as a multiple of the measured capacity', positiveNumber, 4)
  .option('--capacity-seconds <s>', 'seconds of the closed-loop capacity measurement', positiveNumber, 15)
  .option('--capacity-clients <n>', 'closed-loop clients for the capacity measurement', positiveNumber, 32)
  .option('--models-dir <dir>', 'MODELS_DIR for the server', 'models')
  .option('--model <name>', 'model to load', 'dogs64')
  .option('--max-queue-size <rows>', 'MAX_QUEUE_SIZE for the server', positiveNumber, 512)
  .option('--request-timeout-ms <ms>', 'REQUEST_TIMEOUT_MS for the server', positiveNumber, 30_000)
  .option('--log-level <level>', 'LOG_LEVEL for the server', 'info')
  .option(
    '--connections <n>',
    'keep-alive connections the generator may open (0 = unbounded)',
    (v: string) => Number(v),
    1024,
  )
  .option('--out <file>', 'JSON results (default bench-results/overload-<timestamp>.json)');

interface Outcome {
  sentAtMs: number;
  status: number;
  ms: number;
  code?: string;
  retryAfter?: string;
  clientError?: string;
}

const log = (m: string) => process.stderr.write(`[overload] ${m}\n`);

/** Linux TCP counters (whole machine): accept-queue overflows and SYN retransmissions. */
function tcpCounters(): { listenOverflows: number; synRetrans: number } | undefined {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('TcpExt:'));
    const names = lines[0].split(/\s+/);
    const values = lines[1].split(/\s+/).map(Number);
    const get = (name: string) => values[names.indexOf(name)] ?? NaN;
    return { listenOverflows: get('ListenOverflows'), synRetrans: get('TCPSynRetrans') };
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const opts = program.parse().opts<Options>();
  const machine = await machineInfo();
  const server = await startChildServer({
    env: {
      MODELS_DIR: opts.modelsDir,
      DEFAULT_MODEL: opts.model,
      EXECUTION_PROVIDERS: 'cpu',
      MAX_QUEUE_SIZE: String(opts.maxQueueSize),
      REQUEST_TIMEOUT_MS: String(opts.requestTimeoutMs),
      LOG_LEVEL: opts.logLevel,
    },
    captureLogs: false,
  });
  const model = JSON.parse(
    (await send(server.base, { method: 'GET', path: `/v1/models/${opts.model}` })).body.toString(),
  ) as { status: string; batching: Record<string, number>; manifest: { classes: string[] } };
  if (model.status !== 'ready') throw new Error(`model ${opts.model} is ${model.status}`);
  log(`server pid ${server.proc.pid} on ${server.base}; batching ${JSON.stringify(model.batching)}`);
  const path = () =>
    `/v1/models/${opts.model}/generate?class=${Math.floor(Math.random() * model.manifest.classes.length)}&seed=${Math.floor(Math.random() * 2 ** 32)}`;
  // The load generator's keep-alive connection pool, like a proxy's upstream pool (0 = unbounded: a new
  // connection whenever none is free, i.e. a flood of independent clients).
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.connections > 0 ? opts.connections : Infinity });

  // ---- capacity (closed loop) ----
  const closedLoop = async (seconds: number): Promise<number> => {
    const stopAt = performance.now() + seconds * 1000;
    let ok = 0;
    await Promise.all(
      Array.from({ length: opts.capacityClients }, async () => {
        while (performance.now() < stopAt) {
          const res = await send(server.base, { method: 'GET', path: path(), timeoutMs: 120_000 }, agent);
          if (res.status === 200) ok++;
        }
      }),
    );
    return ok;
  };
  await closedLoop(3);
  const capStarted = performance.now();
  const capCpuBefore = cpuSnapshot(server.proc.pid);
  const capOk = await closedLoop(opts.capacitySeconds);
  const capacity = capOk / ((performance.now() - capStarted) / 1000);
  const capacityCpu = cpuShare(capCpuBefore, cpuSnapshot(server.proc.pid));
  const rate = capacity * opts.factor;
  log(
    `capacity ${capacity.toFixed(1)} images/s with ${opts.capacityClients} closed-loop clients; offering ${rate.toFixed(1)} requests/s for ${opts.duration} s`,
  );
  await sleep(2000); // let the queue empty

  // ---- overload (open loop) ----
  const outcomes: Outcome[] = [];
  const pending: Array<Promise<void>> = [];
  let queueDepthMax = 0;
  let eventLoopLagMaxMs = 0;
  const healthz: number[] = [];
  const healthzFailures = new Tally();
  let running = true;
  const scraper = (async () => {
    while (running) {
      const res = await send(server.base, { method: 'GET', path: '/metrics', timeoutMs: 10_000 }).catch(
        () => undefined,
      );
      if (res) {
        const text = res.body.toString();
        queueDepthMax = Math.max(queueDepthMax, metricValue(text, 'sagan_queue_depth', { model: opts.model }));
        eventLoopLagMaxMs = Math.max(eventLoopLagMaxMs, 1000 * metricValue(text, 'nodejs_eventloop_lag_max_seconds'));
      }
      await sleep(250);
    }
  })();
  const prober = (async () => {
    while (running) {
      const t0 = performance.now();
      await send(server.base, { method: 'GET', path: '/healthz', timeoutMs: 10_000 }).then(
        (r) => (r.status === 200 ? healthz.push(performance.now() - t0) : healthzFailures.add(r.status)),
        (e: NodeJS.ErrnoException) => healthzFailures.add(e.code ?? e.message),
      );
      await sleep(100);
    }
  })();
  // Latency is measured from the scheduled send time (not when a connection became free), so waiting
  // anywhere, in the generator's pool included, counts: no coordinated omission.
  const fire = (sentAtMs: number) => {
    const started = sentAtMs;
    pending.push(
      send(server.base, { method: 'GET', path: path(), timeoutMs: opts.requestTimeoutMs + 60_000 }, agent).then(
        (res: RawResponse) => {
          const outcome: Outcome = { sentAtMs, status: res.status, ms: performance.now() - started };
          if (res.status !== 200) {
            try {
              outcome.code = (JSON.parse(res.body.toString()) as { error: { code: string } }).error.code;
            } catch {
              outcome.code = 'unparsed';
            }
            outcome.retryAfter = res.headers['retry-after'];
          }
          outcomes.push(outcome);
        },
        (err: NodeJS.ErrnoException) => {
          outcomes.push({ sentAtMs, status: 0, ms: performance.now() - started, clientError: err.code ?? err.message });
        },
      ),
    );
  };
  const cpuBefore = cpuSnapshot(server.proc.pid);
  const tcpBefore = tcpCounters();
  const generatorLag = monitorEventLoopDelay({ resolution: 10 });
  generatorLag.enable();
  const imagesBefore = metricValue(
    (await send(server.base, { method: 'GET', path: '/metrics' })).body.toString(),
    'sagan_images_generated_total',
    { model: opts.model },
  );
  const t0 = performance.now();
  const durationMs = opts.duration * 1000;
  let sent = 0;
  let lateSends = 0;
  for (;;) {
    const elapsed = performance.now() - t0;
    if (elapsed >= durationMs) break;
    const due = Math.floor((elapsed / 1000) * rate);
    if (due - sent > rate * 0.1) lateSends++; // the generator itself fell > 100 ms behind its schedule
    while (sent < due) fire(t0 + (sent++ / rate) * 1000);
    await sleep(1);
  }
  const sendSeconds = (performance.now() - t0) / 1000;
  const cpu = cpuShare(cpuBefore, cpuSnapshot(server.proc.pid));
  await Promise.all(pending);
  generatorLag.disable();
  const tcpAfter = tcpCounters();
  const tcp =
    tcpBefore && tcpAfter
      ? {
          listenOverflows: tcpAfter.listenOverflows - tcpBefore.listenOverflows,
          synRetrans: tcpAfter.synRetrans - tcpBefore.synRetrans,
        }
      : undefined;
  const generatorLagMaxMs = generatorLag.max / 1e6;
  const drainSeconds = (performance.now() - t0) / 1000 - sendSeconds;
  const metricsAfter = (await send(server.base, { method: 'GET', path: '/metrics' })).body.toString();
  const imagesAfter = metricValue(metricsAfter, 'sagan_images_generated_total', { model: opts.model });
  // Server-side durations (arrival in the app to last byte): what the server controls, as opposed to
  // time spent before the app read the request (accept backlog, socket buffers, a saturated event loop).
  const serverSide = (status: string) => {
    const buckets = histogramBuckets(metricsAfter, 'sagan_http_request_duration_seconds', {
      route: '/v1/models/:model/generate',
      method: 'GET',
      status,
    });
    const total = buckets.at(-1)?.count ?? 0;
    const within = (le: number) => buckets.find((b) => b.le === le)?.count ?? 0;
    return {
      count: total,
      p50BoundS: histogramQuantileBound(buckets, 0.5),
      p99BoundS: histogramQuantileBound(buckets, 0.99),
      over30s: total - within(30),
    };
  };
  const serverSide200 = serverSide('200');
  const serverSide503 = serverSide('503');
  running = false;
  await Promise.all([scraper, prober]);
  agent.destroy();
  const exitCode = await server.stop();

  // ---- report ----
  const ok = outcomes.filter((o) => o.status === 200);
  const rejected = outcomes.filter((o) => o.status === 503);
  const timedOut = outcomes.filter((o) => o.status === 504);
  const statuses = new Tally();
  const codes = new Tally();
  for (const o of outcomes) {
    statuses.add(o.status === 0 ? `client error ${o.clientError}` : o.status);
    if (o.code) codes.add(o.code);
  }
  const lateAnswers = outcomes.filter((o) => o.ms > opts.requestTimeoutMs + 5000).length;
  const acceptedThroughput = ok.length / sendSeconds;
  const result = {
    machine,
    options: opts,
    capacityImagesPerSecond: capacity,
    capacityCpu,
    offeredRequestsPerSecond: rate,
    sent,
    sendSeconds,
    drainSeconds,
    lateSendTicks: lateSends,
    acceptedThroughput,
    acceptedVsCapacity: acceptedThroughput / capacity,
    imagesGeneratedDuringRun: imagesAfter - imagesBefore,
    statuses: statuses.toObject(),
    errorCodes: codes.toObject(),
    rejected503: {
      count: rejected.length,
      withRetryAfter: rejected.filter((o) => o.retryAfter !== undefined).length,
      retryAfterValues: new Tally(),
      p50Ms: percentile(
        rejected.map((o) => o.ms),
        50,
      ),
      p90Ms: percentile(
        rejected.map((o) => o.ms),
        90,
      ),
      p99Ms: percentile(
        rejected.map((o) => o.ms),
        99,
      ),
      maxMs: Math.max(0, ...rejected.map((o) => o.ms)),
    },
    timeouts504: timedOut.length,
    acceptedLatencyMs: {
      p50: percentile(
        ok.map((o) => o.ms),
        50,
      ),
      p90: percentile(
        ok.map((o) => o.ms),
        90,
      ),
      p99: percentile(
        ok.map((o) => o.ms),
        99,
      ),
      max: Math.max(0, ...ok.map((o) => o.ms)),
    },
    requestTimeoutMs: opts.requestTimeoutMs,
    answersLaterThanDeadlinePlus5s: lateAnswers,
    queueDepthMax,
    maxQueueSize: opts.maxQueueSize,
    serverSideSeconds: { ok200: serverSide200, rejected503: serverSide503 },
    eventLoopLagMaxMs,
    generatorLagMaxMs,
    tcp,
    healthzMs: {
      count: healthz.length,
      p50: percentile(healthz, 50),
      p99: percentile(healthz, 99),
      max: Math.max(0, ...healthz),
      failures: healthzFailures.toObject(),
    },
    cpu,
    exitCode,
  };
  for (const o of rejected) result.rejected503.retryAfterValues.add(o.retryAfter ?? 'none');

  console.log(`\n## Overload: ${opts.model}, ${machine.cpuModel}, ${machine.logicalCpus} CPUs, Node ${machine.node}\n`);
  console.log(
    table(
      ['figure', 'value'],
      [
        ['capacity (closed loop, images/s)', fmt(capacity)],
        [
          'offered (open loop, requests/s = images/s)',
          `${fmt(rate)} (${opts.factor}x) for ${fmt(sendSeconds, 0)} s = ${sent} requests`,
        ],
        [
          'accepted throughput (200/s)',
          `${fmt(acceptedThroughput)} (${fmt((100 * acceptedThroughput) / capacity, 0)}% of capacity)`,
        ],
        ['statuses', JSON.stringify(result.statuses)],
        [
          '503 QUEUE_FULL etc.',
          `${rejected.length}, ${result.rejected503.withRetryAfter} with Retry-After (values ${JSON.stringify(result.rejected503.retryAfterValues.toObject())})`,
        ],
        [
          '503 latency p50 / p90 / p99 / max ms (client)',
          `${fmt(result.rejected503.p50Ms)} / ${fmt(result.rejected503.p90Ms)} / ${fmt(result.rejected503.p99Ms)} / ${fmt(result.rejected503.maxMs)}`,
        ],
        ['504 TIMEOUT', String(timedOut.length)],
        [
          'accepted latency p50 / p90 / p99 / max ms (client)',
          `${fmt(result.acceptedLatencyMs.p50)} / ${fmt(result.acceptedLatencyMs.p90)} / ${fmt(result.acceptedLatencyMs.p99)} / ${fmt(result.acceptedLatencyMs.max)} (REQUEST_TIMEOUT_MS ${opts.requestTimeoutMs})`,
        ],
        ['answers later than deadline + 5 s', String(lateAnswers)],
        [
          'server-side 200 duration p50 / p99 bound (s), over 30 s',
          `<= ${serverSide200.p50BoundS} / <= ${serverSide200.p99BoundS}, ${serverSide200.over30s}`,
        ],
        [
          'server-side 503 duration p50 / p99 bound (s)',
          `<= ${serverSide503.p50BoundS} / <= ${serverSide503.p99BoundS}`,
        ],
        ['event loop lag max (ms, nodejs_eventloop_lag_max_seconds)', fmt(eventLoopLagMaxMs)],
        ['max queue depth (rows, /metrics every 250 ms)', `${queueDepthMax} of MAX_QUEUE_SIZE ${opts.maxQueueSize}`],
        [
          '/healthz during overload p50 / p99 / max ms',
          `${fmt(result.healthzMs.p50)} / ${fmt(result.healthzMs.p99)} / ${fmt(result.healthzMs.max)} (${healthz.length} probes, failures ${JSON.stringify(result.healthzMs.failures)})`,
        ],
        ['drain after the last send (s)', fmt(drainSeconds)],
        [
          'TCP accept-queue overflows / SYN retransmits (machine)',
          tcp ? `${tcp.listenOverflows} / ${tcp.synRetrans}` : '-',
        ],
        [
          'CPU cores: server / load generator / other',
          cpu ? `${fmt(cpu.serverCores, 2)} / ${fmt(cpu.benchCores, 2)} / ${fmt(cpu.otherCores, 2)}` : '-',
        ],
        [
          'generator fell > 100 ms behind schedule (ticks); its event loop lag max ms',
          `${lateSends}; ${fmt(generatorLagMaxMs)}`,
        ],
        ['server exit code after SIGTERM', String(exitCode)],
      ],
    ),
  );
  const file = await writeJson(opts.out ?? `bench-results/overload-${timestamp()}.json`, {
    ...result,
    rejected503: { ...result.rejected503, retryAfterValues: result.rejected503.retryAfterValues.toObject() },
  });
  console.log(`\nJSON: ${file}`);
  const problems = [
    statuses.toObject()['500'] ? '500s' : '',
    rejected.length !== result.rejected503.withRetryAfter ? '503 without Retry-After' : '',
    lateAnswers > 0 ? 'answers past the deadline' : '',
    outcomes.some((o) => o.status === 0) ? 'requests without an answer' : '',
    exitCode !== 0 ? `exit code ${exitCode}` : '',
  ].filter(Boolean);
  if (problems.length > 0) {
    console.log(`\nPROBLEMS: ${problems.join(', ')}`);
    process.exitCode = 1;
  }
}

await main();
