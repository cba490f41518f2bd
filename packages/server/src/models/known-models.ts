/**
 * The models the registry knows, by name, each with its directory. A model is reached by its name or by
 * its directory (a flat model's name is its manifest's, not its directory's). A second directory that
 * claims a name already taken is known under its own directory's name instead, with one version that is
 * unavailable and says why, and nothing of it loads.
 */
import path from 'node:path';
import { ModelSlot } from './model-slot.js';
import { ModelVersion, type VersionContext } from './model-version.js';
import type { ModelLocation } from './repository-scan.js';

export class KnownModels {
  private readonly byName = new Map<string, ModelSlot>();

  constructor(private readonly versionContext: VersionContext) {}

  get size(): number {
    return this.byName.size;
  }

  get(name: string): ModelSlot | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  all(): ModelSlot[] {
    return [...this.byName.values()];
  }

  /** The model in `dir`, if any. */
  inDir(dir: string): ModelSlot | undefined {
    return this.all().find((slot) => slot.location.dir === dir);
  }

  /** The directory model `name` lives in: a known model's, else the repository directory of that name. */
  dirFor(name: string): string {
    return this.byName.get(name)?.location.dir ?? path.join(this.versionContext.repositoryRoot, path.basename(name));
  }

  /** Adds model `name` from `location`; undefined when another directory serves that name already. */
  add(name: string, location: ModelLocation): ModelSlot | undefined {
    if (!this.byName.has(name)) {
      const slot = new ModelSlot(name, location);
      this.byName.set(name, slot);
      return slot;
    }
    const slotName = `${location.dirName}${this.byName.has(location.dirName) ? `@${this.byName.size}` : ''}`;
    const duplicate = new ModelSlot(slotName, location);
    const entry = new ModelVersion(this.versionContext, {
      name: slotName,
      version: undefined,
      dir: location.dir,
      fingerprint: '',
    });
    duplicate.versions.set('', entry);
    this.byName.set(slotName, duplicate);
    entry.fail(`another model directory already serves the name '${name}'`);
    return undefined;
  }

  remove(slot: ModelSlot): void {
    this.byName.delete(slot.name);
  }
}
