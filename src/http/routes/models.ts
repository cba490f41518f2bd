/** The model repository: list and describe models, ready or not. */
import type { Router } from 'express';
import { ServeError } from '../../errors.js';
import type { ModelEntry, ModelRegistry } from '../../models/model-registry.js';
import type { AppDeps } from '../app.js';

export function describeModel(entry: ModelEntry): Record<string, unknown> {
  return {
    name: entry.name,
    status: entry.status,
    ...(entry.reason !== undefined ? { reason: entry.reason } : {}),
    ...(entry.provider !== undefined ? { provider: entry.provider } : {}),
    failed_providers: entry.failedProviders.map((a) => ({ provider: a.provider, error: a.error })),
    ...(entry.loadSeconds !== undefined ? { load_seconds: Number(entry.loadSeconds.toFixed(3)) } : {}),
    ...(entry.batching !== undefined ? { batching: entry.batching } : {}),
    ...(entry.batcher !== undefined ? { queue_depth: entry.batcher.queuedRows } : {}),
    ...(entry.manifest !== undefined ? { manifest: entry.manifest } : {}),
  };
}

export function findModel(registry: ModelRegistry, name: string): ModelEntry {
  const entry = registry.get(name);
  if (!entry) {
    throw new ServeError('UNKNOWN_MODEL', `unknown model '${name.slice(0, 100)}'`, { field: 'model', allowed: registry.list().map((m) => m.name) });
  }
  return entry;
}

/** Registers this module's routes on the app's API router (see app.ts). */
export function modelRoutes(router: Router, deps: AppDeps): void {
  router.get('/v1/models', (_req, res) => {
    res.json({ default_model: deps.registry.defaultModelName() ?? null, models: deps.registry.list().map(describeModel) });
  });
  router.get('/v1/models/:model', (req, res) => {
    res.json(describeModel(findModel(deps.registry, req.params.model)));
  });
}
