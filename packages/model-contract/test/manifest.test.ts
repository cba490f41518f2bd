/** The manifest: schema validation, and the checks of a graph and of a warm-up run against it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkGraph, checkWarmupDims, ManifestError, parseManifest, type ModelManifest } from '../src/manifest.js';

const manifest = (): Record<string, unknown> => ({
  name: 'dogs64',
  version: '1',
  file: 'generator.onnx',
  classes: ['maltese_dog', 'saint_bernard'],
  latent: { input: 'z', dim: 128 },
  class_input: 'y',
  image: { output: 'image', size: 64, range: [-1, 1] },
  attention: { output: 'attention', grid: [32, 32], key_grid: [16, 16] },
});

test('a valid manifest parses; problems name the field', () => {
  assert.equal(parseManifest(manifest()).name, 'dogs64');
  const bad = manifest();
  (bad.latent as { dim: unknown }).dim = 'many';
  assert.throws(
    () => parseManifest(bad),
    (err: unknown) => err instanceof ManifestError && /manifest\.latent\.dim/.test(err.message),
  );
  assert.throws(() => parseManifest({ ...manifest(), name: '../etc' }), /manifest\.name/);
  assert.throws(() => parseManifest({ ...manifest(), file: '../../x.onnx' }), /manifest\.file/);
  assert.throws(() => parseManifest({ ...manifest(), extra: 1 }), /'extra'/);
  assert.throws(() => parseManifest({ ...manifest(), classes: ['a', 'A'] }), /twice/);
});

test('graph checks report names, types, ranks and static dims', () => {
  const m: ModelManifest = parseManifest(manifest());
  const inputs = [
    { name: 'z', type: 'float32', shape: ['batch', 128] },
    { name: 'y', type: 'int64', shape: ['batch'] },
  ];
  const outputs = [
    { name: 'image', type: 'float32', shape: ['batch', 3, 64, 64] },
    { name: 'attention', type: 'float32', shape: ['batch', 1024, 256] },
  ];
  assert.deepEqual(checkGraph(m, inputs, outputs), []);
  // Symbolic dims everywhere (as torch.onnx.export often writes them) are accepted here.
  assert.deepEqual(
    checkGraph(m, inputs, [
      { name: 'image', type: 'float32', shape: ['b', 'c', 'h', 'w'] },
      { name: 'attention', shape: ['b', 'q', 'k'] },
    ]),
    [],
  );
  const problems = checkGraph(
    m,
    [
      { name: 'z', type: 'float32', shape: ['batch', 100] },
      { name: 'label', type: 'int32', shape: ['batch'] },
    ],
    [{ name: 'image', type: 'float32', shape: ['batch', 3, 32, 32] }],
  );
  assert.ok(
    problems.some((p) => /latent\.input.*100 at axis 1/.test(p)),
    problems.join('\n'),
  );
  assert.ok(problems.some((p) => /class_input names input 'y'/.test(p)));
  assert.ok(problems.some((p) => /image\.output.*32 at axis 2/.test(p)));
  assert.ok(problems.some((p) => /attention\.output names output 'attention'/.test(p)));
  assert.ok(problems.some((p) => /inputs the manifest does not feed: 'label'/.test(p)));
  assert.deepEqual(checkWarmupDims(m, 1, { image: [1, 3, 64, 64], attention: [1, 1024, 256] }), []);
  assert.equal(checkWarmupDims(m, 1, { image: [1, 3, 64, 64], attention: [1, 1024, 1024] }).length, 1);
});
