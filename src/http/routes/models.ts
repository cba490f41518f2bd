/** The model repository: list and describe models, ready or not. */
import type { Router } from 'express';
import { ServeError } from '../../errors.js';
import type { ModelEntry, ModelRegistry } from '../../models/model-registry.js';
import type { AppDeps } from '../app.js';

/** One version's state. */
function describeVersion(entry: ModelEntry): Record<string, unknown> {
  return {
    version: entry.version ?? null,
    status: entry.status,
    ...(entry.reason !== undefined ? { reason: entry.reason } : {}),
    ...(entry.provider !== undefined ? { provider: entry.provider } : {}),
    failed_providers: entry.failedProviders.map((a) => ({ provider: a.provider, error: a.error })),
    ...(entry.loadSeconds !== undefined ? { load_seconds: Number(entry.loadSeconds.toFixed(3)) } : {}),
    ...(entry.batching !== undefined ? { batching: entry.batching } : {}),
    ...(entry.batcher !== undefined ? { queue_depth: entry.batcher.queuedRows } : {}),
    ...(entry.reloadError !== undefined ? { reload_error: entry.reloadError } : {}),
    ...(entry.manifest !== undefined ? { manifest: entry.manifest } : {}),
  };
}

/** A model: its serving version's state at the top level (as before versions), and every version. */
export function describeModel(entry: ModelEntry, versions: ModelEntry[]): Record<string, unknown> {
  return { name: entry.name, ...describeVersion(entry), versions: versions.map(describeVersion) };
}

/** The model, or one of its versions: UNKNOWN_MODEL / UNKNOWN_VERSION naming what exists. */
export function findModel(registry: ModelRegistry, name: string, version?: string): ModelEntry {
  const entry = registry.get(name);
  if (!entry) {
    throw new ServeError('UNKNOWN_MODEL', `unknown model '${name.slice(0, 100)}'`, { field: 'model', allowed: registry.list().map((m) => m.name) });
  }
  if (version === undefined) return entry;
  const pinned = registry.getVersion(name, version);
  if (!pinned) {
    throw new ServeError('UNKNOWN_VERSION', `model '${entry.name}' has no version '${version.slice(0, 100)}'`, { field: 'version', allowed: registry.versionsOf(name).map((v) => v.version ?? '').filter(Boolean) });
  }
  return pinned;
}


/** Registers this module's routes on the app's API router (see app.ts). */
export function modelRoutes(router: Router, deps: AppDeps): void {
  router.get('/v1/models', (_req, res) => {
    res.json({ default_model: deps.registry.defaultModelName() ?? null, models: deps.registry.list().map((m) => describeModel(m, deps.registry.versionsOf(m.name))) });
  });
  router.get('/v1/models/:model', (req, res) => {
    const entry = findModel(deps.registry, req.params.model);
    res.json(describeModel(entry, deps.registry.versionsOf(entry.name)));
  });
}
