/**
 * Checks a tfjs backend against the CPU backend (whose custom gradients are verified against finite
 * differences by the tests): identical trainer state on both, then the D and G losses and gradients
 * on fixed inputs, and the export parity (ONNX Runtime vs the tfjs generator run on that backend).
 * Run it on the GPU machine before trusting a WebGPU training run:
 *
 *   node packages/trainer/dist/src/check-backend.js --backend webgpu
 */
import { Command } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { setupBackend, type BackendChoice } from './lib/backend.js';
import { backendOption, float, positiveInt, runMain, threadsOption } from './lib/cli-common.js';
import { registerFastCpuKernels } from './lib/cpu-kernels.js';
import { drawAugment, parsePolicies } from './lib/diffaugment.js';
import { buildSaganGenerator } from '@sagan-serve/model-contract/sagan-graph';
import { checkParity, toGraphWeights } from './lib/export-model.js';
import { clearConstants } from './lib/layers.js';
import { makeModelConfig } from './lib/model-config.js';
import { Rng } from './lib/rng.js';
import { maxRelativeDifference } from './lib/compare.js';
import { SyntheticSource } from './lib/synthetic.js';
import { DEFAULT_HYPER, Trainer } from './lib/trainer.js';

interface Options {
  backend: BackendChoice;
  threads?: number;
  size: number;
  width: number;
  batch: number;
  classes: number;
  diffaugment: string;
  steps: number;
  tolerance: number;
}

const program = new Command()
  .name('check-backend')
  .description('Compare losses, gradients and export parity of a tfjs backend with the CPU backend')
  .addOption(backendOption('backend to check', 'webgpu'))
  .addOption(threadsOption())
  .option('--size <px>', 'image side', positiveInt, 16)
  .option('--width <ch>', 'base channels', positiveInt, 4)
  .option('--batch <n>', 'batch size', positiveInt, 4)
  .option('--classes <n>', 'classes', positiveInt, 3)
  .option('--diffaugment <list>', 'DiffAugment policies or none', 'color,translation,cutout')
  .option('--steps <n>', 'training iterations on CPU before the comparison (non-trivial state)', positiveInt, 2)
  .option('--tolerance <t>', 'max relative gradient difference', float, 2e-3);

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<Options>();
  const target = await setupBackend(o.backend, { threads: o.threads });
  registerFastCpuKernels();
  console.log(`checking ${target.description} against cpu`);
  const model = makeModelConfig({ imageSize: o.size, numClasses: o.classes, gWidth: o.width, zDim: 32 });
  const hyper = {
    ...DEFAULT_HYPER,
    batch: o.batch,
    augment: parsePolicies(o.diffaugment),
    emaStart: 1,
    emaDecay: 0.5,
    seed: 5,
  };

  await tf.setBackend('cpu');
  clearConstants();
  const ref = new Trainer(model, hyper, new SyntheticSource(o.size, o.classes, 2));
  for (let i = 0; i < o.steps; i++) await ref.trainStep();
  const state = ref.state();
  const tensors = await ref.stateTensors();
  const rng = new Rng(99);
  const batch = new SyntheticSource(o.size, o.classes, 7).next(o.batch, rng);
  const inputs = {
    realX: batch.images,
    realY: batch.labels,
    z: rng.normal(o.batch * model.g.zDim),
    fakeY: Int32Array.from({ length: o.batch }, () => rng.int(o.classes)),
    augment: drawAugment(hyper.augment, 2 * o.batch, o.size, rng),
    augmentG: drawAugment(hyper.augment, o.batch, o.size, rng),
  };
  const want = await ref.probeGradients(inputs);
  ref.dispose();

  await tf.setBackend(target.name);
  clearConstants();
  const t = new Trainer(model, hyper, new SyntheticSource(o.size, o.classes, 2), 'none');
  t.loadState(state, tensors);
  const got = await t.probeGradients(inputs);
  const dLossErr = Math.abs(got.dLoss - want.dLoss) / Math.max(1, Math.abs(want.dLoss));
  const gLossErr = Math.abs(got.gLoss - want.gLoss) / Math.max(1, Math.abs(want.gLoss));
  const dErr = maxRelativeDifference(got.dGrad, want.dGrad);
  const gErr = maxRelativeDifference(got.gGrad, want.gGrad);
  console.log(
    `D loss ${got.dLoss.toFixed(6)} vs cpu ${want.dLoss.toFixed(6)} (rel ${dLossErr.toExponential(2)}); D gradient max rel diff ${dErr.toExponential(2)}`,
  );
  console.log(
    `G loss ${got.gLoss.toFixed(6)} vs cpu ${want.gLoss.toFixed(6)} (rel ${gLossErr.toExponential(2)}); G gradient max rel diff ${gErr.toExponential(2)}`,
  );
  const { weights, stats } = await t.inferenceWeights();
  const parity = await checkParity(
    buildBytes(model, t, weights, stats),
    model,
    t.gLayout,
    t.sLayout,
    weights,
    stats,
    1e-4,
  ).catch((err: Error) => err);
  if (parity instanceof Error) console.log(`export parity on ${target.name}: FAILED: ${parity.message}`);
  else
    console.log(
      `export parity on ${target.name}: max |diff| image ${parity.maxAbsImage.toExponential(2)}, attention ${parity.maxAbsAttention?.toExponential(2)}`,
    );
  const ok =
    dErr <= o.tolerance &&
    gErr <= o.tolerance &&
    dLossErr <= o.tolerance &&
    gLossErr <= o.tolerance &&
    !(parity instanceof Error);
  console.log(ok ? 'backend check passed' : 'backend check FAILED');
  if (!ok) process.exitCode = 1;
  t.dispose();
}

function buildBytes(
  model: ReturnType<typeof makeModelConfig>,
  t: Trainer,
  weights: Float32Array,
  stats: Float32Array,
): Uint8Array {
  return buildSaganGenerator(model.g, toGraphWeights(model, t.gLayout, t.sLayout, weights, stats));
}

runMain(main);
