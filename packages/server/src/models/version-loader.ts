/**
 * Loading one model version, in order: its manifest (read()), then (start()) its model file, its batching,
 * its session workers (each execution provider in turn, instance-group.ts), the graph against the
 * manifest, its batcher and its metrics. The version ends ready, or unavailable with the reason and
 * nothing of it left running. Which versions to load, and what happens to the one a new version
 * replaces, is model-registry.ts's.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { impossibleBatching, type BatchingConfig } from '@sagan-serve/model-contract/batching-config';
import { checkGraph, checkWarmupDims, ManifestError, type ModelManifest } from '@sagan-serve/model-contract/manifest';
import { readModelManifest } from '@sagan-serve/model-contract/manifest-file';
import { outputRowLengths } from '@sagan-serve/model-contract/output-shapes';
import { laneSettings, type ServerConfig } from '../config.js';
import { Batcher, systemClock } from '../batching/batcher.js';
import { InstanceGroup, intraOpThreadsPerInstance } from '../inference/instance-group.js';
import type { LoadedReply } from '../inference/worker-protocol.js';
import type { Metrics } from '../metrics.js';
import { batchSpansFor } from '../telemetry/batch-spans.js';
import { contentDigest } from './content-digest.js';
import { ModelVersion, type Serving, type VersionContext } from './model-version.js';
import type { ModelLocation, VersionLocation } from './repository-scan.js';

/** Longest a single run may take before the worker is declared hung (ms). */
const MIN_RUN_TIMEOUT_MS = 60_000;

/** The metric labels of one version. */
interface VersionLabels {
  model: string;
  version: string;
}

export interface VersionLoaderDeps {
  config: Readonly<ServerConfig>;
  metrics: Metrics;
  logger: Logger;
  versionContext: VersionContext;
  /** True once shutdown began: a version that finishes loading after that releases itself. */
  closing(): boolean;
}

export class VersionLoader {
  constructor(private readonly deps: VersionLoaderDeps) {}

  /** A version whose manifest was read and checked (no session yet); a bad one is left unavailable. */
  async read(location: ModelLocation, v: VersionLocation): Promise<ModelVersion> {
    const entry = new ModelVersion(this.deps.versionContext, {
      name: location.dirName,
      version: v.version,
      dir: v.dir,
      fingerprint: v.fingerprint,
    });
    try {
      const manifest = await readModelManifest(v.dir);
      if (location.layout === 'versioned') {
        if (manifest.name !== location.dirName)
          throw new ManifestError(
            `name '${manifest.name}' differs from its model directory '${location.dirName}' (versioned layout)`,
          );
        if (manifest.version !== v.version)
          throw new ManifestError(
            `version '${manifest.version}' differs from its directory '${v.version}' (versioned layout)`,
          );
      }
      entry.manifestRead(manifest);
    } catch (err) {
      entry.fail(`invalid manifest: ${(err as Error).message}`);
    }
    return entry;
  }

  /**
   * Loads a version read() left loading, under model name `model`. Resolves when it is ready or
   * unavailable.
   */
  async start(model: string, entry: ModelVersion): Promise<void> {
    const manifest = entry.manifest!;
    const labels: VersionLabels = { model, version: entry.version! };
    const modelPath = path.join(entry.dir, manifest.file);
    if (
      !(await stat(modelPath).then(
        (s) => s.isFile(),
        () => false,
      ))
    ) {
      entry.fail(`model file '${manifest.file}' (manifest.file) does not exist`);
      return;
    }
    const batching = this.batchingFor(manifest);
    const source = (field: 'maxBatchSize' | 'maxQueueSize', env: string) =>
      manifest.batching?.[field] !== undefined ? `manifest.batching.${field}` : env;
    const impossible = impossibleBatching(batching, {
      maxBatchSize: source('maxBatchSize', 'MAX_BATCH_SIZE'),
      maxQueueSize: source('maxQueueSize', 'MAX_QUEUE_SIZE'),
    });
    if (impossible) {
      entry.fail(`batching: ${impossible}`);
      return;
    }
    const instances = this.instancesFor(entry, modelPath, batching, labels);
    let serving: Serving;
    let loaded: LoadedReply;
    try {
      // Hashed as the version loads: files changed meanwhile no longer match the scan's fingerprint, so
      // the next load (or poll) reloads them.
      const digest = await contentDigest(entry.dir);
      loaded = await instances.start();
      for (const attempt of loaded.failedAttempts) {
        this.deps.logger.warn(
          { ...labels, provider: attempt.provider, reason: attempt.error },
          'execution provider failed; falling back',
        );
      }
      const problems = [...checkGraph(manifest, loaded.inputs, loaded.outputs), ...warmupProblems(manifest, loaded)];
      if (problems.length > 0) {
        await instances.close();
        entry.fail(`graph does not match the manifest: ${problems.join('; ')}`, loaded.failedAttempts);
        return;
      }
      // MODEL_INSTANCES=0 is settled by the provider the first instance got.
      batching.instances = instances.instances.length;
      const batcher = this.batcherFor(manifest, instances, batching, labels, () => entry.provider ?? 'none');
      serving = {
        provider: loaded.provider,
        loadSeconds: loaded.loadSeconds,
        batching,
        instances,
        batcher,
        contentDigest: digest,
      };
      this.deps.metrics.modelInfo.set({ ...labels, provider: loaded.provider }, 1);
      this.deps.metrics.modelLoadDuration.set(labels, loaded.loadSeconds);
    } catch (err) {
      // The start, or any step after it, threw: nothing of this version serves.
      await instances.close().catch(() => undefined);
      entry.fail((err as Error).message);
      return;
    }
    if (this.deps.closing()) {
      // Shutdown began while this version loaded: close() did not see it, so it releases itself.
      await serving.instances.close();
      entry.fail('the server shut down while this version loaded', loaded.failedAttempts);
      return;
    }
    entry.ready(serving, loaded.failedAttempts);
    this.deps.logger.info(
      {
        ...labels,
        provider: serving.provider,
        loadSeconds: Number(serving.loadSeconds.toFixed(3)),
        untrained: manifest.untrained ?? false,
        batching,
      },
      'model ready',
    );
  }

  /** The manifest's batching block over the server's defaults. */
  private batchingFor(manifest: ModelManifest): BatchingConfig {
    const { config } = this.deps;
    return {
      maxBatchSize: manifest.batching?.maxBatchSize ?? config.maxBatchSize,
      maxQueueDelayMs: manifest.batching?.maxQueueDelayMs ?? config.maxQueueDelayMs,
      maxQueueSize: manifest.batching?.maxQueueSize ?? config.maxQueueSize,
      requestTimeoutMs: manifest.batching?.requestTimeoutMs ?? config.requestTimeoutMs,
      instances: manifest.batching?.instances ?? config.instances,
    };
  }

  /** The version's session workers (not started), whose restarts move it between ready and unavailable. */
  private instancesFor(
    entry: ModelVersion,
    modelPath: string,
    batching: BatchingConfig,
    labels: VersionLabels,
  ): InstanceGroup {
    const { config, metrics, logger } = this.deps;
    const manifest = entry.manifest!;
    const instances = new InstanceGroup(batching.instances, {
      load: {
        modelPath,
        providers: [...config.executionProviders],
        threadNice: config.workerNice,
        intraOpThreads: intraOpThreadsPerInstance(config.intraOpThreads, batching.instances),
        latentInput: manifest.latent.input,
        latentDim: manifest.latent.dim,
        classInput: manifest.class_input,
        outputs: [manifest.image.output, ...(manifest.attention ? [manifest.attention.output] : [])],
      },
      imageOutput: manifest.image.output,
      attentionOutput: manifest.attention?.output,
      runTimeoutMs: Math.max(MIN_RUN_TIMEOUT_MS, batching.requestTimeoutMs),
      onEvent: (event, detail) => {
        if (event === 'restarted') metrics.workerRestarts.inc(labels);
        logger.warn({ ...labels, event, detail }, 'inference worker event');
        // When no instance can run (the last one's restart failed) the version is unavailable (readiness, 503
        // with the reason) until a later retry succeeds, instead of a ready version whose every request fails.
        // While another instance runs, it serves alone.
        if (event === 'restart-failed' && !instances.anyRunning)
          entry.workerLost(`inference worker restart failed: ${detail}`);
        if (event === 'restarted') entry.workerBack();
      },
    });
    return instances;
  }

  private batcherFor(
    manifest: ModelManifest,
    instances: InstanceGroup,
    batching: BatchingConfig,
    labels: VersionLabels,
    provider: () => string,
  ): Batcher {
    const rows = outputRowLengths(manifest);
    return new Batcher(
      instances,
      { latentDim: manifest.latent.dim, imageRowLength: rows.image, attentionRowLength: rows.attention ?? 0 },
      { ...batching, lanes: laneSettings(this.deps.config) },
      this.deps.metrics.batcherObserver(labels.model, labels.version, provider),
      systemClock,
      batchSpansFor(labels.model, labels.version, provider),
    );
  }
}

/** What the warm-up runs (batch 1, then batch 2) found against the manifest's output dims. */
function warmupProblems(manifest: ModelManifest, loaded: Pick<LoadedReply, 'warmupDims' | 'batchTwo'>): string[] {
  const atOne = checkWarmupDims(manifest, 1, loaded.warmupDims);
  const two = loaded.batchTwo;
  if (atOne.length > 0 || !two) return atOne;
  if ('error' in two) return [`a warm-up run at batch 2 failed (the batch axis must be dynamic): ${two.error}`];
  return checkWarmupDims(manifest, 2, two.dims);
}
