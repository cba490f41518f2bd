import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkGraph, checkWarmupDims, ManifestError, parseManifest, type ModelManifest } from '@sagan-serve/model-contract/manifest';
import { closestClassNames } from '@sagan-serve/model-contract/class-names';
import { resolveClass } from '../../src/models/resolve-class.js';
import { ServeError } from '../../src/errors.js';

const manifest = (): Record<string, unknown> => ({
  name: 'dogs64', version: '1', file: 'generator.onnx', classes: ['maltese_dog', 'saint_bernard'],
  latent: { input: 'z', dim: 128 }, class_input: 'y', image: { output: 'image', size: 64, range: [-1, 1] },
  attention: { output: 'attention', grid: [32, 32], key_grid: [16, 16] },
});

test('a valid manifest parses; problems name the field', () => {
  assert.equal(parseManifest(manifest()).name, 'dogs64');
  const bad = manifest();
  (bad.latent as { dim: unknown }).dim = 'many';
  assert.throws(() => parseManifest(bad), (err: unknown) => err instanceof ManifestError && /manifest\.latent\.dim/.test(err.message));
  assert.throws(() => parseManifest({ ...manifest(), name: '../etc' }), /manifest\.name/);
  assert.throws(() => parseManifest({ ...manifest(), file: '../../x.onnx' }), /manifest\.file/);
  assert.throws(() => parseManifest({ ...manifest(), extra: 1 }), /'extra'/);
  assert.throws(() => parseManifest({ ...manifest(), classes: ['a', 'A'] }), /twice/);
});

test('graph checks report names, types, ranks and static dims', () => {
  const m = parseManifest(manifest()) as ModelManifest;
  const inputs = [{ name: 'z', type: 'float32', shape: ['batch', 128] }, { name: 'y', type: 'int64', shape: ['batch'] }];
  const outputs = [{ name: 'image', type: 'float32', shape: ['batch', 3, 64, 64] }, { name: 'attention', type: 'float32', shape: ['batch', 1024, 256] }];
  assert.deepEqual(checkGraph(m, inputs, outputs), []);
  // Symbolic dims everywhere (as torch.onnx.export often writes them) are accepted here.
  assert.deepEqual(checkGraph(m, inputs, [{ name: 'image', type: 'float32', shape: ['b', 'c', 'h', 'w'] }, { name: 'attention', shape: ['b', 'q', 'k'] }]), []);
  const problems = checkGraph(m, [{ name: 'z', type: 'float32', shape: ['batch', 100] }, { name: 'label', type: 'int32', shape: ['batch'] }], [{ name: 'image', type: 'float32', shape: ['batch', 3, 32, 32] }]);
  assert.ok(problems.some((p) => /latent\.input.*100 at axis 1/.test(p)), problems.join('\n'));
  assert.ok(problems.some((p) => /class_input names input 'y'/.test(p)));
  assert.ok(problems.some((p) => /image\.output.*32 at axis 2/.test(p)));
  assert.ok(problems.some((p) => /attention\.output names output 'attention'/.test(p)));
  assert.ok(problems.some((p) => /inputs the manifest does not feed: 'label'/.test(p)));
  assert.deepEqual(checkWarmupDims(m, 1, { image: [1, 3, 64, 64], attention: [1, 1024, 256] }), []);
  assert.equal(checkWarmupDims(m, 1, { image: [1, 3, 64, 64], attention: [1, 1024, 1024] }).length, 1);
});

test('classes resolve by index or loose name; unknown names suggest the closest', () => {
  const classes = ['maltese_dog', 'golden_retriever', 'german_shepherd', 'saint_bernard'];
  assert.deepEqual(resolveClass(classes, 'Saint Bernard'), { index: 3, name: 'saint_bernard' });
  assert.deepEqual(resolveClass(classes, 'GERMAN-SHEPHERD'), { index: 2, name: 'german_shepherd' });
  assert.deepEqual(resolveClass(classes, '1'), { index: 1, name: 'golden_retriever' });
  assert.deepEqual(resolveClass(classes, 0), { index: 0, name: 'maltese_dog' });
  assert.equal(closestClassNames(classes, 'bernard')[0], 'saint_bernard');
  assert.equal(closestClassNames(classes, 'golden retreiver')[0], 'golden_retriever');
  assert.throws(() => resolveClass(classes, 'poodle'), (err: unknown) => err instanceof ServeError && err.code === 'UNKNOWN_CLASS'
    && Array.isArray(err.details.allowed) && [...err.details.allowed].sort().join() === [...classes].sort().join());
  const many = Array.from({ length: 1000 }, (_, i) => `class_${i}`);
  assert.throws(() => resolveClass(many, 'class_12x'), (err: unknown) => err instanceof ServeError && err.code === 'UNKNOWN_CLASS'
    && Array.isArray(err.details.allowed) && err.details.allowed.length === 3 && err.details.allowed.includes('class_12'));
  assert.throws(() => resolveClass(classes, '4'), (err: unknown) => err instanceof ServeError && err.code === 'UNKNOWN_CLASS');
});
