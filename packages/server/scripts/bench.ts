/**
 * `npm run bench`: throughput and latency of the real server against its in-process ceilings.
 *
 *   1. Raw ceiling, no HTTP: session.run at each --batch-sizes (images/s, ms per batch; as many sessions
 *      at once as the server's MODEL_INSTANCES, each in a worker thread), batch 1 again
 *      with a --pause-ms sleep before each run (the session idles like that at 1 client), then PNG
 *      rendering of real generator output on one render thread per core, --encode-concurrency at a
 *      time (images/s).
 *   2. The real server (`node dist/src/cli.js`) on that one model, as a child process.
 *   3. Per --concurrency level: autocannon drives GET /v1/models/<m>/generate (fresh seed per request)
 *      for --duration s while a worker thread probes /healthz every --healthz-interval-ms; /metrics
 *      before and after give the batches the batcher formed.
 *   4. Ratios: server images/s at the highest level over the raw rate at the batch size actually
 *      formed; p50 at 1 client minus the raw batch-1 run time (back to back, and after a pause);
 *      server vs min(inference, PNG) and vs the shared-core bound 1 / (1/inference + 1/PNG).
 *   5. Tables on stdout, everything as JSON in --out; the server is stopped with SIGTERM and its exit
 *      code reported.
 */
import path from 'node:path';
import { Command, Option } from 'commander';
import { DEFAULT_CONFIG } from '../src/config.js';
import type { ProviderName, SessionOptions } from '@sagan-serve/model-contract/ort-session';
import { intraOpThreadsPerInstance } from '../src/inference/instance-group.js';
import { cpuShare, cpuSnapshot, measureQuietly } from './bench/cpu-usage.js';
import { checkOneImage, measureLevel, warmUp, type LevelResult } from './bench/level.js';
import { machineInfo } from './bench/machine.js';
import { RawBench, type EncodeResult, type RawBatchResult } from './bench/raw.js';
import {
  fmt,
  groupLogLines,
  intList,
  nonNegativeInt,
  positiveNumber,
  table,
  timestamp,
  writeJson,
} from './bench/report.js';
import { addServerOptions, effective, serverEnv, type ServerCliOptions } from './bench/server-options.js';
import { startServerProcess, type ServerExit } from './bench/server-process.js';
import { interpolate } from '@sagan-serve/bench-stats';

interface Options extends ServerCliOptions {
  duration: number;
  concurrency: number[];
  batchSizes: number[];
  rawSeconds: number;
  encodeConcurrency: number;
  rawRepeats: number;
  pauseMs: number;
  graphOptimizationLevel?: SessionOptions['graphOptimizationLevel'];
  warmup: number;
  healthzIntervalMs: number;
  raw: boolean;
  quietWait: number;
  retries: number;
  out?: string;
}

const program = addServerOptions(
  new Command('bench').description('Benchmark sagan-serve: raw ceilings, then the real server under load'),
)
  .option('--duration <s>', 'seconds per concurrency level', positiveNumber, 10)
  .option('--concurrency <list>', 'concurrent generate clients per level', intList, [1, 8, 32, 64])
  .option('--batch-sizes <list>', 'batch sizes for the raw session.run ceiling', intList, [1, 4, 8, 16, 32])
  .option('--raw-seconds <s>', 'timed seconds per raw batch size and for PNG encoding', positiveNumber, 2)
  .option(
    '--raw-repeats <n>',
    'sweeps over the raw batch sizes; each size reports its best sweep',
    (v) => Math.max(1, nonNegativeInt(v)),
    3,
  )
  .option('--encode-concurrency <n>', 'PNG encodes in flight for the encode ceiling', positiveNumber, 8)
  .option(
    '--pause-ms <ms>',
    'pause before each raw batch-1 run of the after-idle measurement (0 = skip it)',
    nonNegativeInt,
    4,
  )
  .addOption(
    new Option(
      '--graph-optimization-level <level>',
      "raw ceiling only: ORT graph optimisation to compare with the server's 'all'",
    ).choices(['disabled', 'basic', 'extended', 'all']),
  )
  .option('--warmup <s>', 'untimed load before the first level, seconds (0 = none)', nonNegativeInt, 2)
  .option('--healthz-interval-ms <ms>', '/healthz probe period', positiveNumber, 20)
  .option(
    '--quiet-wait <s>',
    'before the raw phase and each level, wait up to this long for other processes to use < 0.25 core (0 = never wait)',
    nonNegativeInt,
    30,
  )
  .option(
    '--retries <n>',
    'measure a phase again (up to n times) when other processes used > 0.25 core during it; the least-disturbed attempt is kept',
    nonNegativeInt,
    2,
  )
  .option('--no-raw', 'skip the in-process ceilings (server levels only)')
  .option('--out <file>', 'JSON results (default bench-results/bench-<timestamp>.json)');

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

/**
 * Raw images/s at a (fractional) batch size: ms per batch is interpolated linearly in the batch size;
 * `instances` sessions each run such batches back to back.
 */
function rawRateAt(raw: RawBatchResult[], batch: number, instances: number): number {
  const ms = interpolate(
    raw.map((r) => ({ x: r.batch, y: r.msPerBatchMean })),
    batch,
  );
  return ((instances * batch) / ms) * 1000;
}

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<Options>();
  const startedAt = new Date();
  const providers = o.providers
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean) as ProviderName[];
  /** MODEL_INSTANCES as set (0 = automatic); `rawInstances` is what the raw phase settled it to. */
  const instances = effective(o.instances, 'MODEL_INSTANCES', DEFAULT_CONFIG.instances);
  let rawInstances = 1;
  // What the server gives each instance's session (src/inference/instance-group.ts).
  const intraOpThreads = intraOpThreadsPerInstance(
    effective(o.intraOpThreads, 'INTRA_OP_THREADS', DEFAULT_CONFIG.intraOpThreads),
    instances,
  );
  const pngCompressionLevel = effective(
    o.pngCompressionLevel,
    'PNG_COMPRESSION_LEVEL',
    DEFAULT_CONFIG.pngCompressionLevel,
  );
  const machine = await machineInfo();
  const command = `npm run bench --${process.argv
    .slice(2)
    .map((a) => ` ${a}`)
    .join('')}`;
  log(
    `${machine.cpuModel} (${machine.cpuFamilyModel ?? '?'}), ${machine.logicalCpus} logical CPUs, node ${machine.node}, onnxruntime-node ${machine.onnxruntimeNode}, sharp ${machine.sharp}`,
  );

  // 1. Raw ceilings.
  let raw: RawBatchResult[] = [];
  let encode: EncodeResult | undefined;
  let rawProvider: string | undefined;
  let rawAlone1: RawBatchResult | undefined;
  let rawAfterPause: Awaited<ReturnType<RawBench['measureBatch1AfterPause']>> | undefined;
  /** Other processes' cores during each raw measurement (batch size, or 'png'). */
  const rawOther: Record<string, number | undefined> = {};
  const quietly = <T>(measure: () => Promise<T>) =>
    measureQuietly(
      async () => {
        const before = cpuSnapshot(undefined);
        const result = await measure();
        return { result, cpu: cpuShare(before, cpuSnapshot(undefined)) };
      },
      (r) => r.cpu?.otherCores,
      { serverPid: undefined, quietWaitSeconds: o.quietWait, retries: o.retries, log },
    );
  const measureRaw = async (bench: RawBench, batch: number): Promise<RawBatchResult> => {
    const m = await quietly(() => bench.measureBatch(batch, o.rawSeconds));
    rawOther[batch] = m.otherCores;
    return m.result.result;
  };
  if (o.raw) {
    const bench = await RawBench.open(o.modelDir, providers, intraOpThreads, instances, o.graphOptimizationLevel);
    rawProvider = bench.provider;
    rawInstances = bench.instances;
    log(
      `raw ceiling on ${bench.provider} (${rawInstances} session${rawInstances > 1 ? 's at once' : ''}, intra-op threads ${intraOpThreads || 'ORT default'} each, graph optimisation ${o.graphOptimizationLevel ?? 'all'})`,
    );
    // Other tenants of a shared machine only ever slow a run down, so the ceiling is the best of
    // --raw-repeats sweeps over the batch sizes (sweeps, not back-to-back repeats, so that the attempts of
    // one batch size are spread over the raw phase).
    const attempts = new Map<number, { result: RawBatchResult; otherCores: number | undefined }[]>();
    for (let sweep = 1; sweep <= o.rawRepeats; sweep++) {
      for (const batch of o.batchSizes) {
        const r = await measureRaw(bench, batch);
        attempts.set(batch, [...(attempts.get(batch) ?? []), { result: r, otherCores: rawOther[batch] }]);
        log(
          `  sweep ${sweep}, batch ${batch}: ${fmt(r.msPerBatchMean, 2)} ms/batch, ${fmt(r.imagesPerSecond)} images/s (${r.runs} runs; other processes ${fmt(rawOther[batch], 2)} cores)`,
        );
      }
    }
    raw = o.batchSizes.map((batch) => {
      const tries = attempts.get(batch)!;
      const best = tries.reduce((a, b) => (b.result.imagesPerSecond > a.result.imagesPerSecond ? b : a));
      rawOther[batch] = best.otherCores;
      return { ...best.result, attemptsImagesPerSecond: tries.map((t) => t.result.imagesPerSecond) };
    });
    if (rawInstances > 1 && o.batchSizes.includes(1)) {
      rawAlone1 = (await quietly(() => bench.measureBatch(1, o.rawSeconds, 3, { alone: true }))).result.result;
      log(`  batch 1 on one session alone: ${fmt(rawAlone1.msPerBatchMean, 2)} ms`);
    }
    if (o.pauseMs > 0 && o.batchSizes.includes(1)) {
      const p = await quietly(() => bench.measureBatch1AfterPause(o.pauseMs, o.rawSeconds));
      rawAfterPause = p.result.result;
      rawOther.afterPause = p.otherCores;
      log(
        `  batch 1 after a ${o.pauseMs} ms pause: ${fmt(rawAfterPause.msP50, 2)} ms median (${rawAfterPause.runs} runs; other processes ${fmt(rawOther.afterPause, 2)} cores)`,
      );
    }
    const e = await quietly(() => bench.measureEncode(o.encodeConcurrency, o.rawSeconds, pngCompressionLevel));
    encode = e.result.result;
    rawOther.png = e.otherCores;
    log(
      `  PNG (level ${pngCompressionLevel}, ${encode.threads} render threads, ${o.encodeConcurrency} in flight): ${fmt(encode.imagesPerSecond)} images/s; one at a time ${fmt(encode.sequentialMsPerImage, 2)} ms; toRgbBytes ${fmt(encode.toRgbMicrosPerImage, 0)} us (other processes ${fmt(rawOther.png, 2)} cores)`,
    );
    await bench.close();
  }

  // 2. The server.
  log(`starting the server on ${o.modelDir} (${o.providers})`);
  const server = await startServerProcess({ modelDir: o.modelDir, providers: o.providers, env: serverEnv(o) });
  const levels: LevelResult[] = [];
  let exit: ServerExit | undefined;
  let modelInfo: Record<string, unknown>;
  let sanity: Awaited<ReturnType<typeof checkOneImage>> | undefined;
  try {
    modelInfo = (await (await fetch(`${server.url}/v1/models/${encodeURIComponent(server.model)}`)).json()) as Record<
      string,
      unknown
    >;
    log(
      `ready in ${fmt(server.startSeconds, 1)} s: model ${server.model} on ${String(modelInfo.provider)}, batching ${JSON.stringify(modelInfo.batching)}`,
    );
    sanity = await checkOneImage(server);
    const maxConnections = Math.max(...o.concurrency);
    if (o.warmup > 0) {
      log(`warm-up: ${maxConnections} clients for ${o.warmup} s`);
      await warmUp(server, maxConnections, o.warmup);
    }
    // 3. Load levels.
    for (const connections of o.concurrency) {
      log(`level: ${connections} clients for ${o.duration} s`);
      const level = await measureLevel(server, {
        connections,
        durationSeconds: o.duration,
        healthzIntervalMs: o.healthzIntervalMs,
        quietWaitSeconds: o.quietWait,
        retries: o.retries,
        log,
      });
      levels.push(level);
      log(
        `  ${fmt(level.load.imagesPerSecond)} images/s, p50 ${fmt(level.load.latency.p50Ms)} ms, p99 ${fmt(level.load.latency.p99Ms)} ms, mean batch ${fmt(level.server.meanBatchSize, 2)}, /healthz p99 ${fmt(level.healthz.p99Ms, 2)} ms, other processes ${fmt(level.cpu?.otherCores, 2)} cores`,
      );
    }
  } finally {
    exit = await server.stop();
    log(
      `server stopped: exit code ${exit.code}${exit.signal ? `, signal ${exit.signal}` : ''} after ${fmt(exit.shutdownMs, 0)} ms${exit.killed ? ' (SIGKILLed: no exit in time)' : ''}`,
    );
  }

  // 4. Ratios.
  const top = levels.reduce<LevelResult | undefined>(
    (best, l) => (!best || l.connections > best.connections ? l : best),
    undefined,
  );
  const single = levels.find((l) => l.connections === 1);
  const formed = top?.server.meanBatchSize ?? Number.NaN;
  let rawAtRounded: RawBatchResult | undefined;
  if (o.raw && top && Number.isFinite(formed)) {
    const rounded = Math.max(1, Math.round(formed));
    rawAtRounded = raw.find((r) => r.batch === rounded);
    if (!rawAtRounded) {
      const bench = await RawBench.open(o.modelDir, providers, intraOpThreads, instances, o.graphOptimizationLevel);
      rawAtRounded = await measureRaw(bench, rounded);
      await bench.close();
      log(`  raw at the formed batch size ${rounded}: ${fmt(rawAtRounded.imagesPerSecond)} images/s`);
    }
  }
  const allRaw = [...raw, ...(rawAtRounded && !raw.includes(rawAtRounded) ? [rawAtRounded] : [])].sort(
    (a, b) => a.batch - b.batch,
  );
  const rawInterp = allRaw.length ? rawRateAt(allRaw, formed, rawInstances) : Number.NaN;
  // The latency ratio compares with one batch-1 run alone: at 1 client only one instance is busy.
  const raw1 = rawAlone1 ?? raw.find((r) => r.batch === 1);
  const encodeRate = encode?.imagesPerSecond ?? Number.NaN;
  const serverRate = top?.load.imagesPerSecond ?? Number.NaN;
  const minBound = Math.min(rawInterp, encodeRate);
  const sharedBound = 1 / (1 / rawInterp + 1 / encodeRate);
  const ratios = {
    topConcurrency: top?.connections,
    meanBatchFormed: formed,
    rawImagesPerSecondAtFormedBatch: rawInterp,
    rawMeasuredAtRoundedBatch: rawAtRounded
      ? { batch: rawAtRounded.batch, imagesPerSecond: rawAtRounded.imagesPerSecond }
      : undefined,
    serverImagesPerSecond: serverRate,
    serverOverRaw: serverRate / rawInterp,
    p50At1ClientMs: single?.load.latency.p50Ms,
    rawBatch1Ms: raw1?.msPerBatchMean,
    latencyOverheadMs: single && raw1 ? single.load.latency.p50Ms - raw1.msPerBatchMean : undefined,
    rawBatch1AfterPause: rawAfterPause,
    latencyOverheadAfterPauseMs: single && rawAfterPause ? single.load.latency.p50Ms - rawAfterPause.msP50 : undefined,
    pngImagesPerSecond: encodeRate,
    minInferencePng: minBound,
    serverOverMinInferencePng: serverRate / minBound,
    sharedCoreBound: sharedBound,
    serverOverSharedCoreBound: serverRate / sharedBound,
  };

  // 5. Report.
  const out: string[] = [];
  out.push(
    `\nsagan-serve bench: ${server.model} (${server.imageSize}x${server.imageSize}, ${server.classes.length} classes), providers ${o.providers} -> ${String(modelInfo.provider)}`,
  );
  out.push(
    `machine: ${machine.cpuModel} (${machine.cpuFamilyModel ?? '?'}), ${machine.logicalCpus} CPUs, ${machine.memoryGiB} GiB, node ${machine.node}, onnxruntime-node ${machine.onnxruntimeNode}, sharp ${machine.sharp} (libvips ${machine.libvips}), UV_THREADPOOL_SIZE ${machine.uvThreadpoolSize}`,
  );
  out.push(
    `server batching: ${JSON.stringify(modelInfo.batching)}, MODEL_INSTANCES ${instances}${instances === 0 ? ' (automatic)' : ''}, intra-op threads per session ${intraOpThreads || 'ORT default'}, PNG_COMPRESSION_LEVEL ${pngCompressionLevel}`,
  );
  if (raw.length) {
    out.push(
      `\nRaw ceiling (in process, session.run only, ${rawProvider}, ${rawInstances} session${rawInstances > 1 ? 's at once' : ''}, best of ${o.rawRepeats} sweeps${o.graphOptimizationLevel ? `, graph optimisation ${o.graphOptimizationLevel} (the server uses all)` : ''}):`,
    );
    const range = (r: RawBatchResult) =>
      r.attemptsImagesPerSecond && r.attemptsImagesPerSecond.length > 1
        ? `${fmt(Math.min(...r.attemptsImagesPerSecond))}-${fmt(Math.max(...r.attemptsImagesPerSecond))}`
        : '';
    out.push(
      table(
        ['batch', 'ms/batch', 'ms/image', 'images/s', 'all sweeps', 'runs', 'other CPU'],
        allRaw.map((r) => [
          r.batch,
          fmt(r.msPerBatchMean, 2),
          fmt(1000 / r.imagesPerSecond, 2),
          fmt(r.imagesPerSecond),
          range(r),
          r.runs,
          fmt(rawOther[r.batch], 2),
        ]),
      ),
    );
    if (rawAlone1)
      out.push(
        `batch 1 on one session alone (the latency ratio uses this): ${fmt(rawAlone1.msPerBatchMean, 2)} ms, ${rawAlone1.runs} runs`,
      );
    if (rawAfterPause)
      out.push(
        `batch 1 after a ${rawAfterPause.pauseMs} ms pause before each run (as at 1 client): ${fmt(rawAfterPause.msP50, 2)} ms median, ${rawAfterPause.runs} runs, other CPU ${fmt(rawOther.afterPause, 2)}`,
      );
  }
  if (encode) {
    out.push(
      `\nPNG rendering (toRgbBytes + encodeImage, level ${encode.pngCompressionLevel}, ${encode.imageSize}x${encode.imageSize}): ${fmt(encode.imagesPerSecond)} images/s on ${encode.threads} render threads, ${encode.concurrency} in flight; ${fmt(encode.sequentialMsPerImage, 2)} ms one at a time; toRgbBytes ${fmt(encode.toRgbMicrosPerImage, 0)} us/image; ${fmt(encode.meanPngBytes, 0)} bytes/image; other processes ${fmt(rawOther.png, 2)} cores`,
    );
  }
  out.push(`\nServer (GET /v1/models/${server.model}/generate, fresh seed per request, ${o.duration} s per level):`);
  out.push(
    table(
      [
        'clients',
        'images/s',
        'p50 ms',
        'p95 ms',
        'p99 ms',
        'mean batch',
        'infer ms/batch',
        'worker busy',
        'server CPU',
        'bench CPU',
        'other CPU',
        'healthz p50',
        'healthz p99',
        'healthz max',
        'probes',
        'errors',
        'non-2xx',
      ],
      levels.map((l) => [
        l.connections,
        fmt(l.load.imagesPerSecond),
        fmt(l.load.latency.p50Ms),
        fmt(l.load.latency.p95Ms),
        fmt(l.load.latency.p99Ms),
        fmt(l.server.meanBatchSize, 2),
        fmt(l.server.meanInferenceMsPerBatch, 2),
        `${fmt(l.server.inferenceBusyFraction * 100, 0)}%`,
        fmt(l.cpu?.serverCores ?? l.server.serverCpuCores, 2),
        fmt(l.cpu?.benchCores, 2),
        fmt(l.cpu?.otherCores, 2),
        fmt(l.healthz.p50Ms, 2),
        fmt(l.healthz.p99Ms, 2),
        fmt(l.healthz.maxMs, 1),
        l.healthz.count,
        l.load.errors + l.healthz.failures,
        l.load.non2xx,
      ]),
    ),
  );
  if (top && o.raw) {
    out.push('\nRatios:');
    out.push(
      `  server images/s at ${top.connections} clients / raw images/s at the formed mean batch ${fmt(formed, 2)}: ${fmt(serverRate)} / ${fmt(rawInterp)} = ${fmt(ratios.serverOverRaw, 3)}` +
        (rawAtRounded ? ` (raw measured at batch ${rawAtRounded.batch}: ${fmt(rawAtRounded.imagesPerSecond)})` : ''),
    );
    if (ratios.latencyOverheadMs !== undefined)
      out.push(
        `  p50 at 1 client - raw batch-1 run: ${fmt(ratios.p50At1ClientMs, 2)} - ${fmt(ratios.rawBatch1Ms, 2)} = ${fmt(ratios.latencyOverheadMs, 2)} ms`,
      );
    if (ratios.latencyOverheadAfterPauseMs !== undefined && rawAfterPause)
      out.push(
        `  p50 at 1 client - raw batch-1 run after a ${rawAfterPause.pauseMs} ms pause: ${fmt(ratios.p50At1ClientMs, 2)} - ${fmt(rawAfterPause.msP50, 2)} = ${fmt(ratios.latencyOverheadAfterPauseMs, 2)} ms`,
      );
    out.push(
      `  server / min(inference ${fmt(rawInterp)}, PNG ${fmt(encodeRate)}) = ${fmt(ratios.serverOverMinInferencePng, 3)}`,
    );
    out.push(
      `  server / shared-core bound 1/(1/inference + 1/PNG) = ${fmt(serverRate)} / ${fmt(sharedBound)} = ${fmt(ratios.serverOverSharedCoreBound, 3)}`,
    );
  }
  const warnings = server.warnings();
  const warningGroups = groupLogLines(warnings);
  if (warnings.length) {
    out.push(`\nServer logged ${warnings.length} warning/error line(s) (LOG_LEVEL=warn):`);
    for (const [key, n] of Object.entries(warningGroups)) out.push(`  ${n} x ${key}`);
  }
  out.push(
    `\nServer exit on SIGTERM: code ${exit.code}${exit.signal ? `, signal ${exit.signal}` : ''}, ${fmt(exit.shutdownMs, 0)} ms${exit.killed ? ', SIGKILLed' : ''}`,
  );
  process.stdout.write(`${out.join('\n')}\n`);

  const file = o.out ?? path.join('bench-results', `bench-${timestamp(startedAt)}.json`);
  const written = await writeJson(file, {
    command,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine,
    options: {
      ...o,
      instancesEffective: instances,
      rawInstances,
      intraOpThreadsEffective: intraOpThreads,
      pngCompressionLevelEffective: pngCompressionLevel,
    },
    model: { name: server.model, imageSize: server.imageSize, classes: server.classes.length, info: modelInfo },
    raw: {
      provider: rawProvider,
      batches: allRaw.map((r) => ({ ...r, otherCores: rawOther[r.batch] })),
      encode: encode && { ...encode, otherCores: rawOther.png },
    },
    server: { startSeconds: server.startSeconds, sanity, levels, exit, warningGroups, warnings: warnings.slice(0, 20) },
    ratios,
  });
  log(`wrote ${written}`);
  if (exit.code !== 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
