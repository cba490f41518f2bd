/**
 * `npm run bench:tracing`: what OpenTelemetry tracing costs the server under load (issue 22).
 *
 * Runs the real server on one model twice per --concurrency level: without tracing (no OTEL_*
 * environment, so no SDK is loaded), then with OTEL_EXPORTER_OTLP_ENDPOINT pointing at an OTLP/HTTP
 * sink in this process (it answers every export at once and counts them), so the traced run pays for
 * every span, its batching and its protobuf export, but not for a collector's delays. Prints images/s,
 * latency and server CPU side by side, and writes JSON.
 */
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { Command } from 'commander';
import { checkOneImage, measureLevel, warmUp, type LevelResult } from './bench/level.js';
import { machineInfo } from './bench/machine.js';
import { fmt, intList, nonNegativeInt, positiveNumber, table, timestamp, writeJson } from './bench/report.js';
import { addServerOptions, serverEnv, type ServerCliOptions } from './bench/server-options.js';
import { startServerProcess } from './bench/server-process.js';

interface Options extends ServerCliOptions {
  duration: number;
  concurrency: number[];
  warmup: number;
  quietWait: number;
  retries: number;
  out?: string;
}

const program = addServerOptions(
  new Command('bench-tracing').description('Measure the server with and without OpenTelemetry tracing'),
)
  .option('--duration <s>', 'seconds per level and mode', positiveNumber, 20)
  .option('--concurrency <list>', 'concurrent generate clients, comma-separated', intList, [1, 16, 64])
  .option('--warmup <s>', 'untimed load before each mode, seconds', nonNegativeInt, 2)
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
  .option('--out <file>', 'JSON results (default bench-results/tracing-<timestamp>.json)');

type Mode = 'off' | 'on';

/** An OTLP/HTTP receiver that accepts every export and counts requests and bytes. */
interface OtlpSink {
  url: string;
  exports: number;
  bytes: number;
  close(): Promise<void>;
}

async function startOtlpSink(): Promise<OtlpSink> {
  const counts = { exports: 0, bytes: 0 };
  const server: Server = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => (counts.bytes += chunk.length));
    req.on('end', () => {
      counts.exports++;
      res.writeHead(200, { 'Content-Type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    get exports() {
      return counts.exports;
    },
    get bytes() {
      return counts.bytes;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function log(message: string): void {
  process.stderr.write(`[bench:tracing] ${message}\n`);
}

interface ModeResult {
  mode: Mode;
  levels: LevelResult[];
  otlpExports: number;
  otlpBytes: number;
  exitCode: number | null;
}

async function runMode(o: Options, mode: Mode, sink: OtlpSink): Promise<ModeResult> {
  const before = { exports: sink.exports, bytes: sink.bytes };
  // Set either way, so an OTEL_* environment inherited from the shell cannot trace the untraced run.
  const tracingEnv =
    mode === 'on'
      ? { OTEL_SDK_DISABLED: 'false', OTEL_EXPORTER_OTLP_ENDPOINT: sink.url }
      : { OTEL_SDK_DISABLED: 'true' };
  const env = { ...serverEnv(o), ...tracingEnv };
  log(`tracing ${mode}: starting the server on ${o.modelDir} (${o.providers})`);
  const server = await startServerProcess({ modelDir: o.modelDir, providers: o.providers, env });
  const levels: LevelResult[] = [];
  let exit;
  try {
    await checkOneImage(server);
    await warmUp(server, Math.max(...o.concurrency), o.warmup);
    for (const connections of o.concurrency) {
      log(`tracing ${mode}: ${connections} clients for ${o.duration} s`);
      levels.push(
        await measureLevel(server, {
          connections,
          durationSeconds: o.duration,
          healthzIntervalMs: 100,
          quietWaitSeconds: o.quietWait,
          retries: o.retries,
          log,
        }),
      );
    }
  } finally {
    // The shutdown flushes the spans still buffered, so the sink's counts are complete after it.
    exit = await server.stop();
  }
  return {
    mode,
    levels,
    otlpExports: sink.exports - before.exports,
    otlpBytes: sink.bytes - before.bytes,
    exitCode: exit.code,
  };
}

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<Options>();
  const startedAt = new Date();
  const machine = await machineInfo();
  const sink = await startOtlpSink();
  const results: ModeResult[] = [];
  try {
    for (const mode of ['off', 'on'] as const) results.push(await runMode(o, mode, sink));
  } finally {
    await sink.close();
  }
  const rows = o.concurrency.flatMap((connections, i) =>
    results.map((r) => {
      const level = r.levels[i];
      return [
        connections,
        r.mode,
        fmt(level.load.imagesPerSecond),
        fmt(level.load.latency.p50Ms),
        fmt(level.load.latency.p99Ms),
        fmt(level.cpu?.serverCores ?? level.server.serverCpuCores, 2),
        level.load.errors + level.load.non2xx,
      ];
    }),
  );
  const lines = [
    `\nOpenTelemetry tracing off vs on: ${o.modelDir}, ${o.duration} s per level (${machine.cpuModel}, ${machine.logicalCpus} CPUs, node ${machine.node})`,
    table(['clients', 'tracing', 'images/s', 'p50 ms', 'p99 ms', 'server cores', 'errors'], rows),
    ...results.map(
      (r) =>
        `tracing ${r.mode}: ${r.otlpExports} OTLP exports, ${fmt(r.otlpBytes / 1024, 0)} KiB; server exit code ${r.exitCode}`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const file = o.out ?? path.join('bench-results', `tracing-${timestamp(startedAt)}.json`);
  const written = await writeJson(file, {
    command: `npm run bench:tracing --${process.argv
      .slice(2)
      .map((a) => ` ${a}`)
      .join('')}`,
    startedAt: startedAt.toISOString(),
    machine,
    options: o,
    results,
  });
  log(`wrote ${written}`);
  if (results.some((r) => r.exitCode !== 0) || (results.find((r) => r.mode === 'on')?.otlpExports ?? 0) === 0)
    process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench-tracing: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
