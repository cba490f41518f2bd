/**
 * Reads the model repository's layout (no loading): which model directories there are, whether each is
 * one version (`<model>/model.json`, today's layout) or several (`<model>/<version>/model.json`, the
 * version being the directory's name), its version policy (`<model>/config.json`), and a fingerprint of
 * every version's files so that a reload can tell a changed version from an unchanged one.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_POLICY, parseVersionPolicy, selectVersions, type VersionPolicy } from './version-policy.js';

export interface VersionLocation {
  /** The version's name: the directory's name in the versioned layout; undefined in the flat one (the manifest's `version`). */
  version: string | undefined;
  dir: string;
  /**
   * Names, sizes, modification and status-change times and inodes of the version's files: what tells a
   * changed version from an unchanged one. Not the content (hashing every file on every poll would read
   * whole models each time): the status-change time (ctime) changes on every write, rename into place or
   * time change and no copy tool can set it, so new bytes with the old size and modification time (a
   * `cp -p`, an rsync, new weights of the same architecture) are still seen. What the ETag stands for is
   * the content (content-digest.ts).
   */
  fingerprint: string;
}

export interface ModelLocation {
  /** The model directory's name (the model's name in the versioned layout). */
  dirName: string;
  dir: string;
  layout: 'flat' | 'versioned';
  /** Every version found, oldest first. */
  versions: VersionLocation[];
  policy: VersionPolicy;
  /** Why config.json could not be used (the default policy applies meanwhile). */
  policyError?: string;
}

const isFile = (p: string): Promise<boolean> =>
  stat(p).then(
    (s) => s.isFile(),
    () => false,
  );

async function fingerprintOf(dir: string): Promise<string> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const parts: string[] = [];
  for (const e of entries
    .filter((x) => x.isFile() || x.isSymbolicLink())
    .sort((a, b) => a.name.localeCompare(b.name))) {
    const s = await stat(path.join(dir, e.name)).catch(() => undefined);
    if (s) parts.push(`${e.name}:${s.size}:${s.mtimeMs}:${s.ctimeMs}:${s.ino}`);
  }
  return parts.join('|');
}

/** The layout of one model directory, or undefined when it holds no model.json at either level. */
export async function scanModel(dir: string): Promise<ModelLocation | undefined> {
  const dirName = path.basename(dir);
  let policy = DEFAULT_POLICY;
  let policyError: string | undefined;
  const configPath = path.join(dir, 'config.json');
  if (await isFile(configPath)) {
    try {
      policy = parseVersionPolicy(JSON.parse(await readFile(configPath, 'utf8')));
    } catch (err) {
      policyError = (err as Error).message;
    }
  }
  if (await isFile(path.join(dir, 'model.json'))) {
    return {
      dirName,
      dir,
      layout: 'flat',
      versions: [{ version: undefined, dir, fingerprint: await fingerprintOf(dir) }],
      policy,
      ...(policyError ? { policyError } : {}),
    };
  }
  const subdirs = (await readdir(dir, { withFileTypes: true }).catch(() => []))
    .filter((d) => d.isDirectory() || d.isSymbolicLink())
    .map((d) => d.name);
  const versions: VersionLocation[] = [];
  for (const name of selectVersions({ kind: 'all' }, subdirs)) {
    const versionDir = path.join(dir, name);
    if (await isFile(path.join(versionDir, 'model.json')))
      versions.push({ version: name, dir: versionDir, fingerprint: await fingerprintOf(versionDir) });
  }
  if (versions.length === 0) return undefined;
  return { dirName, dir, layout: 'versioned', versions, policy, ...(policyError ? { policyError } : {}) };
}

/** The versions of a model its policy selects (the flat layout's one version always). */
export function selectedVersions(location: ModelLocation): VersionLocation[] {
  if (location.layout === 'flat') return location.versions;
  const selected = new Set(
    selectVersions(
      location.policy,
      location.versions.map((v) => v.version ?? ''),
    ),
  );
  return location.versions.filter((v) => selected.has(v.version ?? ''));
}

/** Every model directory under root (symlinked ones too: mounted volumes and ConfigMaps present models that way). */
export async function scanRepository(root: string): Promise<ModelLocation[]> {
  const dirs = (await readdir(root, { withFileTypes: true }))
    .filter((d) => d.isDirectory() || d.isSymbolicLink())
    .map((d) => d.name)
    .sort();
  const found: ModelLocation[] = [];
  for (const d of dirs) {
    const location = await scanModel(path.join(root, d));
    if (location) found.push(location);
  }
  return found;
}
