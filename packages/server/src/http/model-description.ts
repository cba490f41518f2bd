/** How `GET /v1/models`, `GET /v1/models/{model}` and a repository load describe a model and its versions. */
import type { ModelVersion } from '../models/model-version.js';

/** One version's state. */
function describeVersion(entry: ModelVersion): Record<string, unknown> {
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
export function describeModel(entry: ModelVersion, versions: ModelVersion[]): Record<string, unknown> {
  return { name: entry.name, ...describeVersion(entry), versions: versions.map(describeVersion) };
}
