/**
 * `npm run bench:priority`: what a bulk samples stream does to interactive latency, with the priority
 * lanes and without. Three phases of `--seconds` each, each on a fresh server (the real CLI as a child
 * process, CPU provider) serving `--model`:
 *
 *   a. interactive alone: open-loop `GET /v1/models/<model>/generate` at `--rate` requests/s, every
 *      request a distinct seed (so no cache can answer it), classes round-robin;
 *   b. the same while `--streams` samples streams (a count that outlasts the phase) are read as fast as
 *      they come, PRIORITY_LANES=on;
 *   c. as b with PRIORITY_LANES=off (one FIFO).
 *
 * Interactive latency runs from each request's scheduled send time, so time spent waiting anywhere
 * counts (open loop: no coordinated omission). Printed per phase: p50/p90/p99/max and mean of interactive
 * latency, its errors, the streams' samples/s inside the phase window, and the mean queue wait per lane
 * from /metrics; then the machine. JSON goes to --out.
 *
 *   npm run bench:priority -- --seconds 60 --rate 20
 */
import path from 'node:path';
import { Command } from 'commander';
import { percentile, summarize, Tally, type LatencySummary } from '@sagan-serve/bench-stats';
import { machineInfo } from './bench/machine.js';
import { fmt, positiveNumber, table, timestamp, writeJson } from './bench/report.js';
import { startChildServer, type ChildServer } from './reliability/child-server.js';
import { keepAliveAgent, send, sleep } from './reliability/http-client.js';
import { readSamplesStream } from './reliability/stream-clients.js';
import { metricValue } from './shared/metrics-text.js';

interface Options {
  seconds: number;
  rate: number;
  streams: number;
  warmupSeconds: number;
  modelsDir: string;
  model: string;
  bulkMinShare?: string;
  out?: string;
}

interface Phase {
  name: string;
  lanes: 'on' | 'off';
  streams: number;
}

interface PhaseResult extends Phase {
  sent: number;
  /** Requests the generator sent more than 100 ms after their scheduled time (it fell behind). */
  lateSends: number;
  latency: LatencySummary & { p90Ms: number };
  /** Non-200 answers by status, and client-side failures by error code. */
  errors: Record<string, number>;
  bulkSamples: number;
  bulkSamplesPerSecond: number;
  /** How each stream ended (the phase's end aborts them: 'ABORT_ERR' or 'ECONNRESET' is expected). */
  streamEndings: Record<string, number>;
  /** Mean sagan_queue_wait_seconds per lane over the phase, ms. */
  queueWaitMeanMs: Record<string, number>;
}

/** A stream longer than any phase; the server is started with MAX_STREAM_SAMPLES at least this. */
const STREAM_SAMPLES = 1_000_000;
/** How long a phase waits for the streams' first samples before measuring. */
const STREAM_START_TIMEOUT_MS = 30_000;

const log = (m: string) => process.stderr.write(`[bench-priority] ${m}\n`);

const program = new Command('bench-priority')
  .description('Interactive /generate latency alone, beside a samples stream with priority lanes, and without')
  .option('--seconds <s>', 'seconds of each phase', positiveNumber, 30)
  .option('--rate <n>', 'interactive requests per second (open loop)', positiveNumber, 20)
  .option('--streams <n>', 'samples streams read at once in phases b and c', positiveNumber, 1)
  .option('--warmup-seconds <s>', 'closed-loop warm-up of each fresh server', positiveNumber, 2)
  .option('--models-dir <dir>', 'MODELS_DIR for the server', 'models')
  .option('--model <name>', 'model', 'dogs64')
  .option('--bulk-min-share <x>', 'BULK_MIN_SHARE for the server (default: the server default)')
  .option('--out <file>', 'JSON results (default bench-results/priority-<timestamp>.json)');

const opts = program.parse().opts<Options>();

const PHASES: Phase[] = [
  { name: 'a. interactive alone', lanes: 'on', streams: 0 },
  { name: 'b. + samples stream, lanes on', lanes: 'on', streams: opts.streams },
  { name: 'c. + samples stream, lanes off', lanes: 'off', streams: opts.streams },
];

/** Distinct seeds across phases and runs: a response cache never holds one. */
let nextSeed = Math.floor(Math.random() * 2 ** 31);

async function modelClasses(server: ChildServer): Promise<number> {
  const res = await send(server.base, { method: 'GET', path: `/v1/models/${encodeURIComponent(opts.model)}` });
  const model = JSON.parse(res.body.toString()) as { status: string; manifest?: { classes: string[] } };
  if (model.status !== 'ready' || !model.manifest) throw new Error(`model ${opts.model} is ${model.status}`);
  return model.manifest.classes.length;
}

async function queueWaitTotals(server: ChildServer): Promise<Record<string, { sum: number; count: number }>> {
  const text = (await send(server.base, { method: 'GET', path: '/metrics' })).body.toString();
  const out: Record<string, { sum: number; count: number }> = {};
  for (const lane of ['interactive', 'bulk']) {
    const labels = { model: opts.model, lane };
    out[lane] = {
      sum: metricValue(text, 'sagan_queue_wait_seconds_sum', labels),
      count: metricValue(text, 'sagan_queue_wait_seconds_count', labels),
    };
  }
  return out;
}

async function runPhase(phase: Phase): Promise<PhaseResult> {
  const env: Record<string, string> = {
    MODELS_DIR: opts.modelsDir,
    DEFAULT_MODEL: opts.model,
    EXECUTION_PROVIDERS: 'cpu',
    LOG_LEVEL: 'warn',
    PRIORITY_LANES: phase.lanes,
    MAX_STREAM_SAMPLES: String(STREAM_SAMPLES),
  };
  if (opts.bulkMinShare !== undefined) env.BULK_MIN_SHARE = opts.bulkMinShare;
  const server = await startChildServer({ env, captureLogs: false });
  const agent = keepAliveAgent(256);
  const streamsDone = new AbortController();
  const generatePath = (classCount: number) => {
    const seed = nextSeed++ % 2 ** 32;
    return `/v1/models/${encodeURIComponent(opts.model)}/generate?class=${seed % classCount}&seed=${seed}`;
  };
  try {
    const classCount = await modelClasses(server);
    const warmupEnd = performance.now() + opts.warmupSeconds * 1000;
    while (performance.now() < warmupEnd)
      await send(server.base, { method: 'GET', path: generatePath(classCount) }, agent);

    // ---- the bulk streams: restarted should one end, closed at the phase's end ----
    const streamEndings = new Tally();
    let measuring = false;
    let streamedSamples = 0;
    let bulkSamples = 0;
    const streams = Array.from({ length: phase.streams }, async (_, i) => {
      while (!streamsDone.signal.aborted) {
        const result = await readSamplesStream(
          server.base,
          `/v1/models/${encodeURIComponent(opts.model)}/samples`,
          { class: i % classCount, count: STREAM_SAMPLES, start_seed: nextSeed++ % 2 ** 32, format: 'png' },
          () => {
            streamedSamples++;
            if (measuring) bulkSamples++;
          },
          streamsDone.signal,
        );
        streamEndings.add(result.status === 200 ? result.ended : `status ${result.status}`);
        if (result.status !== 200 && !streamsDone.signal.aborted) await sleep(100);
      }
    });
    const streamDeadline = performance.now() + STREAM_START_TIMEOUT_MS;
    while (phase.streams > 0 && streamedSamples === 0) {
      if (performance.now() > streamDeadline)
        throw new Error(`no samples within ${STREAM_START_TIMEOUT_MS} ms of starting the streams`);
      await sleep(20);
    }

    // ---- interactive, open loop ----
    const waitsBefore = await queueWaitTotals(server);
    const latencies: number[] = [];
    const errors = new Tally();
    const pending: Array<Promise<void>> = [];
    const fire = (scheduledAtMs: number) => {
      pending.push(
        send(server.base, { method: 'GET', path: generatePath(classCount), timeoutMs: 120_000 }, agent).then(
          (res) => {
            if (res.status === 200) latencies.push(performance.now() - scheduledAtMs);
            else errors.add(res.status);
          },
          (err: NodeJS.ErrnoException) => errors.add(err.code ?? err.message),
        ),
      );
    };
    measuring = true;
    const t0 = performance.now();
    const durationMs = opts.seconds * 1000;
    let sent = 0;
    let lateSends = 0;
    for (;;) {
      const elapsed = performance.now() - t0;
      if (elapsed >= durationMs) break;
      const due = Math.floor((elapsed / 1000) * opts.rate);
      if (due - sent > opts.rate * 0.1) lateSends += due - sent;
      while (sent < due) fire(t0 + (sent++ / opts.rate) * 1000);
      await sleep(1);
    }
    measuring = false;
    const windowSeconds = (performance.now() - t0) / 1000;
    // The streams keep running until the last interactive answer, so every request met the same load.
    await Promise.all(pending);
    const waitsAfter = await queueWaitTotals(server);
    streamsDone.abort();
    await Promise.all(streams);

    const queueWaitMeanMs: Record<string, number> = {};
    for (const lane of Object.keys(waitsAfter)) {
      const count = waitsAfter[lane].count - waitsBefore[lane].count;
      queueWaitMeanMs[lane] = count > 0 ? ((waitsAfter[lane].sum - waitsBefore[lane].sum) / count) * 1000 : Number.NaN;
    }
    return {
      ...phase,
      sent,
      lateSends,
      latency: { ...summarize(latencies), p90Ms: percentile(latencies, 90) },
      errors: errors.toObject(),
      bulkSamples,
      bulkSamplesPerSecond: bulkSamples / windowSeconds,
      streamEndings: streamEndings.toObject(),
      queueWaitMeanMs,
    };
  } finally {
    streamsDone.abort();
    agent.destroy();
    await server.stop();
  }
}

const machine = await machineInfo();
const startedAt = new Date();
const results: PhaseResult[] = [];
for (const phase of PHASES) {
  log(`${phase.name}: ${opts.seconds} s at ${opts.rate} requests/s`);
  results.push(await runPhase(phase));
}

const errorText = (errors: Record<string, number>) =>
  Object.keys(errors).length === 0
    ? '0'
    : Object.entries(errors)
        .map(([k, v]) => `${v} x ${k}`)
        .join(', ');
console.log(
  `\n## Interactive /generate at ${opts.rate}/s (open loop, distinct seeds) on ${opts.model}, ${opts.seconds} s per phase, ${opts.streams} samples stream(s) in b and c\n`,
);
console.log(
  table(
    [
      'phase',
      'requests',
      'p50 ms',
      'p90 ms',
      'p99 ms',
      'max ms',
      'mean ms',
      'errors',
      'bulk samples/s',
      'queue wait ms: interactive',
      'bulk',
    ],
    results.map((r) => [
      r.name,
      r.latency.count,
      fmt(r.latency.p50Ms),
      fmt(r.latency.p90Ms),
      fmt(r.latency.p99Ms),
      fmt(r.latency.maxMs),
      fmt(r.latency.meanMs),
      errorText(r.errors),
      r.streams > 0 ? fmt(r.bulkSamplesPerSecond) : '-',
      fmt(r.queueWaitMeanMs.interactive),
      fmt(r.queueWaitMeanMs.bulk),
    ]),
  ),
);
const late = results.filter((r) => r.lateSends > 0);
if (late.length > 0)
  console.log(
    `\nThe load generator fell behind its schedule (late sends: ${late.map((r) => `${r.name} ${r.lateSends}`).join('; ')}): the machine was too busy for the offered rate.`,
  );
console.log(
  `\nMachine: ${machine.cpuModel}${machine.cpuFamilyModel ? ` (${machine.cpuFamilyModel})` : ''}, ${machine.logicalCpus} CPUs, ${machine.memoryGiB} GiB, ${machine.platform}, Node ${machine.node}, onnxruntime-node ${machine.onnxruntimeNode ?? '?'}`,
);
const file = await writeJson(opts.out ?? path.join('bench-results', `priority-${timestamp(startedAt)}.json`), {
  startedAt: startedAt.toISOString(),
  options: opts,
  machine,
  phases: results,
});
console.log(`\nJSON: ${file}`);
