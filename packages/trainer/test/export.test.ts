/**
 * Export: a tiny trained model goes through the full export path (EMA weights, SN folded, BN
 * statistics folded by the graph module); ONNX Runtime matches tfjs within 1e-4; the directory passes
 * the server's manifest checks (parseManifest + checkGraph on loadSession's inputs/outputs) and
 * generates; a wrong weight mapping makes export fail and leaves the target untouched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadSession, releaseSession, runSession } from '@sagan-serve/model-contract/ort-session';
import { checkGraph, parseManifest } from '@sagan-serve/model-contract/manifest';
import { checkParity, exportModelDirectory, hwioToOihw, ParityError, toGraphWeights } from '../src/lib/export-model.js';
import { buildSaganGenerator } from '@sagan-serve/model-contract/sagan-graph';
import { Rng } from '../src/lib/rng.js';
import { SyntheticSource } from '../src/lib/synthetic.js';
import { Trainer } from '../src/lib/trainer.js';
import { tinyHyper, tinyModel, trainerBackend } from './helpers.js';

const skip = await trainerBackend();

test('hwioToOihw permutes conv kernels', { skip }, () => {
  // [kh=1, kw=2, in=2, out=3]
  const data = Float32Array.from({ length: 12 }, (_, i) => i);
  const { data: o, shape } = hwioToOihw(data, [1, 2, 2, 3]);
  assert.deepEqual(shape, [3, 2, 1, 2]);
  // out o, in i, w: source ((0*2 + w)*2 + i)*3 + o
  for (let oc = 0; oc < 3; oc++)
    for (let i = 0; i < 2; i++) for (let w = 0; w < 2; w++) assert.equal(o[(oc * 2 + i) * 2 + w], (w * 2 + i) * 3 + oc);
});

test(
  'random weights (non-zero attention gamma, random BN statistics): ONNX Runtime matches the tfjs generator',
  { skip },
  async () => {
    for (const overrides of [{}, { gAttention: null }, { poolKeys: false }, { imageSize: 32, gWidth: 2 }]) {
      const model = tinyModel(overrides);
      const t = new Trainer(model, tinyHyper(), new SyntheticSource(model.g.imageSize, 3));
      const rng = new Rng(11);
      const weights = rng.normal(t.gLayout.total, 0, 0.3);
      weights[t.gLayout.zeroSlot] = 0;
      const views = t.gLayout.view(weights);
      if (views['attention.gamma']) views['attention.gamma'][0] = 0.8;
      const stats = rng.normal(t.sLayout.total, 0, 0.2);
      for (const spec of t.sLayout.specs)
        if (spec.name.endsWith('.var'))
          t.sLayout.view(stats)[spec.name].forEach((_, i, a) => {
            a[i] = 0.5 + Math.abs(a[i]);
          });
      const bytes = buildSaganGenerator(model.g, toGraphWeights(model, t.gLayout, t.sLayout, weights, stats));
      const parity = await checkParity(bytes, model, t.gLayout, t.sLayout, weights, stats);
      assert.ok(parity.maxAbsImage <= 1e-4, JSON.stringify(parity));
      t.dispose();
    }
  },
);

test('export of a trained tiny EMA generator: parity, manifest check, loads and generates', { skip }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'sagan-export-'));
  try {
    const model = tinyModel();
    const t = new Trainer(model, tinyHyper({ emaStart: 1, emaDecay: 0.5 }), new SyntheticSource(16, 3));
    for (let i = 0; i < 3; i++) await t.trainStep();
    const { weights, stats } = await t.inferenceWeights();
    const out = path.join(dir, 'tiny16');
    const { written, parity } = await exportModelDirectory(out, model, t.gLayout, t.sLayout, weights, stats, {
      name: 'tiny16',
      version: 'step-3',
      classes: ['red', 'green', 'blue'],
      provenance: { dataset: 'synthetic', steps: 3 },
    });
    assert.ok(parity.maxAbsImage <= 1e-4);
    assert.deepEqual((await readdir(out)).sort(), ['generator.onnx', 'model.json']);
    assert.deepEqual((await readdir(dir)).sort(), ['tiny16'], 'no temporary directory left behind');
    const manifest = parseManifest(JSON.parse(await readFile(path.join(out, 'model.json'), 'utf8')));
    assert.equal(manifest.untrained, false);
    assert.deepEqual(manifest.classes, ['red', 'green', 'blue']);
    assert.equal((manifest.provenance as { export_parity: { tolerance: number } }).export_parity.tolerance, 1e-4);
    const loaded = await loadSession(written.modelPath, { providers: ['cpu'] });
    try {
      assert.deepEqual(checkGraph(manifest, loaded.inputs, loaded.outputs), []);
      const z = new Rng(2).normal(2 * 16);
      const r = await runSession(
        loaded,
        { z: { data: z, dims: [2, 16] }, y: { data: BigInt64Array.from([0n, 2n]), dims: [2] } },
        ['image', 'attention'],
      );
      assert.deepEqual(r.outputs.image.dims, [2, 3, 16, 16]);
      assert.deepEqual(r.outputs.attention.dims, [2, 64, 16]);
      assert.ok(r.outputs.image.data.every((v) => v >= -1 && v <= 1));
    } finally {
      await releaseSession(loaded);
    }
    t.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('export fails and writes nothing when ONNX Runtime and tfjs disagree', { skip }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'sagan-export-'));
  try {
    const model = tinyModel();
    const t = new Trainer(model, tinyHyper(), new SyntheticSource(16, 3));
    const { weights, stats } = await t.inferenceWeights();
    // the tfjs reference runs with a different out_conv bias than the graph is built from
    const reference = Float32Array.from(weights);
    reference[t.gLayout.offset('out_conv.bias')] += 0.5;
    await assert.rejects(
      exportModelDirectory(path.join(dir, 'bad'), model, t.gLayout, t.sLayout, weights, stats, {
        name: 'bad',
        version: '1',
        classes: ['a', 'b', 'c'],
        provenance: {},
        referenceWeights: reference,
      }),
      (err: unknown) => err instanceof ParityError && /export parity failed/.test(err.message),
    );
    assert.deepEqual(await readdir(dir), []);
    t.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
