/**
 * One version of a model and its lifecycle (Triton's model_lifecycle): the state is a discriminated
 * union, and this class makes every transition, so a version is never ready without what serving needs
 * nor unavailable without a reason.
 *
 *   loading --ready(serving)--> ready --workerLost(reason)--> unavailable (serving kept) --workerBack()--> ready
 *      \--fail(reason)--> unavailable
 *
 * The repository side (which directories hold which versions, what to load, swap and retire) is
 * model-registry.ts's; this file only knows one version.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import type { BatchingConfig } from '@sagan-serve/model-contract/batching-config';
import type { ModelManifest } from '@sagan-serve/model-contract/manifest';
import type { ProviderAttempt, ProviderName } from '@sagan-serve/model-contract/ort-session';
import type { Batcher } from '../batching/batcher.js';
import type { InstanceGroup } from '../inference/instance-group.js';
import { VersionHolders } from './version-holders.js';

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
  | { readonly status: 'unavailable'; readonly reason: string; readonly serving?: Serving };

export type ModelStatus = ModelState['status'];

/** Where failures are logged, and the repository root that reasons shown to clients are made relative to. */
export interface VersionContext {
  logger: Logger;
  repositoryRoot: string;
}

export class ModelVersion {
  private current: ModelState = { status: 'loading' };
  readonly dir: string;
  readonly fingerprint: string;
  /** From the manifest once it is read (until then the directory's name and version). */
  name: string;
  version: string | undefined;
  manifest?: ModelManifest;
  /** Providers tried before the one serving, and why each failed. */
  failedProviders: ProviderAttempt[] = [];
  /** Why the last reload of this version's changed files failed (the loaded files keep serving). */
  reloadError?: string;
  /** The fingerprint of those failed files (poll mode waits for them to change again). */
  failedFingerprint?: string;
  /** Responses using this version now (ModelRegistry.hold()). */
  readonly holders = new VersionHolders();

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
    this.name = where.name;
    this.version = where.version;
    this.dir = where.dir;
    this.fingerprint = where.fingerprint;
  }

  get state(): ModelState { return this.current; }
  get status(): ModelStatus { return this.current.status; }
  get reason(): string | undefined { return this.current.status === 'unavailable' ? this.current.reason : undefined; }
  /** What the version serves with: while ready, and while unavailable after losing its workers. */
  get serving(): Serving | undefined { return this.current.status === 'loading' ? undefined : this.current.serving; }
  get provider(): ProviderName | undefined { return this.serving?.provider; }
  get loadSeconds(): number | undefined { return this.serving?.loadSeconds; }
  get batching(): BatchingConfig | undefined { return this.serving?.batching; }
  get batcher(): Batcher | undefined { return this.serving?.batcher; }
  get instances(): InstanceGroup | undefined { return this.serving?.instances; }
  get contentDigest(): string | undefined { return this.serving?.contentDigest; }

  /** loading: the manifest was read and checked; the version takes its name and version from it. */
  manifestRead(manifest: ModelManifest): void {
    this.expect('loading', 'manifestRead');
    this.name = manifest.name;
    this.version = manifest.version;
    this.manifest = manifest;
  }

  /** loading -> ready. */
  ready(serving: Serving): void {
    this.expect('loading', 'ready');
    this.current = { status: 'ready', serving };
  }

  /** loading -> unavailable: the version did not load (manifest, file, graph, every provider). */
  fail(reason: string): void {
    this.expect('loading', 'fail');
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

  private becomeUnavailable(reason: string, serving?: Serving): void {
    const root = this.context.repositoryRoot;
    // The reason is served by GET /v1/models; ONNX Runtime's messages name the absolute model path, so
    // server paths are shown relative to MODELS_DIR there (the log keeps the full text).
    const shown = reason.replaceAll(`${root}${path.sep}`, '').replaceAll(root, '.');
    this.current = serving ? { status: 'unavailable', reason: shown, serving } : { status: 'unavailable', reason: shown };
    this.context.logger.error({ model: this.name, version: this.version, reason }, 'model unavailable');
  }

  private expect(status: ModelStatus, transition: string): void {
    if (this.current.status !== status) throw new Error(`model ${this.name} version ${this.version}: ${transition} while ${this.current.status}`);
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
