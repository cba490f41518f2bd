/** writeModelDirectory: files written, manifest valid and consistent with the graph it sits beside. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkGraph, parseManifest } from '../src/manifest.js';
import { buildManifest, writeModelDirectory } from '../src/model-directory.js';
import { describeModelIO } from '../src/onnx-model.js';
import { randomWeights, type SaganGeneratorConfig } from '../src/sagan-graph.js';

const config: SaganGeneratorConfig = {
  imageSize: 32,
  zDim: 16,
  width: 4,
  numClasses: 2,
  attentionResolution: 16,
  poolKeys: true,
};

test('writeModelDirectory writes generator.onnx and a manifest that validates against the graph', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'sagan-model-'));
  try {
    const target = path.join(dir, 'cats32');
    const written = await writeModelDirectory(target, config, randomWeights(config, 4), {
      name: 'cats32',
      version: '0-untrained',
      classes: ['tabby', 'siamese'],
      untrained: true,
      provenance: { seed: 4 },
    });
    assert.deepEqual((await readdir(target)).sort(), ['generator.onnx', 'model.json']);
    const text = await readFile(written.manifestPath, 'utf8');
    const json = JSON.parse(text) as Record<string, unknown>;
    assert.deepEqual(Object.keys(json), [
      'name',
      'version',
      'file',
      'classes',
      'latent',
      'class_input',
      'image',
      'attention',
      'untrained',
      'provenance',
    ]);
    const manifest = parseManifest(json);
    assert.deepEqual(manifest, {
      name: 'cats32',
      version: '0-untrained',
      file: 'generator.onnx',
      classes: ['tabby', 'siamese'],
      latent: { input: 'z', dim: 16 },
      class_input: 'y',
      image: { output: 'image', size: 32, range: [-1, 1] },
      attention: { output: 'attention', grid: [16, 16], key_grid: [8, 8] },
      untrained: true,
      provenance: { seed: 4 },
    });
    const bytes = await readFile(written.modelPath);
    assert.equal(bytes.length, written.modelBytes);
    const io = describeModelIO(bytes);
    assert.deepEqual(checkGraph(manifest, io.inputs, io.outputs), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('buildManifest omits attention without it, and checks the class count', () => {
  const m = buildManifest({ ...config, attentionResolution: null }, { name: 'x', version: '1', classes: ['a', 'b'] });
  assert.equal(m.attention, undefined);
  assert.equal(m.untrained, undefined);
  assert.deepEqual(
    buildManifest({ ...config, poolKeys: false }, { name: 'x', version: '1', classes: ['a', 'b'] }).attention?.key_grid,
    [16, 16],
  );
  assert.throws(
    () => buildManifest(config, { name: 'x', version: '1', classes: ['a'] }),
    /1 class names for a generator with numClasses 2/,
  );
});
