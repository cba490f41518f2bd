/**
 * Releasing model versions. A retired version (no longer routed to) drains: the responses that took it
 * before the switch (queued, running, streaming) finish on it, up to RELEASE_TIMEOUT_MS, after which they
 * are cut; then its batcher finishes, its sessions are closed and its metrics forgotten, and it is gone.
 * At shutdown every version that holds workers is closed under the grace period, with the versions still
 * draining. Which versions are retired, and when, is model-registry.ts's.
 */
import type { Logger } from 'pino';
import type { ServerConfig } from '../config.js';
import type { Metrics } from '../metrics.js';
import { settlesWithin } from '../settles-within.js';
import type { ModelVersion, Serving } from './model-version.js';

/**
 * What a shutdown may take past SHUTDOWN_GRACE_MS, step by step; together under the CLI's 5 s backstop
 * (with server.ts's own steps): batches already running, then responses being rendered or written, then
 * releasing sessions (and versions being retired) once the rest was cut.
 */
const RUNS_AFTER_GRACE_MS = 2000;
const RESPONSES_AFTER_GRACE_MS = 1000;
const RELEASE_AFTER_CUT_MS = 500;

export interface VersionRetirementDeps {
  config: Readonly<ServerConfig>;
  metrics: Metrics;
  logger: Logger;
  /** The version now routed under a model name and version string (a same-version reload's successor). */
  routed(name: string, version: string): ModelVersion | undefined;
}

export class VersionRetirement {
  /** The versions draining, each with its release. */
  private readonly retiring = new Map<ModelVersion, Promise<void>>();

  constructor(private readonly deps: VersionRetirementDeps) {}

  /** The versions retired and not yet released. */
  draining(): ModelVersion[] {
    return [...this.retiring.keys()];
  }

  /**
   * Drains and releases a version the registry no longer routes to; resolves when it is released (a
   * version already retiring gives its release). Never rejects: a failure is logged.
   */
  retire(entry: ModelVersion): Promise<void> {
    const already = this.retiring.get(entry);
    if (already) return already;
    if (!entry.drain()) return Promise.resolve();
    const done = this.release(entry).catch((err: unknown) => {
      // Callers do not wait for a release (a swap retires the old version in the background): a failure
      // is logged, never left as an unhandled rejection.
      this.deps.logger.error({ model: entry.name, version: entry.version, err }, 'releasing the model version failed');
    });
    this.retiring.set(entry, done);
    void done.finally(() => this.retiring.delete(entry));
    return done;
  }

  /** Resolves when every retired version has been released (its sessions closed). */
  async settled(): Promise<void> {
    while (this.retiring.size > 0) await Promise.all([...this.retiring.values()]);
  }

  /**
   * Graceful stop of `withWorkers` (every routed version that holds workers, whatever its state): let
   * queued and running batches finish for up to graceMs, then fail what is left with SHUTTING_DOWN, cut
   * the responses still written (also those holding draining versions) and release every session.
   */
  async shutdown(withWorkers: ModelVersion[], graceMs: number): Promise<void> {
    const { logger, metrics } = this.deps;
    const graceEnds = performance.now() + graceMs;
    const untilGraceEnds = () => Math.max(0, graceEnds - performance.now());
    const parts = (e: ModelVersion): Serving => e.serving!;
    const idle = () => Promise.all(withWorkers.map((e) => parts(e).batcher.close()));
    if (!(await settlesWithin(idle(), untilGraceEnds()))) {
      logger.warn({ graceMs }, 'grace period over; failing queued requests');
      for (const e of withWorkers) parts(e).batcher.abortQueued();
      // Batches already in session.run are accepted work: they get a moment past the grace period.
      await settlesWithin(idle(), RUNS_AFTER_GRACE_MS);
    }
    // Responses still being rendered or written (streams, large images) get the rest of the grace period
    // and a moment more; then they are cut, which also lets versions being retired (an unload or reload
    // in progress) finish.
    const held = [...this.retiring.keys(), ...withWorkers];
    const written = await settlesWithin(
      Promise.all(held.map((e) => e.whenUnheld())),
      untilGraceEnds() + RESPONSES_AFTER_GRACE_MS,
    );
    const cut = held.reduce((sum, e) => sum + e.cutHolders(), 0);
    if (!written || cut > 0) {
      logger.warn({ graceMs, responses: cut }, 'grace period over; cutting responses still being written');
      metrics.responsesCut.inc({ reason: 'shutdown' }, cut);
    }
    await Promise.all(withWorkers.map((e) => parts(e).instances.close(RELEASE_AFTER_CUT_MS)));
    await settlesWithin(Promise.all([...this.retiring.values()]), RELEASE_AFTER_CUT_MS);
  }

  /**
   * Waits for the version's holders, lets its batcher drain, closes its instances, then takes its gauges
   * down unless a successor under the same version string has them now.
   */
  private async release(entry: ModelVersion): Promise<void> {
    const { config, metrics, logger } = this.deps;
    const deadline = performance.now() + config.releaseTimeoutMs;
    if (!(await settlesWithin(entry.whenUnheld(), config.releaseTimeoutMs))) {
      const cut = entry.cutHolders();
      logger.warn(
        { model: entry.name, version: entry.version, responses: cut, releaseTimeoutMs: config.releaseTimeoutMs },
        'release deadline passed; cutting the responses still using the version',
      );
      metrics.responsesCut.inc({ reason: 'release_timeout' }, cut);
      await settlesWithin(entry.whenUnheld(), RELEASE_AFTER_CUT_MS);
    }
    // Work queued by requests that were cut is cancelled with them; what is left (an in-flight batch)
    // gets what remains of the deadline, and the instances' own close bounds a run still in progress.
    if (entry.batcher && !(await settlesWithin(entry.batcher.close(), Math.max(0, deadline - performance.now()))))
      entry.batcher.abortQueued();
    if (entry.instances) await entry.instances.close();
    if (entry.version !== undefined && entry.provider !== undefined) {
      // A reload under the same version string has set these labels again for its successor: they are its now.
      const successor = this.deps.routed(entry.name, entry.version);
      const relabelled = successor !== undefined && successor !== entry && successor.provider !== undefined;
      if (!relabelled || successor?.provider !== entry.provider)
        metrics.modelInfo.remove({ model: entry.name, version: entry.version, provider: entry.provider });
      if (!relabelled) metrics.forgetVersion(entry.name, entry.version);
    }
    logger.info({ model: entry.name, version: entry.version }, 'model version released');
  }
}
