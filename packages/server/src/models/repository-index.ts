/** The repository index (POST /v1/repository/index): one row per model version, with its state. */
import type { ModelStatus, ModelVersion } from './model-version.js';
import { compareVersions } from './version-policy.js';

export interface IndexRow {
  name: string;
  version: string | null;
  state: ModelStatus;
  reason?: string;
}

/**
 * The rows of the versions routed to and of those retired and still draining, by model name and
 * version; a draining version comes after a routed one of the same version string (a same-version reload).
 */
export function repositoryIndex(routed: readonly ModelVersion[], draining: readonly ModelVersion[]): IndexRow[] {
  return [...routed, ...draining]
    .sort((a, b) => a.name.localeCompare(b.name) || compareVersions(a.version ?? '', b.version ?? ''))
    .map((e) => ({
      name: e.name,
      version: e.version ?? null,
      state: e.status,
      ...(e.reason !== undefined ? { reason: e.reason } : {}),
    }));
}
