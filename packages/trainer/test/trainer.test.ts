/**
 * Trainer: losses finite, no tensor leaks across steps, checkpoint + resume reproduces the next step
 * exactly (float32 moments) or closely (float16 moments), checkpoint file layout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadCheckpoint, saveCheckpoint } from '../src/lib/checkpoint.js';
import { clearConstants } from '../src/lib/layers.js';
import { SyntheticSource } from '../src/lib/synthetic.js';
import { orthogonal, orthogonalBlocked } from '../src/lib/params.js';
import { Rng } from '../src/lib/rng.js';
import { Trainer } from '../src/lib/trainer.js';
import { tinyHyper, tinyModel, trainerBackend } from './helpers.js';

const skip = await trainerBackend();

const data = { dataset: 'synthetic', classes: ['a', 'b', 'c'], images: 0 };

function makeTrainer(augment = true): Trainer {
  return new Trainer(
    tinyModel(),
    tinyHyper({ augment: augment ? ['color', 'translation', 'cutout'] : [] }),
    new SyntheticSource(16, 3, 9),
  );
}

test('training steps give finite losses and leak no tensors', { skip }, async () => {
  clearConstants();
  const atStart = tf.memory().numTensors;
  const t = makeTrainer();
  const first = await t.trainStep(true);
  assert.ok(
    first && [first.lossD, first.lossG, first.dReal, first.dFake].every(Number.isFinite),
    JSON.stringify(first),
  );
  await t.trainStep(false);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) await t.trainStep(i === 1);
  assert.equal(tf.memory().numTensors, before, 'tensor count stays flat across steps');
  const w = await t.inferenceWeights();
  assert.equal(tf.memory().numTensors, before, 'inferenceWeights leaks nothing');
  assert.ok(w.weights.every(Number.isFinite));
  const standing = await t.standingStats(w.weights, 2, 4);
  assert.equal(tf.memory().numTensors, before, 'standingStats leaks nothing');
  const views = t.sLayout.view(standing);
  for (const spec of t.sLayout.specs) {
    assert.ok(views[spec.name].every(Number.isFinite), spec.name);
    if (spec.name.endsWith('.var'))
      assert.ok(
        views[spec.name].every((v) => v > 0),
        `${spec.name} positive`,
      );
  }
  assert.equal(t.step, 5);
  t.dispose();
  clearConstants();
  assert.equal(tf.memory().numTensors, atStart, 'dispose() releases everything the trainer made');
});

async function snapshot(t: Trainer): Promise<Record<string, Float32Array>> {
  return t.stateTensors();
}

for (const momentsDtype of ['float32', 'float16'] as const) {
  test(`resume from a checkpoint reproduces the next step (${momentsDtype} moments)`, { skip }, async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sagan-ckpt-'));
    try {
      const a = makeTrainer();
      await a.trainStep();
      await a.trainStep();
      const meta = await saveCheckpoint(
        dir,
        {
          step: a.step,
          state: a.state(),
          model: a.model,
          hyper: a.hyper,
          data,
          layouts: { g: a.gLayout.signature(), d: a.dLayout.signature(), stats: a.sLayout.signature() },
        },
        await a.stateTensors(),
        { momentsDtype, shardBytes: 64 * 1024 },
      );
      assert.ok(meta.shards.length > 1, 'small shard size splits the checkpoint');
      const files = await readdir(path.join(dir, 'checkpoint'));
      assert.ok(files.includes('checkpoint.json'));
      for (const s of meta.shards) assert.ok((await stat(path.join(dir, 'checkpoint', s.file))).size <= 64 * 1024);
      await a.trainStep();
      const expected = await snapshot(a);

      const loaded = await loadCheckpoint(dir);
      assert.equal(loaded.meta.step, 2);
      const b = new Trainer(loaded.meta.model, loaded.meta.hyper, new SyntheticSource(16, 3, 9), 'none');
      b.loadState(loaded.meta.state, loaded.tensors);
      await b.trainStep();
      const got = await snapshot(b);
      assert.deepEqual(Object.keys(got).sort(), Object.keys(expected).sort());
      for (const name of Object.keys(expected)) {
        if (momentsDtype === 'float32') {
          assert.deepEqual(got[name], expected[name], `${name} differs after resume`);
        } else {
          let m = 0;
          let s = 0;
          for (let i = 0; i < got[name].length; i++) {
            m = Math.max(m, Math.abs(got[name][i] - expected[name][i]));
            s = Math.max(s, Math.abs(expected[name][i]));
          }
          assert.ok(m <= 2e-2 * Math.max(s, 1e-6), `${name}: max diff ${m} (scale ${s})`);
        }
      }
      assert.equal(b.step, a.step);
      a.dispose();
      b.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

test('float16 moments keep tiny second moments (sqrt + scale, no underflow to 0)', { skip }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'sagan-ckpt-'));
  try {
    const t = makeTrainer(false);
    const tensors = await t.stateTensors();
    const v = tensors['g.adam.v'];
    for (let i = 0; i < v.length - 1; i++) v[i] = 10 ** (-14 + (12 * i) / v.length); // 1e-14 .. 1e-2
    await saveCheckpoint(
      dir,
      {
        step: 0,
        state: t.state(),
        model: t.model,
        hyper: t.hyper,
        data,
        layouts: { g: t.gLayout.signature(), d: t.dLayout.signature(), stats: t.sLayout.signature() },
      },
      tensors,
      { momentsDtype: 'float16' },
    );
    const back = (await loadCheckpoint(dir)).tensors['g.adam.v'];
    for (let i = 0; i < v.length - 1; i++)
      assert.ok(Math.abs(back[i] - v[i]) <= 2e-3 * v[i], `v[${i}] = ${v[i]} came back as ${back[i]}`);
    assert.equal(back[v.length - 1], 0);
    t.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a second checkpoint replaces the first atomically', { skip }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'sagan-ckpt-'));
  try {
    const t = makeTrainer(false);
    const save = async () =>
      saveCheckpoint(
        dir,
        {
          step: t.step,
          state: t.state(),
          model: t.model,
          hyper: t.hyper,
          data,
          layouts: { g: t.gLayout.signature(), d: t.dLayout.signature(), stats: t.sLayout.signature() },
        },
        await t.stateTensors(),
      );
    await save();
    await t.trainStep();
    await save();
    assert.deepEqual((await readdir(dir)).sort(), ['checkpoint']);
    assert.equal((await loadCheckpoint(dir)).meta.step, 1);
    t.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test(
  'orthogonal init: JavaScript and blocked (tfjs) Gram-Schmidt give the same orthonormal matrix',
  { skip },
  async () => {
    for (const [rows, cols] of [
      [300, 70],
      [40, 150],
    ]) {
      const m = Math.max(rows, cols);
      const n = Math.min(rows, cols);
      const a = orthogonal(rows, cols, new Rng(4));
      const b = await orthogonalBlocked(rows, cols, new Rng(4).normal(m * n), 16);
      let maxDiff = 0;
      for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
      assert.ok(maxDiff < 1e-4, `[${rows}, ${cols}]: max diff ${maxDiff}`);
      // orthonormal along the short side
      for (let i = 0; i < n; i++) {
        for (let j = i; j < n; j++) {
          let dot = 0;
          for (let k = 0; k < m; k++)
            dot += rows >= cols ? b[k * cols + i] * b[k * cols + j] : b[i * cols + k] * b[j * cols + k];
          assert.ok(Math.abs(dot - (i === j ? 1 : 0)) < 1e-5, `[${rows}, ${cols}] q${i}.q${j} = ${dot}`);
        }
      }
    }
  },
);

test(
  'Trainer.create (backend init) and new Trainer (JavaScript init) start from the same weights',
  { skip },
  async () => {
    const a = new Trainer(tinyModel(), tinyHyper(), new SyntheticSource(16, 3));
    const b = await Trainer.create(tinyModel(), tinyHyper(), new SyntheticSource(16, 3));
    const wa = await a.thetaG.data();
    const wb = await b.thetaG.data();
    let maxDiff = 0;
    for (let i = 0; i < wa.length; i++) maxDiff = Math.max(maxDiff, Math.abs(wa[i] - wb[i]));
    assert.ok(maxDiff < 1e-5);
    a.dispose();
    b.dispose();
  },
);
