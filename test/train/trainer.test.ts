/**
 * Trainer: losses finite, no tensor leaks across steps, checkpoint + resume reproduces the next step
 * exactly (float32 moments) or closely (float16 moments), checkpoint file layout.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadCheckpoint, saveCheckpoint } from '../../scripts/train/lib/checkpoint.js';
import { SyntheticSource } from '../../scripts/train/lib/synthetic.js';
import { Trainer } from '../../scripts/train/lib/trainer.js';
import { cpu, tinyHyper, tinyModel } from './helpers.js';

before(cpu);

const data = { dataset: 'synthetic', classes: ['a', 'b', 'c'], images: 0 };

function makeTrainer(augment = true): Trainer {
  return new Trainer(tinyModel(), tinyHyper({ augment: augment ? ['color', 'translation', 'cutout'] : [] }), new SyntheticSource(16, 3, 9));
}

test('training steps give finite losses and leak no tensors', async () => {
  const t = makeTrainer();
  const first = await t.trainStep(true);
  assert.ok(first && [first.lossD, first.lossG, first.dReal, first.dFake].every(Number.isFinite), JSON.stringify(first));
  await t.trainStep(false);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) await t.trainStep(i === 1);
  assert.equal(tf.memory().numTensors, before, 'tensor count stays flat across steps');
  const w = await t.inferenceWeights();
  assert.equal(tf.memory().numTensors, before, 'inferenceWeights leaks nothing');
  assert.ok(w.weights.every(Number.isFinite));
  assert.equal(t.step, 5);
  t.dispose();
});

async function snapshot(t: Trainer): Promise<Record<string, Float32Array>> {
  return t.stateTensors();
}

for (const momentsDtype of ['float32', 'float16'] as const) {
  test(`resume from a checkpoint reproduces the next step (${momentsDtype} moments)`, async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sagan-ckpt-'));
    try {
      const a = makeTrainer();
      await a.trainStep();
      await a.trainStep();
      const meta = await saveCheckpoint(dir, {
        step: a.step, state: a.state(), model: a.model, hyper: a.hyper, data,
        layouts: { g: a.gLayout.signature(), d: a.dLayout.signature(), stats: a.sLayout.signature() },
      }, await a.stateTensors(), { momentsDtype, shardBytes: 64 * 1024 });
      assert.ok(meta.shards.length > 1, 'small shard size splits the checkpoint');
      const files = await readdir(path.join(dir, 'checkpoint'));
      assert.ok(files.includes('checkpoint.json'));
      for (const s of meta.shards) assert.ok((await stat(path.join(dir, 'checkpoint', s.file))).size <= 64 * 1024);
      await a.trainStep();
      const expected = await snapshot(a);

      const loaded = await loadCheckpoint(dir);
      assert.equal(loaded.meta.step, 2);
      const b = new Trainer(loaded.meta.model, loaded.meta.hyper, new SyntheticSource(16, 3, 9));
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

test('a second checkpoint replaces the first atomically', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'sagan-ckpt-'));
  try {
    const t = makeTrainer(false);
    const save = async () => saveCheckpoint(dir, {
      step: t.step, state: t.state(), model: t.model, hyper: t.hyper, data,
      layouts: { g: t.gLayout.signature(), d: t.dLayout.signature(), stats: t.sLayout.signature() },
    }, await t.stateTensors());
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
