/**
 * The in-process ceilings, without HTTP: session.run at fixed batch sizes (through the project's
 * ort-session.ts, as the server's worker does), and PNG rendering (toRgbBytes + encodeImage, as a
 * render thread does it) of real generator output.
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { autoInstanceCount } from '../../src/inference/instance-group.js';
import {
  loadSession,
  releaseSession,
  runSession,
  type LoadedSession,
  type ProviderAttempt,
  type ProviderName,
  type SessionOptions,
} from '@sagan-serve/model-contract/ort-session';
import { fillLatent } from '@sagan-serve/model-contract/seeded-latent';
import type { ModelManifest } from '@sagan-serve/model-contract/manifest';
import { outputRowLengths } from '@sagan-serve/model-contract/output-shapes';
import { readModelManifest } from '@sagan-serve/model-contract/manifest-file';
import { encodeImage, toRgbBytes } from '@sagan-serve/model-contract/image';
import { RenderPool } from '../../src/render/render-pool.js';
import type { RenderSpec } from '../../src/render/render-request.js';
import type { RawInstanceData, RawInstanceReply, RawInstanceRequest } from './raw-instance.js';
import { summarize } from '@sagan-serve/bench-stats';
import { timeConcurrently, timeRuns } from './timed-runs.js';

type GraphOptimizationLevel = NonNullable<SessionOptions['graphOptimizationLevel']>;

export interface RawBatchResult {
  batch: number;
  /** images/s of every attempt when the ceiling is the best of several (bench.ts --raw-repeats). */
  attemptsImagesPerSecond?: number[];
  runs: number;
  seconds: number;
  msPerBatchMean: number;
  msPerBatchP50: number;
  imagesPerSecond: number;
}

export interface EncodeResult {
  concurrency: number;
  /** Render threads the throughput figure used (one per core). */
  threads: number;
  pngCompressionLevel: number;
  imageSize: number;
  images: number;
  seconds: number;
  imagesPerSecond: number;
  /** Mean ms per image when encoding one at a time (what one request pays). */
  sequentialMsPerImage: number;
  /** toRgbBytes alone (synchronous, on the calling thread), in microseconds per image. */
  toRgbMicrosPerImage: number;
  meanPngBytes: number;
}

export class RawBench {
  /** Worker threads with a session each, started on first use when instances > 1. */
  private instanceWorkers: Worker[] | undefined;

  private constructor(
    readonly manifest: ModelManifest,
    private readonly loaded: LoadedSession,
    readonly provider: ProviderName,
    readonly failedProviders: ProviderAttempt[],
    private readonly modelPath: string,
    private readonly intraOpThreads: number,
    /** Sessions measureBatch runs at the same time, each in its own thread, as MODEL_INSTANCES does. */
    readonly instances: number,
    /** ORT graph optimisation; undefined = the server's ('all'). */
    private readonly graphOptimizationLevel: GraphOptimizationLevel | undefined,
  ) {}

  /**
   * `intraOpThreads` per session (0 = ORT's default). With `instances` > 1 (0 = automatic, as the server
   * settles it for the provider), measureBatch runs that many sessions at once, each in a worker thread,
   * and reports their combined rate; the other measurements use one session in this thread.
   */
  static async open(
    modelDir: string,
    providers: readonly ProviderName[],
    intraOpThreads: number,
    instances = 1,
    graphOptimizationLevel?: GraphOptimizationLevel,
  ): Promise<RawBench> {
    const manifest = await readModelManifest(modelDir);
    const modelPath = path.join(modelDir, manifest.file);
    const failed: ProviderAttempt[] = [];
    // Like the server's worker: a provider counts only once a first run works on it.
    for (const provider of providers) {
      let loaded: LoadedSession | undefined;
      try {
        loaded = await loadSession(modelPath, { providers: [provider], intraOpThreads, graphOptimizationLevel });
        const bench = new RawBench(
          manifest,
          loaded,
          provider,
          failed,
          modelPath,
          intraOpThreads,
          instances === 0 ? autoInstanceCount(provider) : instances,
          graphOptimizationLevel,
        );
        await bench.runOnce(1);
        return bench;
      } catch (err) {
        failed.push({ provider, error: err instanceof Error ? err.message : String(err) });
        if (loaded) await releaseSession(loaded).catch(() => undefined);
      }
    }
    throw new Error(`no provider could run ${modelPath}: ${failed.map((f) => `${f.provider}: ${f.error}`).join('; ')}`);
  }

  private feeds(batch: number, seed: number) {
    const dim = this.manifest.latent.dim;
    const z = new Float32Array(batch * dim);
    const classes = new BigInt64Array(batch);
    for (let i = 0; i < batch; i++) {
      fillLatent(z.subarray(i * dim, (i + 1) * dim), seed + i);
      classes[i] = BigInt((seed + i) % this.manifest.classes.length);
    }
    return {
      [this.manifest.latent.input]: { data: z, dims: [batch, dim] },
      [this.manifest.class_input]: { data: classes, dims: [batch] },
    };
  }

  /** One run; returns the image output [batch, 3, S, S]. */
  async runOnce(batch: number, seed = 1): Promise<Float32Array> {
    const result = await runSession(this.loaded, this.feeds(batch, seed), [this.manifest.image.output]);
    return result.outputs[this.manifest.image.output].data;
  }

  /**
   * Warm-up runs, then runs for about `seconds` (at least 3), on every instance at once (`alone`: on one
   * session in this thread).
   */
  async measureBatch(batch: number, seconds: number, warmupRuns = 3, { alone = false } = {}): Promise<RawBatchResult> {
    const feeds = this.feeds(batch, 1000);
    const fetches = [this.manifest.image.output];
    if (this.instances > 1 && !alone) {
      const workers = await this.startInstances();
      const perInstance = await Promise.all(
        workers.map(
          (worker) =>
            new Promise<number[]>((resolve, reject) => {
              worker.once('message', (reply: RawInstanceReply) =>
                reply.type === 'times'
                  ? resolve(reply.times)
                  : reject(new Error(reply.type === 'error' ? reply.message : 'unexpected reply')),
              );
              worker.postMessage({ feeds, fetches, seconds, warmupRuns } satisfies RawInstanceRequest);
            }),
        ),
      );
      const times = perInstance.flat();
      // Each instance runs back to back, so its busy time is its wall time.
      const instanceSeconds = perInstance.map((t) => t.reduce((a, b) => a + b, 0) / 1000);
      const stats = summarize(times);
      return {
        batch,
        runs: times.length,
        seconds: Math.max(...instanceSeconds),
        msPerBatchMean: stats.meanMs,
        msPerBatchP50: stats.p50Ms,
        imagesPerSecond: perInstance.reduce((sum, t, i) => sum + (batch * t.length) / instanceSeconds[i], 0),
      };
    }
    const { times, wallSeconds: total } = await timeRuns(() => runSession(this.loaded, feeds, fetches), {
      seconds,
      warmupRuns,
    });
    const stats = summarize(times);
    return {
      batch,
      runs: times.length,
      seconds: total,
      msPerBatchMean: stats.meanMs,
      msPerBatchP50: stats.p50Ms,
      imagesPerSecond: (batch * times.length) / total,
    };
  }

  /**
   * Batch-1 runs, each after `pauseMs` of sleep, for about `seconds`: what one request pays when the
   * session has been idle, as at 1 client, where the server renders and answers between runs. On the
   * 2-vCPU development VM a 4 ms pause makes the same run 0.6-0.9 ms slower than back to back (caches and
   * idle vCPUs; it happens with one intra-op thread too). Median ms per run.
   */
  async measureBatch1AfterPause(
    pauseMs: number,
    seconds: number,
  ): Promise<{ pauseMs: number; runs: number; msP50: number }> {
    const feeds = this.feeds(1, 1000);
    const fetches = [this.manifest.image.output];
    const { times } = await timeRuns(() => runSession(this.loaded, feeds, fetches), {
      seconds,
      warmupRuns: 3,
      pauseMs,
    });
    return { pauseMs, runs: times.length, msP50: summarize(times).p50Ms };
  }

  /**
   * PNG rendering of single images: toRgbBytes alone; one image at a time in this thread (toRgbBytes and
   * encodeImage, as a render thread does it); then images/s through a RenderPool with one render thread
   * per core and `concurrency` renders in flight, for about `seconds` (the machine's PNG ceiling).
   */
  async measureEncode(concurrency: number, seconds: number, pngCompressionLevel: number): Promise<EncodeResult> {
    const S = this.manifest.image.size;
    const count = 32;
    const images = await this.runOnce(count, 5000);
    const length = outputRowLengths(this.manifest).image;
    const range = this.manifest.image.range;
    const sample = (i: number) => images.subarray((i % count) * length, ((i % count) + 1) * length);
    const render = (i: number) =>
      encodeImage(toRgbBytes(sample(i), S, range), S, S, { format: 'png', pngCompressionLevel });

    // toRgbBytes alone.
    let n = 0;
    let t0 = performance.now();
    while (performance.now() - t0 < Math.min(300, seconds * 250)) toRgbBytes(sample(n++), S, range);
    const toRgbMicrosPerImage = ((performance.now() - t0) * 1000) / n;

    // Warm-up, then one at a time.
    for (let i = 0; i < 8; i++) await render(i);
    n = 0;
    t0 = performance.now();
    while (performance.now() - t0 < Math.min(1000, seconds * 500)) await render(n++);
    const sequentialMsPerImage = (performance.now() - t0) / n;

    // The whole machine: render threads, one per core, as many renders in flight as `concurrency`. The
    // encode itself is synchronous, so in-thread concurrency would measure one core.
    const threads = availableParallelism();
    const pool = new RenderPool({ threads, tasksPerThread: Math.max(1, Math.ceil(concurrency / threads)) });
    const model = { image: this.manifest.image, attention: undefined };
    const spec: RenderSpec = {
      format: 'png',
      size: S,
      resample: 'nearest',
      attention: 'none',
      queries: [],
      pngCompressionLevel,
    };
    // The pool takes ownership of each row (moved to its thread), so every render gets its own copy.
    const renderOnPool = (i: number) => pool.render(model, { image: sample(i).slice(), attention: undefined }, 1, spec);
    let bytes = 0;
    let timed: { calls: number; wallSeconds: number };
    try {
      for (let i = 0; i < 2 * threads; i++) await renderOnPool(i);
      timed = await timeConcurrently(
        async (i) => {
          // Not `bytes += await ...`: that reads `bytes` before the await, and the other lanes' additions are lost.
          const png = await renderOnPool(i);
          bytes += png.length;
        },
        { seconds, concurrency },
      );
    } finally {
      await pool.close();
    }
    const { calls: done, wallSeconds: total } = timed;
    return {
      concurrency,
      threads,
      pngCompressionLevel,
      imageSize: S,
      images: done,
      seconds: total,
      imagesPerSecond: done / total,
      sequentialMsPerImage,
      toRgbMicrosPerImage,
      meanPngBytes: bytes / done,
    };
  }

  private async startInstances(): Promise<Worker[]> {
    if (this.instanceWorkers) return this.instanceWorkers;
    const workerData: RawInstanceData = {
      modelPath: this.modelPath,
      provider: this.provider,
      intraOpThreads: this.intraOpThreads,
      graphOptimizationLevel: this.graphOptimizationLevel,
    };
    const workers = Array.from(
      { length: this.instances },
      () => new Worker(new URL('./raw-instance.js', import.meta.url), { workerData }),
    );
    this.instanceWorkers = workers;
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            worker.once('error', reject);
            worker.once('message', (reply: RawInstanceReply) =>
              reply.type === 'ready'
                ? resolve()
                : reject(new Error(reply.type === 'error' ? reply.message : 'unexpected reply')),
            );
          }),
      ),
    );
    return workers;
  }

  async close(): Promise<void> {
    await Promise.all((this.instanceWorkers ?? []).map((worker) => worker.terminate()));
    await releaseSession(this.loaded);
  }
}
