/**
 * `npm run soak -- --stream <count>`: one `/samples` stream of `count` images on the real server, and
 * the server's memory while it runs (RSS, external memory, V8 heap used, from its own /metrics every
 * second). `--stream-reader full` reads at full speed; `stalled` reads `--stall-after` images at full
 * speed and then stops reading (the connection stays open), so the stream fills the socket buffers and
 * stops, until the write-idle deadline cuts it. Memory must
 * stay flat in the count in both cases (RELIABILITY.md, "Long streams and slow consumers").
 */
import { fmt, table } from '../bench/report.js';
import type { MachineInfo } from '../bench/machine.js';
import { startChildServer } from './child-server.js';
import { send, sleep } from './http-client.js';
import { readSamplesStream, stopReadingAfter } from './stream-clients.js';
import { metricValue, parseMetrics } from '../shared/metrics-text.js';
import { MiB } from '@sagan-serve/bench-stats';

export interface StreamSoakOptions {
  modelsDir: string;
  model: string;
  count: number;
  reader: 'full' | 'stalled';
  /** Stalled reader: how long to watch, seconds (past the write-idle deadline). */
  watchSeconds: number;
  /** Stalled reader: images read before it stops reading. */
  stallAfter: number;
  writeIdleTimeoutMs: number;
  logLevel: string;
}

interface MemorySample {
  t: number;
  rssMiB: number;
  externalMiB: number;
  heapUsedMiB: number;
  samplesRead: number;
}

export interface StreamSoakResult {
  options: StreamSoakOptions;
  seconds: number;
  samplesRead: number;
  ended: string;
  responsesCut: number;
  /** Stalled reader: seconds from the request until the server's cut was seen (undefined: not cut). */
  cutSeenAtSeconds: number | undefined;
  exitCode: number | string;
  before: MemorySample;
  peak: { rssMiB: number; externalMiB: number; heapUsedMiB: number };
  /** Mean of the samples in the last quarter of the stream (or of the watch). */
  lateMean: { rssMiB: number; externalMiB: number; heapUsedMiB: number };
  /** Mean of the samples in the second quarter: late minus this is the growth over half the run. */
  earlyMean: { rssMiB: number; externalMiB: number; heapUsedMiB: number };
  after: MemorySample;
  samples: MemorySample[];
}

export async function streamSoak(
  options: StreamSoakOptions,
  machine: MachineInfo,
  log: (m: string) => void,
): Promise<StreamSoakResult> {
  const server = await startChildServer({
    env: {
      MODELS_DIR: options.modelsDir,
      EXECUTION_PROVIDERS: 'cpu',
      LOG_LEVEL: options.logLevel,
      MAX_STREAM_SAMPLES: String(Math.max(options.count, 1)),
      WRITE_IDLE_TIMEOUT_MS: String(options.writeIdleTimeoutMs),
    },
    captureLogs: false,
  });
  log(
    `server pid ${server.proc.pid} on ${server.base}; one stream of ${options.count} images, ${options.reader} reader (${machine.cpuModel})`,
  );
  let samplesRead = 0;
  const scrape = async (t: number): Promise<MemorySample & { cut: number }> => {
    const parsed = parseMetrics(
      (await send(server.base, { method: 'GET', path: '/metrics', timeoutMs: 10_000 })).body.toString(),
    );
    return {
      t,
      rssMiB: metricValue(parsed, 'process_resident_memory_bytes') / MiB,
      externalMiB: metricValue(parsed, 'nodejs_external_memory_bytes') / MiB,
      heapUsedMiB: metricValue(parsed, 'nodejs_heap_size_used_bytes') / MiB,
      samplesRead,
      cut: metricValue(parsed, 'sagan_responses_cut_total', { reason: 'write_idle' }),
    };
  };
  // A few images first, so the model's sessions and the render threads are warm in the baseline.
  await send(server.base, { method: 'GET', path: `/v1/models/${options.model}/generate?class=0&seed=1&n=16` });
  const before = await scrape(0);
  const started = performance.now();
  const body = { class: 0, count: options.count, format: 'png' };
  let done = false;
  let ended = 'watching';
  let stalled: { stopped: Promise<number>; destroy(): void } | undefined;
  const streamed =
    options.reader === 'full'
      ? readSamplesStream(server.base, `/v1/models/${options.model}/samples`, body, () => {
          samplesRead++;
        }).then((r) => {
          ended = r.ended === 'end' && r.samples === options.count ? 'complete' : `${r.ended} after ${r.samples}`;
        })
      : (async () => {
          stalled = stopReadingAfter(server.base, `/v1/models/${options.model}/samples`, body, options.stallAfter);
          samplesRead = await stalled.stopped;
          log(`stopped reading after ${samplesRead} images`);
          await sleep(options.watchSeconds * 1000);
        })();
  void streamed.finally(() => {
    done = true;
  });
  const samples: MemorySample[] = [];
  let cut = 0;
  let cutSeenAtSeconds: number | undefined;
  while (!done) {
    await sleep(1000);
    const sample = await scrape((performance.now() - started) / 1000);
    cut = sample.cut;
    if (cut > 0) cutSeenAtSeconds ??= sample.t;
    samples.push(sample);
    log(
      `t=${sample.t.toFixed(0)}s read ${samplesRead} rss ${sample.rssMiB.toFixed(1)} MiB external ${sample.externalMiB.toFixed(1)} MiB heap ${sample.heapUsedMiB.toFixed(1)} MiB${options.reader === 'stalled' ? ` cut ${cut}` : ''}`,
    );
  }
  await streamed;
  if (options.reader === 'stalled')
    ended =
      cut > 0
        ? `cut by the write-idle deadline (seen ${cutSeenAtSeconds?.toFixed(0)} s after the request)`
        : 'still open';
  stalled?.destroy();
  const seconds = (performance.now() - started) / 1000;
  await sleep(2000);
  const after = await scrape(seconds + 2);
  const exitCode = await server.stop();
  const meanOf = (part: MemorySample[]) => ({
    rssMiB: part.reduce((s, x) => s + x.rssMiB, 0) / Math.max(1, part.length),
    externalMiB: part.reduce((s, x) => s + x.externalMiB, 0) / Math.max(1, part.length),
    heapUsedMiB: part.reduce((s, x) => s + x.heapUsedMiB, 0) / Math.max(1, part.length),
  });
  const quarter = Math.max(1, Math.floor(samples.length / 4));
  return {
    options,
    seconds,
    samplesRead,
    ended,
    responsesCut: cut,
    cutSeenAtSeconds,
    exitCode,
    before,
    after,
    samples,
    peak: {
      rssMiB: Math.max(...samples.map((s) => s.rssMiB)),
      externalMiB: Math.max(...samples.map((s) => s.externalMiB)),
      heapUsedMiB: Math.max(...samples.map((s) => s.heapUsedMiB)),
    },
    earlyMean: meanOf(samples.slice(quarter, 2 * quarter)),
    lateMean: meanOf(samples.slice(-quarter)),
  };
}

export function printStreamSoak(result: StreamSoakResult, machine: MachineInfo): void {
  const { options } = result;
  console.log(
    `\n## Stream soak: ${options.model}, one stream of ${options.count} images, ${options.reader} reader (${machine.cpuModel}, ${machine.logicalCpus} CPUs, Node ${machine.node})\n`,
  );
  console.log(
    `${result.samplesRead} samples read in ${fmt(result.seconds, 1)} s (${fmt(result.samplesRead / result.seconds, 0)}/s); stream ${result.ended}; server exit code ${result.exitCode}\n`,
  );
  const row = (name: string, key: 'rssMiB' | 'externalMiB' | 'heapUsedMiB') => [
    name,
    fmt(result.before[key]),
    fmt(result.earlyMean[key]),
    fmt(result.lateMean[key]),
    fmt(result.peak[key]),
    fmt(result.after[key]),
  ];
  console.log(
    table(
      ['MiB', 'before', '2nd quarter mean', 'last quarter mean', 'peak', '2 s after'],
      [row('RSS', 'rssMiB'), row('external', 'externalMiB'), row('heap used', 'heapUsedMiB')],
    ),
  );
}
