/**
 * The model repository: every model under MODELS_DIR (repository-scan.ts gives the layout), each version
 * loaded into its own instances (session workers, instance-group.ts) with its own batcher. A version that
 * fails anywhere (manifest, file, graph check, every provider) is kept as `unavailable` with the reason,
 * and the others serve.
 *
 * Versions and reloads (Triton's model control): `load(name)` re-reads a model's directory and brings up
 * the versions its policy selects. A new or changed version loads and warms beside the serving one; the
 * routes move to it only when it is ready (they always take the newest ready version); a version no
 * longer selected, or replaced, is retired: it leaves the routing at once and drains (the requests that
 * already hold it, queued, running or streaming, finish on it), and then its sessions are released. A
 * version that fails to load leaves the previous one serving. `unload(name)` retires every version and
 * removes the model (its routes then answer UNKNOWN_MODEL). Operations on one model run one at a time.
 *
 * This file decides which versions exist (scan, policy, swaps, lookups). A version's state (loading,
 * ready, unavailable with its reason, draining) and its transitions are model-version.ts's; loading one
 * is version-loader.ts's; draining and releasing one, and every one at shutdown, version-retirement.ts's.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config.js';
import { serveError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import { KnownModels } from './known-models.js';
import { ModelOperations } from './model-operations.js';
import { type ModelSlot, versionKey } from './model-slot.js';
import { isReady, type ModelVersion, type VersionContext } from './model-version.js';
import { repositoryIndex, type IndexRow } from './repository-index.js';
import { scanModel, scanRepository, selectedVersions, type ModelLocation } from './repository-scan.js';
import { UnknownModelError } from './unknown-model-error.js';
import type { Holder } from './version-holders.js';
import { VersionLoader } from './version-loader.js';
import type { VersionPolicy } from './version-policy.js';
import { VersionRetirement } from './version-retirement.js';

export interface LoadOptions {
  /** Load again versions whose unchanged files failed before (explicit load: yes; poll: no). */
  retryFailed?: boolean;
}

export class ModelRegistry {
  private readonly models: KnownModels;
  /** Set by close(): loads and unloads asked for after it are refused. */
  private closing = false;
  /**
   * Keyed by model directory: loads and unloads of one model run one at a time, whichever of its names
   * (model or directory) they were asked by. One that started after shutdown began would bring up
   * sessions nothing will release.
   */
  private readonly operations = new ModelOperations(() => {
    if (this.closing) throw serveError.SHUTTING_DOWN('repository changes are refused');
  });
  private readonly root: string;
  private readonly loader: VersionLoader;
  private readonly retirement: VersionRetirement;

  private constructor(
    private readonly config: Readonly<ServerConfig>,
    metrics: Metrics,
    private readonly logger: Logger,
  ) {
    this.root = path.resolve(config.modelsDir);
    const versionContext: VersionContext = { logger, repositoryRoot: this.root };
    this.models = new KnownModels(versionContext);
    this.loader = new VersionLoader({ config, metrics, logger, versionContext, closing: () => this.closing });
    this.retirement = new VersionRetirement({
      config,
      metrics,
      logger,
      routed: (name, version) => this.getVersion(name, version),
    });
  }

  /** Scans config.modelsDir and loads every model (in parallel). Never rejects for a bad model. */
  static async open(config: Readonly<ServerConfig>, metrics: Metrics, logger: Logger): Promise<ModelRegistry> {
    const registry = new ModelRegistry(config, metrics, logger);
    await registry.loadAll();
    return registry;
  }

  /** Each model's serving version (the newest ready one, else the newest), by name. */
  list(): ModelVersion[] {
    return this.models
      .all()
      .map((s) => s.serving())
      .filter((e): e is ModelVersion => e !== undefined)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The serving version of a model (by exact name; names are map keys, never joined into file paths). */
  get(name: string): ModelVersion | undefined {
    return this.models.get(name)?.serving();
  }

  /** One version of a model. */
  getVersion(name: string, version: string): ModelVersion | undefined {
    return this.models.get(name)?.versions.get(version);
  }

  /** Every version a model has loaded or tried to load, oldest first. */
  versionsOf(name: string): ModelVersion[] {
    return this.models.get(name)?.oldestFirst() ?? [];
  }

  /** DEFAULT_MODEL if set, else the only model, else undefined. */
  defaultModelName(): string | undefined {
    if (this.config.defaultModel) return this.config.defaultModel;
    return this.models.size === 1 ? this.models.names()[0] : undefined;
  }

  /** True when every model has a ready version (what /readyz reports). */
  allReady(): boolean {
    return this.models.size > 0 && this.models.all().every((s) => s.serving()?.status === 'ready');
  }

  /** Every model's versions with their state, the retired ones still draining included. */
  index(): IndexRow[] {
    return repositoryIndex(
      this.models.all().flatMap((s) => s.oldestFirst()),
      this.retirement.draining(),
    );
  }

  /** Model directories in the repository (what load() accepts besides the models already known). */
  async repositoryModelNames(): Promise<string[]> {
    const known = new Set(this.models.names());
    for (const location of await scanRepository(this.root).catch(() => [])) known.add(location.dirName);
    return [...known].sort();
  }

  /**
   * Keeps `entry` from being released until `response` emits 'close' (the HTTP response ends or the client
   * leaves): a version retired meanwhile finishes this request first.
   */
  hold(entry: ModelVersion, response: Holder): void {
    entry.hold(response);
  }

  /**
   * (Re)reads model `name`'s directory and brings up the versions its policy selects (see the top of
   * this file). `name` is a model already known, or the name of a directory in the repository. Resolves
   * when the new versions are ready or have failed; the previous ones are then retiring.
   */
  load(name: string, options: LoadOptions = {}): Promise<ModelVersion[]> {
    const dir = this.models.dirFor(name);
    return this.operations.run(dir, async () => {
      // The model became known under this name, in another directory, while this load waited.
      if (this.models.dirFor(name) !== dir) return this.load(name, options);
      // A flat model's directory may be named otherwise than the model: both names reach its slot.
      const slot = this.models.get(name) ?? this.models.inDir(dir);
      if (!slot && (path.basename(name) !== name || name.startsWith('.'))) throw new UnknownModelError(name);
      const location = await scanModel(dir);
      if (!location) {
        if (slot) this.logger.warn({ model: name }, 'load: the model directory has no model.json any more; unloading');
        if (slot) await this.retireSlot(slot);
        throw new UnknownModelError(name);
      }
      await this.apply(location, slot, options.retryFailed ?? true);
      return this.versionsOf(this.models.inDir(location.dir)?.name ?? name);
    });
  }

  /** Retires every version of model `name` and removes it; resolves once its sessions are released. */
  unload(name: string): Promise<void> {
    return this.operations.run(this.models.dirFor(name), async () => {
      const slot = this.models.get(name);
      if (!slot) throw new UnknownModelError(name);
      await this.retireSlot(slot);
    });
  }

  /** Resolves when every retired version has been released (its sessions closed). */
  settled(): Promise<void> {
    return this.retirement.settled();
  }

  /**
   * Graceful stop: refuse new work, let queued and running batches finish for up to graceMs, then fail
   * what is left with SHUTTING_DOWN and release every session.
   */
  async close(graceMs: number): Promise<void> {
    this.closing = true;
    // Every routed version that holds workers, whatever its state: one that lost its workers (unavailable)
    // still has a batcher and a worker retrying its restart.
    const withWorkers = this.models
      .all()
      .flatMap((s) => [...s.versions.values()])
      .filter((e) => e.serving !== undefined);
    await this.retirement.shutdown(withWorkers, graceMs);
  }

  /** The repository's model directories; undefined (logged, with what follows) when it cannot be read. */
  private async scan(unreadable: string): Promise<ModelLocation[] | undefined> {
    return scanRepository(this.root).catch((err: unknown) => {
      this.logger.error(
        { modelsDir: this.root, err: (err as Error).message },
        `cannot read the models directory${unreadable}`,
      );
      return undefined;
    });
  }

  private async loadAll(): Promise<void> {
    const locations = await this.scan('');
    if (!locations) return;
    if (locations.length === 0)
      this.logger.warn({ modelsDir: this.root }, 'no model.json found in any subdirectory of the models directory');
    await Promise.all(
      locations.map((location) => this.operations.run(location.dir, () => this.apply(location, undefined, true))),
    );
  }

  /**
   * Brings every model to what the repository holds now (poll mode): new directories load, changed
   * versions reload, models whose directory is gone unload. Files that already failed to load are not
   * retried until they change. Resolves when every change has settled; never rejects.
   */
  async sync(): Promise<void> {
    const locations = await this.scan('; keeping the models loaded');
    if (!locations) return;
    const present = new Set(locations.map((l) => l.dir));
    const work = locations.map((location) =>
      this.load(this.models.inDir(location.dir)?.name ?? location.dirName, { retryFailed: false }),
    );
    for (const slot of this.models.all()) {
      if (!present.has(slot.location.dir)) work.push(this.unload(slot.name).then(() => []));
    }
    const results = await Promise.allSettled(work);
    for (const r of results) {
      if (r.status === 'rejected' && !(r.reason instanceof UnknownModelError))
        this.logger.error({ err: (r.reason as Error).message }, 'repository sync failed');
    }
  }

  /**
   * Brings a model to what its directory says: loads new and changed selected versions, then retires the
   * versions no longer needed (see the top of this file).
   */
  private async apply(location: ModelLocation, existing: ModelSlot | undefined, retryFailed: boolean): Promise<void> {
    if (location.policyError)
      this.logger.warn(
        { model: location.dirName, reason: location.policyError },
        'invalid config.json; serving the latest version',
      );
    // Read every selected version's manifest first: the model's name comes from it in the flat layout.
    const candidates = await Promise.all(selectedVersions(location).map((v) => this.loader.read(location, v)));
    const flatName = location.layout === 'flat' ? candidates[0]?.manifest?.name : undefined;
    const slot = existing ?? this.models.add(flatName ?? location.dirName, location);
    // A directory listed as a duplicate of another model's name still is one: nothing of it loads.
    if (!slot || (flatName !== undefined && flatName !== slot.name && this.models.get(flatName))) return;
    slot.location = location;
    await Promise.all(candidates.map((candidate) => this.bringUp(slot, candidate, retryFailed)));
    // Versions no longer selected leave once a selected version serves (else the newest ready one stays).
    for (const entry of slot.removeUnselected(new Set(candidates.map(versionKey)))) void this.retirement.retire(entry);
  }

  /**
   * Loads one selected version unless its files are the ones already routed to (or already failed, in
   * poll mode). Ready, it replaces the version routed under its key, which retires; failed, it is shown
   * with its reason, or only recorded on that version if it serves.
   */
  private async bringUp(slot: ModelSlot, candidate: ModelVersion, retryFailed: boolean): Promise<void> {
    const key = versionKey(candidate);
    const current = slot.versions.get(key);
    if (current && current.fingerprint === candidate.fingerprint && (current.status !== 'unavailable' || !retryFailed))
      return;
    // Changed files that already failed to replace a serving version wait for the next change (poll mode).
    if (!retryFailed && current?.failedFingerprint === candidate.fingerprint) return;
    if (candidate.status === 'loading') {
      // A new version is listed (as loading) while it loads; a changed one is swapped in when ready.
      if (!current) slot.versions.set(key, candidate);
      await this.loader.start(slot.name, candidate);
    }
    if (!isReady(candidate) && current && isReady(current)) {
      current.recordReloadFailure(candidate.reason!, candidate.fingerprint);
      this.logger.error(
        { model: slot.name, version: key, reason: candidate.reason },
        'reload failed; the loaded version keeps serving',
      );
      return;
    }
    if (current) void this.retirement.retire(current);
    slot.versions.set(key, candidate);
  }

  /** Removes a model from the routing and retires all its versions; resolves when they are released. */
  private async retireSlot(slot: ModelSlot): Promise<void> {
    this.models.remove(slot);
    await Promise.all([...slot.versions.values()].map((e) => this.retirement.retire(e)));
  }
}

export type { VersionPolicy };
