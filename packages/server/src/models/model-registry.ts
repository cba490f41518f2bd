/**
 * The model repository: every model under MODELS_DIR (repository-scan.ts gives the layout), each version
 * loaded into its own instances (session workers, instance-group.ts) with its own batcher. A version that
 * fails anywhere (manifest, file, graph check, every provider) is kept as `unavailable` with the reason,
 * and the others serve.
 *
 * Versions and reloads (Triton's model control): `load(name)` re-reads a model's directory and brings up
 * the versions its policy selects. A new or changed version loads and warms beside the serving one; the
 * routes move to it only when it is ready (they always take the newest ready version); a version no
 * longer selected, or replaced, is retired: it leaves the routing at once, the requests that already
 * hold it (queued, running, streaming) finish on it, and then its sessions are released. A version that
 * fails to load leaves the previous one serving. `unload(name)` retires every version and removes the
 * model (its routes then answer UNKNOWN_MODEL). Operations on one model run one at a time.
 *
 * Each version's state (loading, ready, unavailable with its reason) and its transitions are
 * model-version.ts's; this file decides which versions exist and loads them.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { impossibleBatching, type BatchingConfig } from '@sagan-serve/model-contract/batching-config';
import type { ServerConfig } from '../config.js';
import { serveError } from '../errors.js';
import { Batcher } from '../batching/batcher.js';
import { InstanceGroup, intraOpThreadsPerInstance } from '../inference/instance-group.js';
import type { LoadedReply } from '../inference/worker-protocol.js';
import type { Metrics } from '../metrics.js';
import { checkGraph, checkWarmupDims, ManifestError, parseManifest, type ModelManifest } from '@sagan-serve/model-contract/manifest';
import { contentDigest } from './content-digest.js';
import { scanModel, scanRepository, type ModelLocation, type VersionLocation } from './repository-scan.js';
import { compareVersions, selectVersions, type VersionPolicy } from './version-policy.js';
import { isReady, ModelVersion, type ModelStatus, type Serving, type VersionContext } from './model-version.js';
import type { Holder } from './version-holders.js';
import { settlesWithin } from '../settles-within.js';

/** One model: its directory, policy and the versions it serves. */
interface ModelSlot {
  name: string;
  location: ModelLocation;
  /** By version; a version's key is its version string (or its directory name while unreadable). */
  versions: Map<string, ModelVersion>;
}

/** A row of the repository index (POST /v1/repository/index). */
export interface IndexRow {
  name: string;
  version: string | null;
  state: ModelStatus;
  reason?: string;
}

export interface LoadOptions {
  /** Load again versions whose unchanged files failed before (explicit load: yes; poll: no). */
  retryFailed?: boolean;
}

/** Longest a single run may take before the worker is declared hung (ms). */
const MIN_RUN_TIMEOUT_MS = 60_000;
/**
 * What a shutdown may take past SHUTDOWN_GRACE_MS, step by step; together under the CLI's 5 s backstop
 * (with server.ts's own steps): batches already running, then responses being rendered or written, then
 * releasing sessions (and versions being retired) once the rest was cut.
 */
const RUNS_AFTER_GRACE_MS = 2000;
const RESPONSES_AFTER_GRACE_MS = 1000;
const RELEASE_AFTER_CUT_MS = 500;

export class ModelRegistry {
  private readonly slots = new Map<string, ModelSlot>();
  /**
   * Per model directory, the tail of its chain of operations: loads and unloads of one model run one at
   * a time, whichever of its names (model or directory) they were asked by.
   */
  private readonly operations = new Map<string, Promise<unknown>>();
  /** The versions being retired, each with its release (their holders are cut at shutdown too). */
  private readonly retiring = new Map<ModelVersion, Promise<void>>();
  /** Set by close(): loads and unloads asked for after it are refused. */
  private closing = false;
  private readonly root: string;
  private readonly versionContext: VersionContext;

  private constructor(
    private readonly config: Readonly<ServerConfig>,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {
    this.root = path.resolve(config.modelsDir);
    this.versionContext = { logger, repositoryRoot: this.root };
  }

  /** Scans config.modelsDir and loads every model (in parallel). Never rejects for a bad model. */
  static async open(config: Readonly<ServerConfig>, metrics: Metrics, logger: Logger): Promise<ModelRegistry> {
    const registry = new ModelRegistry(config, metrics, logger);
    await registry.loadAll();
    return registry;
  }

  /** Each model's serving version (the newest ready one, else the newest), by name. */
  list(): ModelVersion[] {
    return [...this.slots.values()].map((s) => this.serving(s)).filter((e): e is ModelVersion => e !== undefined).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The serving version of a model (by exact name; names are map keys, never joined into file paths). */
  get(name: string): ModelVersion | undefined {
    const slot = this.slots.get(name);
    return slot ? this.serving(slot) : undefined;
  }

  /** One version of a model. */
  getVersion(name: string, version: string): ModelVersion | undefined {
    return this.slots.get(name)?.versions.get(version);
  }

  /** Every version a model has loaded or tried to load, oldest first. */
  versionsOf(name: string): ModelVersion[] {
    const slot = this.slots.get(name);
    return slot ? [...slot.versions.values()].sort((a, b) => compareVersions(a.version ?? '', b.version ?? '')) : [];
  }

  /** DEFAULT_MODEL if set, else the only model, else undefined. */
  defaultModelName(): string | undefined {
    if (this.config.defaultModel) return this.config.defaultModel;
    return this.slots.size === 1 ? [...this.slots.keys()][0] : undefined;
  }

  /** True when every model has a ready version (what /readyz reports). */
  allReady(): boolean {
    return this.slots.size > 0 && [...this.slots.values()].every((s) => this.serving(s)?.status === 'ready');
  }

  /** Every model's versions with their state (the repository index). */
  index(): IndexRow[] {
    return [...this.slots.values()].sort((a, b) => a.name.localeCompare(b.name)).flatMap((s) => this.versionsOf(s.name).map((e) => ({
      name: e.name, version: e.version ?? null, state: e.status, ...(e.reason !== undefined ? { reason: e.reason } : {}),
    })));
  }

  /** Model directories in the repository (what load() accepts besides the models already known). */
  async repositoryModelNames(): Promise<string[]> {
    const known = new Set(this.slots.keys());
    for (const location of await scanRepository(this.root).catch(() => [])) known.add(location.dirName);
    return [...known].sort();
  }

  /**
   * Keeps `entry` from being released until `done` emits 'close' (the HTTP response ends or the client
   * leaves): a version retired meanwhile finishes this request first.
   */
  hold(entry: ModelVersion, response: Holder): void {
    entry.holders.add(response);
  }

  /**
   * (Re)reads model `name`'s directory and brings up the versions its policy selects (see the top of
   * this file). `name` is a model already known, or the name of a directory in the repository. Resolves
   * when the new versions are ready or have failed; the previous ones are then retiring.
   */
  load(name: string, options: LoadOptions = {}): Promise<ModelVersion[]> {
    const dir = this.dirFor(name);
    return this.serialize(dir, async () => {
      // The model became known under this name, in another directory, while this load waited.
      if (this.dirFor(name) !== dir) return this.load(name, options);
      // A flat model's directory may be named otherwise than the model: both names reach its slot.
      const slot = this.slots.get(name) ?? this.slotIn(dir);
      if (!slot && (path.basename(name) !== name || name.startsWith('.'))) throw new UnknownModelError(name);
      const location = await scanModel(dir);
      if (!location) {
        if (slot) this.logger.warn({ model: name }, 'load: the model directory has no model.json any more; unloading');
        if (slot) await this.retireSlot(slot);
        throw new UnknownModelError(name);
      }
      await this.apply(location, slot, options.retryFailed ?? true);
      return this.versionsOf(this.slotNameFor(location) ?? name);
    });
  }

  /** Retires every version of model `name` and removes it; resolves once its sessions are released. */
  unload(name: string): Promise<void> {
    return this.serialize(this.dirFor(name), async () => {
      const slot = this.slots.get(name);
      if (!slot) throw new UnknownModelError(name);
      await this.retireSlot(slot);
    });
  }

  /** Resolves when every retired version has been released (its sessions closed). */
  async settled(): Promise<void> {
    while (this.retiring.size > 0) await Promise.all([...this.retiring.values()]);
  }

  /**
   * Graceful stop: refuse new work, let queued and running batches finish for up to graceMs, then fail
   * what is left with SHUTTING_DOWN and release every session.
   */
  async close(graceMs: number): Promise<void> {
    this.closing = true;
    const graceEnds = performance.now() + graceMs;
    const untilGraceEnds = () => Math.max(0, graceEnds - performance.now());
    // Every version that holds workers, whatever its state: one that lost its workers (unavailable) still
    // has a batcher and a worker retrying its restart.
    const withWorkers = [...this.slots.values()].flatMap((s) => [...s.versions.values()]).filter((e) => e.serving !== undefined);
    const parts = (e: ModelVersion): Serving => e.serving!;
    const idle = () => Promise.all(withWorkers.map((e) => parts(e).batcher.close()));
    if (!(await settlesWithin(idle(), untilGraceEnds()))) {
      this.logger.warn({ graceMs }, 'grace period over; failing queued requests');
      for (const e of withWorkers) parts(e).batcher.abortQueued();
      // Batches already in session.run are accepted work: they get a moment past the grace period.
      await settlesWithin(idle(), RUNS_AFTER_GRACE_MS);
    }
    // Responses still being rendered or written (streams, large images) get the rest of the grace period
    // and a moment more; then they are cut, which also lets versions being retired (an unload or reload
    // in progress) finish.
    const held = [...this.retiring.keys(), ...withWorkers];
    const written = await settlesWithin(Promise.all(held.map((e) => e.holders.whenEmpty())), untilGraceEnds() + RESPONSES_AFTER_GRACE_MS);
    const cut = held.reduce((sum, e) => sum + e.holders.cutAll(), 0);
    if (!written || cut > 0) {
      this.logger.warn({ graceMs, responses: cut }, 'grace period over; cutting responses still being written');
      this.metrics.responsesCut.inc({ reason: 'shutdown' }, cut);
    }
    await Promise.all(withWorkers.map((e) => parts(e).instances.close(RELEASE_AFTER_CUT_MS)));
    await settlesWithin(Promise.all([...this.retiring.values()]), RELEASE_AFTER_CUT_MS);
  }

  // -------------------------------------------------------------------------------------------

  private serving(slot: ModelSlot): ModelVersion | undefined {
    const all = [...slot.versions.values()].sort((a, b) => compareVersions(b.version ?? '', a.version ?? ''));
    return all.find(isReady) ?? all[0];
  }

  private serialize<T>(name: string, op: () => Promise<T>): Promise<T> {
    const previous = this.operations.get(name) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => {
      // A load that started after shutdown began would bring up sessions nothing will release.
      if (this.closing) throw serveError.SHUTTING_DOWN('repository changes are refused');
      return op();
    });
    const tail = next.catch(() => undefined);
    this.operations.set(name, tail);
    void tail.then(() => { if (this.operations.get(name) === tail) this.operations.delete(name); });
    return next;
  }

  private async loadAll(): Promise<void> {
    let locations: ModelLocation[];
    try {
      locations = await scanRepository(this.root);
    } catch (err) {
      this.logger.error({ modelsDir: this.root, err: (err as Error).message }, 'cannot read the models directory');
      return;
    }
    if (locations.length === 0) this.logger.warn({ modelsDir: this.root }, 'no model.json found in any subdirectory of the models directory');
    await Promise.all(locations.map((location) => this.serialize(location.dir, () => this.apply(location, undefined, true))));
  }

  /**
   * Brings every model to what the repository holds now (poll mode): new directories load, changed
   * versions reload, models whose directory is gone unload. Files that already failed to load are not
   * retried until they change. Resolves when every change has settled; never rejects.
   */
  async sync(): Promise<void> {
    let locations: ModelLocation[];
    try {
      locations = await scanRepository(this.root);
    } catch (err) {
      this.logger.error({ modelsDir: this.root, err: (err as Error).message }, 'cannot read the models directory; keeping the models loaded');
      return;
    }
    const present = new Set(locations.map((l) => l.dir));
    const work = locations.map((location) => {
      const name = this.slotNameFor(location) ?? location.dirName;
      return this.load(name, { retryFailed: false });
    });
    for (const slot of [...this.slots.values()]) {
      if (!present.has(slot.location.dir)) work.push(this.unload(slot.name).then(() => []));
    }
    const results = await Promise.allSettled(work);
    for (const r of results) {
      if (r.status === 'rejected' && !(r.reason instanceof UnknownModelError)) this.logger.error({ err: (r.reason as Error).message }, 'repository sync failed');
    }
  }

  /** The directory model `name` lives in: a known model's, else the repository directory of that name. */
  private dirFor(name: string): string {
    return this.slots.get(name)?.location.dir ?? path.join(this.root, path.basename(name));
  }

  /** The slot of the model in `dir`, if any. */
  private slotIn(dir: string): ModelSlot | undefined {
    for (const slot of this.slots.values()) if (slot.location.dir === dir) return slot;
    return undefined;
  }

  /** The name of the slot a location belongs to, if any. */
  private slotNameFor(location: ModelLocation): string | undefined {
    return this.slotIn(location.dir)?.name;
  }

  /**
   * Brings a model to what its directory says: loads new and changed selected versions, then retires the
   * versions no longer needed (see the top of this file).
   */
  private async apply(location: ModelLocation, existing: ModelSlot | undefined, retryFailed: boolean): Promise<void> {
    if (location.policyError) this.logger.warn({ model: location.dirName, reason: location.policyError }, 'invalid config.json; serving the latest version');
    const found = new Map<string, VersionLocation>();
    for (const v of location.versions) found.set(v.version ?? '', v);
    const selected = location.layout === 'flat' ? [...found.keys()] : selectVersions(location.policy, [...found.keys()]);
    // Read every selected version's manifest first: the model's name comes from it in the flat layout.
    const candidates = await Promise.all(selected.map((key) => this.readVersion(location, found.get(key)!)));
    let slot = existing;
    if (!slot) {
      const name = location.layout === 'flat' ? candidates[0]?.manifest?.name ?? location.dirName : location.dirName;
      slot = this.register(name, location);
      if (!slot) return;
    }
    const flatName = location.layout === 'flat' ? candidates[0]?.manifest?.name : undefined;
    if (flatName !== undefined && flatName !== slot.name && this.slots.has(flatName)) {
      // The directory listed as a duplicate of another model's name still is one: nothing of it loads.
      return;
    }
    slot.location = location;
    const loads: Promise<void>[] = [];
    const keep = new Set<string>();
    for (const candidate of candidates) {
      const key = candidate.version ?? path.basename(candidate.dir);
      keep.add(key);
      const current = slot.versions.get(key);
      if (current && current.fingerprint === candidate.fingerprint && (current.status !== 'unavailable' || !retryFailed)) continue;
      // Changed files that already failed to replace a serving version wait for the next change (poll mode).
      if (!retryFailed && current?.failedFingerprint === candidate.fingerprint) continue;
      if (candidate.status === 'unavailable') {
        // An unreadable manifest: a new version is shown with its reason; a loaded one keeps serving.
        if (current && isReady(current)) {
          current.reloadError = candidate.reason;
          current.failedFingerprint = candidate.fingerprint;
        } else slot.versions.set(key, candidate);
        continue;
      }
      loads.push(this.startVersion(slot, candidate).then(() => {
        if (isReady(candidate)) {
          if (current) void this.retire(current);
          slot.versions.set(key, candidate);
        } else if (current && isReady(current)) {
          current.reloadError = candidate.reason;
          current.failedFingerprint = candidate.fingerprint;
          this.logger.error({ model: slot.name, version: key, reason: candidate.reason }, 'reload failed; the loaded version keeps serving');
        } else {
          if (current) void this.retire(current);
          slot.versions.set(key, candidate);
        }
      }));
      // A new version is listed (as loading) while it loads; a changed one is swapped in when ready.
      if (!current) slot.versions.set(key, candidate);
    }
    await Promise.all(loads);
    // Versions no longer selected leave once a selected version serves (else the newest ready one stays).
    const anySelectedReady = [...keep].some((k) => slot.versions.get(k)?.status === 'ready');
    const stale = [...slot.versions.entries()].filter(([k]) => !keep.has(k)).sort(([a], [b]) => compareVersions(b, a));
    let fallbackKept = anySelectedReady;
    for (const [key, entry] of stale) {
      if (!fallbackKept && isReady(entry)) {
        fallbackKept = true;
        continue;
      }
      slot.versions.delete(key);
      void this.retire(entry);
    }
  }

  /** Reads and checks a version's manifest (no session yet); a bad one leaves the version unavailable. */
  private async readVersion(location: ModelLocation, v: VersionLocation): Promise<ModelVersion> {
    const entry = new ModelVersion(this.versionContext, { name: location.dirName, version: v.version, dir: v.dir, fingerprint: v.fingerprint });
    try {
      const text = await readFile(path.join(v.dir, 'model.json'), 'utf8');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (err) {
        throw new ManifestError(`model.json is not valid JSON: ${(err as Error).message}`);
      }
      const manifest = parseManifest(json);
      if (location.layout === 'versioned') {
        if (manifest.name !== location.dirName) throw new ManifestError(`name '${manifest.name}' differs from its model directory '${location.dirName}' (versioned layout)`);
        if (manifest.version !== v.version) throw new ManifestError(`version '${manifest.version}' differs from its directory '${v.version}' (versioned layout)`);
      }
      entry.manifestRead(manifest);
    } catch (err) {
      entry.fail(`invalid manifest: ${(err as Error).message}`);
    }
    return entry;
  }

  /**
   * Loads a version whose manifest was read: model file, instances (each provider in turn), the graph
   * against the manifest, then its batcher. The version ends ready or unavailable with the reason.
   */
  private async startVersion(slot: ModelSlot, entry: ModelVersion): Promise<void> {
    const manifest = entry.manifest!;
    const labels = { model: slot.name, version: entry.version! };
    const modelPath = path.join(entry.dir, manifest.file);
    if (!(await stat(modelPath).then((s) => s.isFile(), () => false))) {
      entry.fail(`model file '${manifest.file}' (manifest.file) does not exist`);
      return;
    }
    const batching = this.batchingFor(manifest);
    const source = (field: 'maxBatchSize' | 'maxQueueSize', env: string) => (manifest.batching?.[field] !== undefined ? `manifest.batching.${field}` : env);
    const impossible = impossibleBatching(batching, { maxBatchSize: source('maxBatchSize', 'MAX_BATCH_SIZE'), maxQueueSize: source('maxQueueSize', 'MAX_QUEUE_SIZE') });
    if (impossible) {
      entry.fail(`batching: ${impossible}`);
      return;
    }
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
        if (event === 'restarted') this.metrics.workerRestarts.inc(labels);
        this.logger.warn({ ...labels, event, detail }, 'inference worker event');
        // When no instance can run (the last one's restart failed) the version is unavailable (readiness, 503
        // with the reason) until a later retry succeeds, instead of a ready version whose every request fails.
        // While another instance runs, it serves alone.
        if (event === 'restart-failed' && !instances.anyRunning) entry.workerLost(`inference worker restart failed: ${detail}`);
        if (event === 'restarted') entry.workerBack();
      },
    });
    let serving: Serving;
    try {
      // Hashed as the version loads: files changed meanwhile no longer match the scan's fingerprint, so
      // the next load (or poll) reloads them.
      const digest = await contentDigest(entry.dir);
      const loaded = await instances.start();
      entry.failedProviders = loaded.failedAttempts;
      for (const attempt of loaded.failedAttempts) {
        this.logger.warn({ ...labels, provider: attempt.provider, reason: attempt.error }, 'execution provider failed; falling back');
      }
      const problems = [...checkGraph(manifest, loaded.inputs, loaded.outputs), ...warmupProblems(manifest, loaded)];
      if (problems.length > 0) {
        await instances.close();
        entry.fail(`graph does not match the manifest: ${problems.join('; ')}`);
        return;
      }
      // MODEL_INSTANCES=0 is settled by the provider the first instance got.
      batching.instances = instances.instances.length;
      serving = { provider: loaded.provider, loadSeconds: loaded.loadSeconds, batching, instances, batcher: this.batcherFor(manifest, instances, batching, labels, () => entry.provider ?? 'none'), contentDigest: digest };
      this.metrics.modelInfo.set({ ...labels, provider: loaded.provider }, 1);
      this.metrics.modelLoadDuration.set(labels, loaded.loadSeconds);
    } catch (err) {
      // The start, or any step after it, threw: nothing of this version serves.
      await instances.close().catch(() => undefined);
      entry.failedProviders = [];
      entry.fail((err as Error).message);
      return;
    }
    if (this.closing) {
      // Shutdown began while this version loaded: close() did not see it, so it releases itself.
      await serving.instances.close();
      entry.fail('the server shut down while this version loaded');
      return;
    }
    entry.ready(serving);
    this.logger.info({ ...labels, provider: serving.provider, loadSeconds: Number(serving.loadSeconds.toFixed(3)), untrained: manifest.untrained ?? false, batching }, 'model ready');
  }

  /** The manifest's batching block over the server's defaults. */
  private batchingFor(manifest: ModelManifest): BatchingConfig {
    return {
      maxBatchSize: manifest.batching?.maxBatchSize ?? this.config.maxBatchSize,
      maxQueueDelayMs: manifest.batching?.maxQueueDelayMs ?? this.config.maxQueueDelayMs,
      maxQueueSize: manifest.batching?.maxQueueSize ?? this.config.maxQueueSize,
      requestTimeoutMs: manifest.batching?.requestTimeoutMs ?? this.config.requestTimeoutMs,
      instances: manifest.batching?.instances ?? this.config.instances,
    };
  }

  private batcherFor(manifest: ModelManifest, instances: InstanceGroup, batching: BatchingConfig, labels: { model: string; version: string }, provider: () => string): Batcher {
    const size = manifest.image.size;
    const attention = manifest.attention;
    const attentionRowLength = attention ? attention.grid[0] * attention.grid[1] * attention.key_grid[0] * attention.key_grid[1] : 0;
    return new Batcher(
      instances,
      { latentDim: manifest.latent.dim, imageRowLength: 3 * size * size, attentionRowLength },
      batching,
      this.metrics.batcherObserver(labels.model, labels.version, provider),
    );
  }

  /**
   * Adds a model. A second directory serving a name already taken is listed under its directory name as
   * unavailable, and nothing of it is loaded (undefined).
   */
  private register(name: string, location: ModelLocation): ModelSlot | undefined {
    if (!this.slots.has(name)) {
      const slot: ModelSlot = { name, location, versions: new Map() };
      this.slots.set(name, slot);
      return slot;
    }
    const slotName = `${location.dirName}${this.slots.has(location.dirName) ? `@${this.slots.size}` : ''}`;
    const entry = new ModelVersion(this.versionContext, { name: slotName, version: undefined, dir: location.dir, fingerprint: '' });
    this.slots.set(slotName, { name: slotName, location, versions: new Map([['', entry]]) });
    entry.fail(`another model directory already serves the name '${name}'`);
    return undefined;
  }

  /** Removes a model from the routing and retires all its versions; resolves when they are released. */
  private async retireSlot(slot: ModelSlot): Promise<void> {
    this.slots.delete(slot.name);
    await Promise.all([...slot.versions.values()].map((e) => this.retire(e)));
  }

  /**
   * Releases a version no longer routed to: waits for its holders (requests that took it before the
   * switch) to finish, lets its batcher drain, then closes its instances. Resolves when released.
   */
  private retire(entry: ModelVersion): Promise<void> {
    const already = this.retiring.get(entry);
    if (already) return already;
    const done = (async () => {
      const deadline = performance.now() + this.config.releaseTimeoutMs;
      if (!(await settlesWithin(entry.holders.whenEmpty(), this.config.releaseTimeoutMs))) {
        const cut = entry.holders.cutAll();
        this.logger.warn({ model: entry.name, version: entry.version, responses: cut, releaseTimeoutMs: this.config.releaseTimeoutMs }, 'release deadline passed; cutting the responses still using the version');
        this.metrics.responsesCut.inc({ reason: 'release_timeout' }, cut);
        await settlesWithin(entry.holders.whenEmpty(), RELEASE_AFTER_CUT_MS);
      }
      // Work queued by requests that were cut is cancelled with them; what is left (an in-flight batch)
      // gets what remains of the deadline, and the instances' own close bounds a run still in progress.
      if (entry.batcher && !(await settlesWithin(entry.batcher.close(), Math.max(0, deadline - performance.now())))) entry.batcher.abortQueued();
      if (entry.instances) await entry.instances.close();
      if (entry.version !== undefined && entry.provider !== undefined) {
        // A reload under the same version string has set these labels again for its successor: they are its now.
        const successor = this.slots.get(entry.name)?.versions.get(entry.version);
        const relabelled = successor !== undefined && successor !== entry && successor.provider !== undefined;
        if (!relabelled || successor?.provider !== entry.provider) this.metrics.modelInfo.remove({ model: entry.name, version: entry.version, provider: entry.provider });
        if (!relabelled) this.metrics.forgetVersion(entry.name, entry.version);
      }
      this.logger.info({ model: entry.name, version: entry.version }, 'model version released');
    })().catch((err: unknown) => {
      // Callers do not wait for a release (a swap retires the old version in the background): a failure
      // is logged, never left as an unhandled rejection.
      this.logger.error({ model: entry.name, version: entry.version, err }, 'releasing the model version failed');
    });
    this.retiring.set(entry, done);
    void done.finally(() => this.retiring.delete(entry));
    return done;
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

/** load() or unload() of a model that is neither known nor a directory of the repository. */
export class UnknownModelError extends Error {
  constructor(readonly model: string) {
    super(`no model '${model.slice(0, 100)}' in the model repository`);
    this.name = 'UnknownModelError';
  }
}

export type { VersionPolicy };
