/**
 * On the torch backend, the trainer's hot paths dispatch no kernel to the cpu backend's JavaScript
 * kernels: a training iteration (DiffAugment on), the spectral-norm fold and the inference-mode
 * generator export and sampling use, standing statistics, and the evaluation classifier's training
 * and prediction. Everything runs in libtorch or is a view of existing memory (reshapes, contiguous
 * slices). Runs in `npm run test:train-torch`; on the cpu backend it has nothing to check.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Classifier, defaultClassifierConfig } from '../src/lib/classifier.js';
import { parityInputs, runTfjsGenerator } from '../src/lib/export-model.js';
import { SyntheticSource } from '../src/lib/synthetic.js';
import { Trainer } from '../src/lib/trainer.js';
import { TEST_BACKEND, tinyHyper, tinyModel, trainerBackend } from './helpers.js';

const unavailable = await trainerBackend();
const skip =
  TEST_BACKEND !== 'torch'
    ? 'checks the torch backend only (npm run test:train-torch sets TRAIN_TEST_BACKEND=torch)'
    : unavailable;

test('training, export, sampling and the classifier run no kernel on the cpu backend', { skip }, async () => {
  const torch = await import('@sagan-serve/tfjs-backend-torch');
  const model = tinyModel();
  const trainer = new Trainer(
    model,
    tinyHyper({ augment: ['color', 'translation', 'cutout'] }),
    new SyntheticSource(16, 3, 9),
  );
  await trainer.trainStep(true); // first-use work (constants, initialisation) happens outside the counted part
  torch.resetKernelCounts();
  await trainer.trainStep(true);
  const { weights, stats } = await trainer.inferenceWeights();
  await runTfjsGenerator(model, trainer.gLayout, trainer.sLayout, weights, stats, parityInputs(model));
  await trainer.standingStats(weights, 2, 4);
  const classifier = new Classifier(defaultClassifierConfig(16, 3), 1);
  const pixels = new Uint8Array(8 * 16 * 16 * 3).map((_, i) => (i * 37) % 256);
  await classifier.train(
    pixels,
    Int32Array.from([0, 1, 2, 0, 1, 2, 0, 1]),
    Int32Array.from({ length: 8 }, (_, i) => i),
    { epochs: 1, batch: 4, lr: 1e-3, seed: 1 },
  );
  await classifier.predict(
    Float32Array.from(pixels, (p) => p / 127.5 - 1),
    8,
  );
  const counts = torch.kernelCounts();
  assert.deepEqual(counts.cpu, {}, `kernels that ran on the cpu backend: ${JSON.stringify(counts.cpu)}`);
  assert.ok(Object.values(counts.native).reduce((a, b) => a + b, 0) > 500, 'the work ran natively');
  for (const k of Object.keys(counts.view))
    assert.ok(['Reshape', 'Identity', 'Slice', 'Cast', 'ExpandDims', 'Squeeze'].includes(k), `${k} counted as a view`);
  classifier.dispose();
  trainer.dispose();
});
