/**
 * The model repository: every `<MODELS_DIR>/<dir>/model.json` found at start, each loaded into its
 * instances (session workers, instance-group.ts) with its own batcher. A model that fails anywhere
 * (manifest, file, graph check, every provider) is kept as `unavailable` with the reason, and the others
 * serve.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { BatchingConfig, ServerConfig } from '../config.js';
import { Batcher } from '../batching/batcher.js';
import { InstanceGroup, intraOpThreadsPerInstance } from '../inference/instance-group.js';
import type { ProviderAttempt, ProviderName } from '../inference/ort-session.js';
import type { Metrics } from '../metrics.js';
import { checkGraph, checkWarmupDims, ManifestError, parseManifest, type ModelManifest } from './manifest.js';

export type ModelStatus = 'loading' | 'ready' | 'unavailable';

export interface ModelEntry {
  name: string;
  /** Directory holding model.json (server-side only; never sent to clients). */
  dir: string;
  status: ModelStatus;
  /** Why the model is unavailable. */
  reason?: string;
  manifest?: ModelManifest;
  provider?: ProviderName;
  /** Providers tried before `provider` and why each failed. */
  failedProviders: ProviderAttempt[];
  loadSeconds?: number;
  batching?: BatchingConfig;
  batcher?: Batcher;
  instances?: InstanceGroup;
}

/** A ready model: everything a request needs. */
export type ReadyModel = ModelEntry & Required<Pick<ModelEntry, 'manifest' | 'provider' | 'batcher' | 'instances' | 'batching'>>;

export function isReady(entry: ModelEntry): entry is ReadyModel {
  return entry.status === 'ready';
}

/** Longest a single run may take before the worker is declared hung (ms). */
const MIN_RUN_TIMEOUT_MS = 60_000;

export class ModelRegistry {
  private readonly entries = new Map<string, ModelEntry>();

  private constructor(
    private readonly config: Readonly<ServerConfig>,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {}

  /** Scans config.modelsDir and loads every model (in parallel). Never rejects for a bad model. */
  static async open(config: Readonly<ServerConfig>, metrics: Metrics, logger: Logger): Promise<ModelRegistry> {
    const registry = new ModelRegistry(config, metrics, logger);
    await registry.loadAll();
    return registry;
  }

  list(): ModelEntry[] {
    return [...this.entries.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Looks a model up by exact name. Names are map keys, never joined into file paths. */
  get(name: string): ModelEntry | undefined {
    return this.entries.get(name);
  }

  /** DEFAULT_MODEL if set, else the only model, else undefined. */
  defaultModelName(): string | undefined {
    if (this.config.defaultModel) return this.config.defaultModel;
    return this.entries.size === 1 ? [...this.entries.keys()][0] : undefined;
  }

  /** True when every model found is ready (what /readyz reports). */
  allReady(): boolean {
    return this.entries.size > 0 && [...this.entries.values()].every((e) => e.status === 'ready');
  }

  private async loadAll(): Promise<void> {
    const root = path.resolve(this.config.modelsDir);
    let dirs: string[];
    try {
      // Symlinked model directories count too: mounted volumes and Kubernetes ConfigMaps present models that way.
      dirs = (await readdir(root, { withFileTypes: true }))
        .filter((d) => d.isDirectory() || d.isSymbolicLink()).map((d) => d.name).sort();
    } catch (err) {
      this.logger.error({ modelsDir: root, err: (err as Error).message }, 'cannot read the models directory');
      return;
    }
    const candidates: string[] = [];
    for (const dir of dirs) {
      const manifestPath = path.join(root, dir, 'model.json');
      if (await stat(manifestPath).then((s) => s.isFile(), () => false)) candidates.push(path.join(root, dir));
    }
    if (candidates.length === 0) this.logger.warn({ modelsDir: root }, 'no model.json found in any subdirectory of the models directory');
    await Promise.all(candidates.map((dir) => this.loadOne(dir)));
  }

  private markUnavailable(entry: ModelEntry, reason: string): void {
    entry.status = 'unavailable';
    // The reason is served by GET /v1/models; ONNX Runtime's messages name the absolute model path, so
    // server paths are shown relative to MODELS_DIR there (the log keeps the full text).
    const root = path.dirname(entry.dir);
    entry.reason = reason.replaceAll(`${root}${path.sep}`, '').replaceAll(root, '.');
    this.logger.error({ model: entry.name, reason }, 'model unavailable');
  }

  private async loadOne(dir: string): Promise<void> {
    const dirName = path.basename(dir);
    const entry: ModelEntry = { name: dirName, dir, status: 'loading', failedProviders: [] };
    let manifest: ModelManifest;
    try {
      const text = await readFile(path.join(dir, 'model.json'), 'utf8');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (err) {
        throw new ManifestError(`model.json is not valid JSON: ${(err as Error).message}`);
      }
      manifest = parseManifest(json);
    } catch (err) {
      this.register(entry);
      this.markUnavailable(entry, `invalid manifest: ${(err as Error).message}`);
      return;
    }
    entry.name = manifest.name;
    entry.manifest = manifest;
    if (!this.register(entry)) return;
    const modelPath = path.join(dir, manifest.file);
    if (!(await stat(modelPath).then((s) => s.isFile(), () => false))) {
      this.markUnavailable(entry, `model file '${manifest.file}' (manifest.file) does not exist`);
      return;
    }
    const batching: BatchingConfig = {
      maxBatchSize: manifest.batching?.maxBatchSize ?? this.config.maxBatchSize,
      maxQueueDelayMs: manifest.batching?.maxQueueDelayMs ?? this.config.maxQueueDelayMs,
      maxQueueSize: manifest.batching?.maxQueueSize ?? this.config.maxQueueSize,
      requestTimeoutMs: manifest.batching?.requestTimeoutMs ?? this.config.requestTimeoutMs,
      instances: manifest.batching?.instances ?? this.config.instances,
    };
    const instances = new InstanceGroup(batching.instances, {
      load: {
        modelPath, providers: [...this.config.executionProviders], threadNice: this.config.workerNice,
        intraOpThreads: intraOpThreadsPerInstance(this.config.intraOpThreads, batching.instances),
        latentInput: manifest.latent.input, latentDim: manifest.latent.dim, classInput: manifest.class_input,
        outputs: [manifest.image.output, ...(manifest.attention ? [manifest.attention.output] : [])],
      },
      imageOutput: manifest.image.output,
      attentionOutput: manifest.attention?.output,
      runTimeoutMs: Math.max(MIN_RUN_TIMEOUT_MS, batching.requestTimeoutMs),
      onEvent: (event, detail) => {
        if (event === 'restarted') this.metrics.workerRestarts.inc({ model: entry.name });
        this.logger.warn({ model: entry.name, event, detail }, 'inference worker event');
        // When no instance can run (the last one's restart failed) the model is unavailable (readiness, 503
        // with the reason) until a later retry succeeds, instead of a ready model whose every request fails.
        // While another instance runs, it serves alone.
        if (event === 'restart-failed' && entry.status === 'ready' && !instances.anyRunning) this.markUnavailable(entry, `inference worker restart failed: ${detail}`);
        if (event === 'restarted' && entry.status === 'unavailable' && entry.batcher) {
          entry.status = 'ready';
          delete entry.reason;
        }
      },
    });
    try {
      const loaded = await instances.start();
      entry.failedProviders = loaded.failedAttempts;
      for (const attempt of loaded.failedAttempts) {
        this.logger.warn({ model: entry.name, provider: attempt.provider, reason: attempt.error }, 'execution provider failed; falling back');
      }
      const problems = [...checkGraph(manifest, loaded.inputs, loaded.outputs), ...checkWarmupDims(manifest, 1, loaded.warmupDims)];
      if (problems.length > 0) {
        await instances.close();
        this.markUnavailable(entry, `graph does not match the manifest: ${problems.join('; ')}`);
        return;
      }
      entry.provider = loaded.provider;
      entry.loadSeconds = loaded.loadSeconds;
      // MODEL_INSTANCES=0 is settled by the provider the first instance got.
      batching.instances = instances.instances.length;
      entry.batching = batching;
      entry.instances = instances;
      const size = manifest.image.size;
      const attentionRowLength = manifest.attention
        ? manifest.attention.grid[0] * manifest.attention.grid[1] * manifest.attention.key_grid[0] * manifest.attention.key_grid[1]
        : 0;
      entry.batcher = new Batcher(
        instances,
        { latentDim: manifest.latent.dim, imageRowLength: 3 * size * size, attentionRowLength },
        batching,
        this.metrics.batcherObserver(entry.name, () => entry.provider ?? 'none'),
      );
      entry.status = 'ready';
      this.metrics.modelInfo.set({ model: entry.name, version: manifest.version, provider: loaded.provider }, 1);
      this.metrics.modelLoadDuration.set({ model: entry.name }, loaded.loadSeconds);
      this.logger.info({ model: entry.name, version: manifest.version, provider: loaded.provider, loadSeconds: Number(loaded.loadSeconds.toFixed(3)), untrained: manifest.untrained ?? false, batching }, 'model ready');
    } catch (err) {
      await instances.close().catch(() => undefined);
      entry.failedProviders = [];
      this.markUnavailable(entry, (err as Error).message);
    }
  }

  /** Adds the entry; a second model with the same name is registered under its directory name as unavailable. */
  private register(entry: ModelEntry): boolean {
    if (!this.entries.has(entry.name)) {
      this.entries.set(entry.name, entry);
      return true;
    }
    const clash = entry.name;
    entry.name = `${path.basename(entry.dir)}${this.entries.has(path.basename(entry.dir)) ? `@${this.entries.size}` : ''}`;
    this.entries.set(entry.name, entry);
    this.markUnavailable(entry, `another model directory already serves the name '${clash}'`);
    return false;
  }

  /**
   * Graceful stop: refuse new work, let queued and running batches finish for up to graceMs, then fail
   * what is left with SHUTTING_DOWN and release every session.
   */
  async close(graceMs: number): Promise<void> {
    const ready = [...this.entries.values()].filter(isReady);
    const drained = Promise.all(ready.map((e) => e.batcher.close()));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      drained.then(() => false),
      new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), graceMs); }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      this.logger.warn({ graceMs }, 'grace period over; failing queued requests');
      for (const e of ready) e.batcher.abortQueued();
    }
    await Promise.all(ready.map((e) => e.instances.close()));
  }
}
