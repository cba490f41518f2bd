/**
 * One version of a model and its lifecycle (Triton's model_lifecycle): the state is a discriminated
 * union, and this class makes every transition and owns every field that changes, so a version is never
 * ready without what serving needs nor unavailable without a reason.
 *
 *   loading --ready(serving)--> ready --workerLost(reason)--> unavailable (serving kept) --workerBack()--> ready
 *      \--fail(reason)--> unavailable
 *   any of these --drain()--> draining (retired: out of the routing, its held responses finishing; once
 *                             released it is no longer listed anywhere)
 *
 * The repository side (which directories hold which versions, what to load, swap and retire) is
 * model-registry.ts's, loading one version version-loader.ts's and releasing one version-retirement.ts's;
 * this file only knows one version.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import type { BatchingConfig } from '@sagan-serve/model-contract/batching-config';
import type { ModelManifest } from '@sagan-serve/model-contract/manifest';
import type { ProviderAttempt, ProviderName } from '@sagan-serve/model-contract/ort-session';
import type { Batcher } from '../batching/batcher.js';
import type { InstanceGroup } from '../inference/instance-group.js';
import { VersionHolders, type Holder } from './version-holders.js';

/** What a loaded version serves with. */
export interface Serving {
  provider: ProviderName;
  loadSeconds: number;
  /** The manifest's batching over the server's defaults, with the instance count settled. */
  batching: BatchingConfig;
  batcher: Batcher;
  instances: InstanceGroup;
  /** The content digest of the files it was loaded from (content-digest.ts); part of its images' ETags. */
  contentDigest: string;
}

export type ModelState =
  | { readonly status: 'loading' }
  | { readonly status: 'ready'; readonly serving: Serving }
  /** `serving` is kept when the version had loaded and lost every worker: a restart may bring it back. */
  | { readonly status: 'unavailable'; readonly reason: string; readonly serving?: Serving }
  /** `serving` is kept while the responses that took the version before it was retired finish on it. */
  | { readonly status: 'draining'; readonly serving?: Serving };

export type ModelStatus = ModelState['status'];

/** Where failures are logged, and the repository root that reasons shown to clients are made relative to. */
export interface VersionContext {
  logger: Logger;
  repositoryRoot: string;
}

/** A reload of this version's changed files that failed while the loaded files kept serving. */
interface ReloadFailure {
  reason: string;
  /** The fingerprint of the failed files: poll mode waits for them to change again. */
  fingerprint: string;
}

export class ModelVersion {
  private current: ModelState = { status: 'loading' };
  readonly dir: string;
  readonly fingerprint: string;
  private identity: { name: string; version: string | undefined };
  private readManifest?: ModelManifest;
  private providersFailed: readonly ProviderAttempt[] = [];
  private reloadFailure?: ReloadFailure;
  private readonly holders = new VersionHolders();

  constructor(
    private readonly context: VersionContext,
    where: {
      name: string;
      version: string | undefined;
      /** Directory holding model.json (server-side only; never sent to clients). */
      dir: string;
      /** The files' fingerprint when it was read (repository-scan.ts). */
      fingerprint: string;
    },
  ) {
    this.identity = { name: where.name, version: where.version };
    this.dir = where.dir;
    this.fingerprint = where.fingerprint;
  }

  get state(): ModelState {
    return this.current;
  }
  get status(): ModelStatus {
    return this.current.status;
  }
  get reason(): string | undefined {
    return this.current.status === 'unavailable' ? this.current.reason : undefined;
  }
  /** From the manifest once it is read (until then the directory's name and version). */
  get name(): string {
    return this.identity.name;
  }
  get version(): string | undefined {
    return this.identity.version;
  }
  get manifest(): ModelManifest | undefined {
    return this.readManifest;
  }
  /** Providers tried before the one serving (or before the load failed), and why each failed. */
  get failedProviders(): readonly ProviderAttempt[] {
    return this.providersFailed;
  }
  /** Why the last reload of this version's changed files failed (the loaded files keep serving). */
  get reloadError(): string | undefined {
    return this.reloadFailure?.reason;
  }
  /** The fingerprint of those failed files. */
  get failedFingerprint(): string | undefined {
    return this.reloadFailure?.fingerprint;
  }
  /** What the version serves with: while ready, while unavailable after losing its workers, and while draining. */
  get serving(): Serving | undefined {
    return this.current.status === 'loading' ? undefined : this.current.serving;
  }
  get provider(): ProviderName | undefined {
    return this.serving?.provider;
  }
  get loadSeconds(): number | undefined {
    return this.serving?.loadSeconds;
  }
  get batching(): BatchingConfig | undefined {
    return this.serving?.batching;
  }
  get batcher(): Batcher | undefined {
    return this.serving?.batcher;
  }
  get instances(): InstanceGroup | undefined {
    return this.serving?.instances;
  }
  get contentDigest(): string | undefined {
    return this.serving?.contentDigest;
  }

  /** loading: the manifest was read and checked; the version takes its name and version from it. */
  manifestRead(manifest: ModelManifest): void {
    this.expect('loading', 'manifestRead');
    this.identity = { name: manifest.name, version: manifest.version };
    this.readManifest = manifest;
  }

  /** loading -> ready, with the providers that failed before the one serving. */
  ready(serving: Serving, failedProviders: readonly ProviderAttempt[] = []): void {
    this.expect('loading', 'ready');
    this.providersFailed = failedProviders;
    this.current = { status: 'ready', serving };
  }

  /** loading -> unavailable: the version did not load (manifest, file, graph, every provider). */
  fail(reason: string, failedProviders: readonly ProviderAttempt[] = []): void {
    this.expect('loading', 'fail');
    this.providersFailed = failedProviders;
    this.becomeUnavailable(reason);
  }

  /** ready -> unavailable: no instance can run (the last restart failed). False when not ready. */
  workerLost(reason: string): boolean {
    if (this.current.status !== 'ready') return false;
    this.becomeUnavailable(reason, this.current.serving);
    return true;
  }

  /** unavailable after workerLost -> ready: an instance was restarted. False otherwise. */
  workerBack(): boolean {
    if (this.current.status !== 'unavailable' || !this.current.serving) return false;
    this.current = { status: 'ready', serving: this.current.serving };
    return true;
  }

  /**
   * While ready: new files under this version failed to load; this version keeps serving, and shows why
   * (until a later reload replaces it).
   */
  recordReloadFailure(reason: string, fingerprint: string): void {
    this.expect('ready', 'recordReloadFailure');
    this.reloadFailure = { reason, fingerprint };
  }

  /** Any state but draining -> draining: the version was retired. False when it already was. */
  drain(): boolean {
    if (this.current.status === 'draining') return false;
    this.current = { status: 'draining', serving: this.serving };
    return true;
  }

  /** Keeps the version from being released until `holder` emits 'close' (its response ended). */
  hold(holder: Holder): void {
    this.holders.add(holder);
  }

  /** Resolves once no response holds the version (callers bound the wait). */
  whenUnheld(): Promise<void> {
    return this.holders.whenEmpty();
  }

  /** Cuts every response still holding the version; returns how many there were. */
  cutHolders(): number {
    return this.holders.cutAll();
  }

  private becomeUnavailable(reason: string, serving?: Serving): void {
    const root = this.context.repositoryRoot;
    // The reason is served by GET /v1/models; ONNX Runtime's messages name the absolute model path, so
    // server paths are shown relative to MODELS_DIR there (the log keeps the full text).
    const shown = reason.replaceAll(`${root}${path.sep}`, '').replaceAll(root, '.');
    this.current = serving
      ? { status: 'unavailable', reason: shown, serving }
      : { status: 'unavailable', reason: shown };
    this.context.logger.error({ model: this.name, version: this.version, reason }, 'model unavailable');
  }

  private expect(status: ModelStatus, transition: string): void {
    if (this.current.status !== status)
      throw new Error(`model ${this.name} version ${this.version}: ${transition} while ${this.current.status}`);
  }
}

/** A ready model version: everything a request needs. */
export type ReadyModel = ModelVersion & {
  readonly version: string;
  readonly manifest: ModelManifest;
  readonly provider: ProviderName;
  readonly loadSeconds: number;
  readonly batching: BatchingConfig;
  readonly batcher: Batcher;
  readonly instances: InstanceGroup;
  readonly contentDigest: string;
};

export function isReady(entry: ModelVersion): entry is ReadyModel {
  return entry.status === 'ready';
}
