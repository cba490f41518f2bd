/**
 * The workspace's package boundaries, read from the TypeScript sources (type-only imports included: a
 * cycle or a dependency through `import type` still ties two modules together):
 * - no import cycles inside any package (madge);
 * - a relative import never leaves its package, and every package a module imports is declared in that
 *   package's package.json (dependencies for src/, devDependencies too for scripts/ and test/), so a
 *   hoisted node_modules cannot hide an undeclared edge;
 * - the model contract and the benchmark statistics import no other workspace package; the server
 *   imports neither TensorFlow.js, `webgpu`, the trainer nor the torch backend; the trainer imports, of
 *   the workspace, only the model contract, the benchmark statistics and its engine, the torch backend;
 * - the server's production dependencies (package-lock.json, followed transitively) hold no
 *   @tensorflow/* and no webgpu, so `npm ci --omit=dev -w @sagan-serve/server` installs neither.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinModules } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import madge from 'madge';
import ts from 'typescript';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PACKAGES = ['bench-stats', 'model-contract', 'server', 'trainer', 'tfjs-backend-torch'] as const;
type PackageDir = (typeof PACKAGES)[number];
const SOURCE_DIRS = ['src', 'scripts', 'test'];

/** Imports each package may not make, whatever its package.json says. */
const FORBIDDEN: Record<PackageDir, RegExp[]> = {
  'bench-stats': [/^@sagan-serve\//],
  'model-contract': [/^@sagan-serve\//, /^@tensorflow\//, /^webgpu$/],
  server: [/^@tensorflow\//, /^webgpu$/, /^@sagan-serve\/(trainer|tfjs-backend-torch)$/],
  trainer: [/^@sagan-serve\/(?!model-contract$|bench-stats$|tfjs-backend-torch$)/],
  'tfjs-backend-torch': [/^@sagan-serve\//],
};

/** Fewer imports than this means the sources were not read (bench-stats is one module and its test). */
const MIN_IMPORTS: Record<PackageDir, number> = {
  'bench-stats': 2,
  'model-contract': 20,
  server: 20,
  trainer: 20,
  'tfjs-backend-torch': 20,
};

interface PackageJson {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const packageRoot = (dir: PackageDir) => path.join(REPO_ROOT, 'packages', dir);
const packageJson = (dir: PackageDir) =>
  JSON.parse(readFileSync(path.join(packageRoot(dir), 'package.json'), 'utf8')) as PackageJson;

function sourceFiles(dir: PackageDir): string[] {
  const files: string[] = [];
  for (const sub of SOURCE_DIRS) {
    let entries: string[];
    try {
      entries = readdirSync(path.join(packageRoot(dir), sub), { recursive: true }) as string[];
    } catch {
      continue;
    }
    for (const entry of entries)
      if (entry.endsWith('.ts') && !entry.endsWith('.d.ts')) files.push(path.join(packageRoot(dir), sub, entry));
  }
  return files;
}

/** `@scope/name/sub` -> `@scope/name`; `name/sub` -> `name`. */
function packageNameOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

const BUILTINS = new Set(builtinModules);

/** Every violation of the rules above in one package, as "file: message" lines. */
function boundaryProblems(dir: PackageDir): { problems: string[]; imports: number } {
  const pkg = packageJson(dir);
  const root = packageRoot(dir);
  const problems: string[] = [];
  let imports = 0;
  for (const file of sourceFiles(dir)) {
    const relFile = path.relative(REPO_ROOT, file);
    const declared = new Set(
      Object.keys({ ...pkg.dependencies, ...(relFile.includes('/src/') ? {} : pkg.devDependencies) }),
    );
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName: specifier } of importedFiles) {
      imports++;
      if (specifier.startsWith('.')) {
        const target = path.resolve(path.dirname(file), specifier);
        if (!target.startsWith(root + path.sep)) problems.push(`${relFile}: '${specifier}' leaves packages/${dir}`);
        continue;
      }
      if (specifier.startsWith('node:') || BUILTINS.has(specifier)) continue;
      const name = packageNameOf(specifier);
      if (FORBIDDEN[dir].some((rule) => rule.test(name)))
        problems.push(`${relFile}: imports ${specifier}, which packages/${dir} may not`);
      else if (!declared.has(name) && name !== pkg.name)
        problems.push(`${relFile}: imports ${name}, not declared in packages/${dir}/package.json`);
    }
  }
  return { problems, imports };
}

for (const dir of PACKAGES) {
  test(`packages/${dir}: imports stay inside the package or go to declared, allowed packages`, () => {
    const { problems, imports } = boundaryProblems(dir);
    assert.ok(imports > MIN_IMPORTS[dir], `read ${imports} imports`);
    assert.deepEqual(problems, []);
  });

  test(`packages/${dir}: no import cycles`, { timeout: 120_000 }, async () => {
    const root = packageRoot(dir);
    const files = sourceFiles(dir);
    const roots = SOURCE_DIRS.map((sub) => path.join(root, sub)).filter((p) =>
      files.some((f) => f.startsWith(p + path.sep)),
    );
    const result = await madge(roots, {
      baseDir: root,
      fileExtensions: ['ts'],
      tsConfig: path.join(root, 'tsconfig.json'),
      detectiveOptions: { ts: { skipTypeImports: false }, es6: { skipTypeImports: false } },
    });
    const read = Object.keys(result.obj()).length;
    assert.ok(read >= files.length * 0.9, `madge read ${read} of ${files.length} files`);
    assert.deepEqual(result.circular(), []);
  });
}

interface LockEntry {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  link?: boolean;
  resolved?: string;
  dev?: boolean;
}

/** The lockfile's install path for `name` required from `from`, as Node resolves it (nearest node_modules up). */
function resolveInLock(lock: Record<string, LockEntry>, from: string, name: string): string | undefined {
  for (let dir = from; ; dir = dir.includes('/node_modules/') ? dir.slice(0, dir.lastIndexOf('/node_modules/')) : '') {
    const candidate = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
    if (lock[candidate]) return lock[candidate].link ? lock[candidate].resolved : candidate;
    if (!dir) return undefined;
  }
}

test('the server production install holds no @tensorflow/* and no webgpu (package-lock.json)', () => {
  const lock = (
    JSON.parse(readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, LockEntry>;
    }
  ).packages;
  const seen = new Set<string>();
  const queue = ['packages/server'];
  while (queue.length > 0) {
    const at = queue.pop()!;
    if (seen.has(at)) continue;
    seen.add(at);
    const entry = lock[at];
    assert.ok(entry, `${at} is in package-lock.json`);
    for (const name of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) {
      const target = resolveInLock(lock, at, name);
      if (target) queue.push(target);
      else assert.ok(entry.optionalDependencies?.[name], `${name} (needed by ${at}) is in package-lock.json`);
    }
  }
  const installed = [...seen];
  assert.ok(
    installed.some((p) => p.endsWith('node_modules/express')) && installed.includes('packages/model-contract'),
    `walked ${installed.length} packages`,
  );
  assert.deepEqual(
    installed.filter(
      (p) =>
        /node_modules\/(@tensorflow\/|webgpu$)/.test(p) ||
        p === 'packages/trainer' ||
        p === 'packages/tfjs-backend-torch',
    ),
    [],
  );
});
