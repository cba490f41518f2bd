/** The output shapes and row lengths a manifest implies. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectedOutputShapes, outputRowLengths, type ManifestOutputs } from '../src/output-shapes.js';

test('output shapes and row lengths follow the image size and the attention grids', () => {
  const m: ManifestOutputs = {
    image: { output: 'image', size: 64, range: [-1, 1] },
    attention: { output: 'attention', grid: [32, 32], key_grid: [16, 16] },
  };
  assert.deepEqual(expectedOutputShapes(m), [
    { role: 'image', name: 'image', dims: [3, 64, 64] },
    { role: 'attention', name: 'attention', dims: [32 * 32, 16 * 16] },
  ]);
  assert.deepEqual(outputRowLengths(m), { image: 3 * 64 * 64, attention: 32 * 32 * 16 * 16 });
  const oblong: ManifestOutputs = {
    image: { output: 'rgb', size: 8, range: [0, 1] },
    attention: { output: 'attn', grid: [4, 2], key_grid: [2, 1] },
  };
  assert.deepEqual(outputRowLengths(oblong), { image: 192, attention: 16 });
  const withoutAttention: ManifestOutputs = { image: m.image };
  assert.deepEqual(
    expectedOutputShapes(withoutAttention).map((o) => o.name),
    ['image'],
  );
  assert.deepEqual(outputRowLengths(withoutAttention), { image: 3 * 64 * 64 });
});
