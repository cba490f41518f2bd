/**
 * The import structure, read from the TypeScript sources with madge (type-only imports included: a
 * cycle through `import type` still ties two modules together):
 * - no import cycles in the server, the scripts, the tests or the torch backend package;
 * - the server (src/) imports no TensorFlow.js, no `webgpu` and nothing of the trainer (scripts/);
 * - the trainer (scripts/train/) imports from src/ only the model contract both sides share: the SAGAN
 *   graph and ONNX writing, the manifest and class names, the seed -> latent contract, image grids and
 *   encoding, and the ONNX Runtime session module (its parity checks run the exported graph).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import madge from 'madge';
import { PACKAGE_ROOT } from '../../src/paths.js';

const TRAINER_MAY_IMPORT = [
  'src/onnx/',
  'src/models/manifest.ts',
  'src/models/class-names.ts',
  'src/latent/seeded-latent.ts',
  'src/render/image.ts',
  'src/inference/ort-session.ts',
];

function analyse(roots: string[], includeNpm: boolean): ReturnType<typeof madge> {
  return madge(roots.map((r) => path.join(PACKAGE_ROOT, r)), {
    baseDir: PACKAGE_ROOT,
    fileExtensions: ['ts'],
    tsConfig: path.join(PACKAGE_ROOT, 'tsconfig.json'),
    includeNpm,
    detectiveOptions: { ts: { skipTypeImports: false }, es6: { skipTypeImports: false } },
  });
}

test('no import cycles in src, scripts, test and packages/tfjs-backend-torch/src', { timeout: 120_000 }, async () => {
  const result = await analyse(['src', 'scripts', 'test', 'packages/tfjs-backend-torch/src'], false);
  const files = Object.keys(result.obj());
  assert.ok(files.length > 150 && files.some((f) => f.startsWith('src/http/')), `madge read ${files.length} files`);
  assert.deepEqual(result.circular(), []);
});

test('the server imports no TensorFlow.js, webgpu or trainer code; the trainer imports only the model contract from src', { timeout: 120_000 }, async () => {
  const deps = (await analyse(['src', 'scripts/train'], true)).obj();
  const problems: string[] = [];
  for (const [file, imports] of Object.entries(deps)) {
    for (const target of imports) {
      if (file.startsWith('src/')) {
        if (/node_modules\/(@tensorflow\/|webgpu\/)/.test(target)) problems.push(`${file} imports ${target}`);
        if (target.startsWith('scripts/')) problems.push(`${file} imports ${target}`);
      }
      if (file.startsWith('scripts/train/') && target.startsWith('src/') && !TRAINER_MAY_IMPORT.some((allowed) => target.startsWith(allowed))) {
        problems.push(`${file} imports ${target}`);
      }
    }
  }
  assert.ok(Object.keys(deps).some((f) => f.startsWith('scripts/train/lib/')), 'madge read the trainer');
  assert.ok(Object.values(deps).flat().some((t) => t.includes('node_modules/@tensorflow/')), 'madge sees npm imports (a forbidden one would be caught)');
  assert.deepEqual(problems, []);
});
