/**
 * One model of the repository: its directory (layout and version policy) and the versions routed to, by
 * version string; which of them answers the routes that name no version, and which are left over when
 * the policy no longer selects them.
 */
import path from 'node:path';
import { isReady, type ModelVersion } from './model-version.js';
import type { ModelLocation } from './repository-scan.js';
import { compareVersions } from './version-policy.js';

const newestFirst = (a: ModelVersion, b: ModelVersion) => compareVersions(b.version ?? '', a.version ?? '');

export class ModelSlot {
  /** By versionKey(). */
  readonly versions = new Map<string, ModelVersion>();

  constructor(
    readonly name: string,
    public location: ModelLocation,
  ) {}

  /** The newest ready version, else the newest. */
  serving(): ModelVersion | undefined {
    const all = [...this.versions.values()].sort(newestFirst);
    return all.find(isReady) ?? all[0];
  }

  /** Every version, oldest first. */
  oldestFirst(): ModelVersion[] {
    return [...this.versions.values()].sort((a, b) => newestFirst(b, a));
  }

  /**
   * Takes out the versions whose keys are not `selected` and returns them, to be retired; while no
   * selected version is ready, the newest ready one stays and serves.
   */
  removeUnselected(selected: ReadonlySet<string>): ModelVersion[] {
    let fallbackKept = [...selected].some((k) => this.versions.get(k)?.status === 'ready');
    const stale = [...this.versions.entries()]
      .filter(([k]) => !selected.has(k))
      .sort(([a], [b]) => compareVersions(b, a));
    const removed: ModelVersion[] = [];
    for (const [key, entry] of stale) {
      if (!fallbackKept && isReady(entry)) {
        fallbackKept = true;
        continue;
      }
      this.versions.delete(key);
      removed.push(entry);
    }
    return removed;
  }
}

/** The key a version is routed under in its model: its version string, or its directory's name while unreadable. */
export function versionKey(entry: ModelVersion): string {
  return entry.version ?? path.basename(entry.dir);
}
