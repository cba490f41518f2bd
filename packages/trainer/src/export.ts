/**
 * Exports a training run's EMA generator as a servable model directory (generator.onnx + model.json).
 * Fails, leaving --out untouched, unless ONNX Runtime's output matches the tfjs EMA generator.
 *
 *   npm run export -- --checkpoint runs/dogs64 --out models/dogs64
 */
import path from 'node:path';
import { Command, Option } from 'commander';
import { countParameters, estimateFlops } from '@sagan-serve/model-contract/sagan-graph';
import { setupBackend, type BackendChoice } from './lib/backend.js';
import { loadCheckpoint } from './lib/checkpoint.js';
import { backendOption, float, formatBytes, positiveInt, runMain, threadsOption } from './lib/cli-common.js';
import { exportModelDirectory } from './lib/export-model.js';
import { Trainer, type BatchSource } from './lib/trainer.js';

interface Options {
  checkpoint: string;
  out: string;
  name?: string;
  version?: string;
  description?: string;
  source: 'ema' | 'g';
  snIterations: number;
  tolerance: number;
  standingStats: number;
  standingBatch?: number;
  backend: BackendChoice;
  threads?: number;
}

const program = new Command()
  .name('export')
  .description(
    'Export the EMA generator of a checkpoint to an ONNX model directory (with an ONNX Runtime parity check)',
  )
  .requiredOption('--checkpoint <dir>', 'run directory (or its checkpoint/ directory)')
  .requiredOption('--out <dir>', 'model directory to write (generator.onnx, model.json)')
  .option('--name <name>', 'model name (default: the --out directory name)')
  .option('--version <version>', 'model version (default: step-<iteration>)')
  .option('--description <text>', 'manifest description')
  .addOption(
    new Option('--source <which>', 'weights to export: ema (default) or g (the raw generator)')
      .choices(['ema', 'g'])
      .default('ema'),
  )
  .option('--sn-iterations <n>', 'power iterations for the exported spectral norms', positiveInt, 30)
  .option('--tolerance <t>', 'max |ORT - tfjs| allowed on the parity probe', float, 1e-4)
  .option(
    '--standing-stats <batches>',
    'recompute BN statistics for the exported weights from this many batches of random z (0: use the EMA running statistics)',
    (v: string) => Number(v),
    0,
  )
  .option('--standing-batch <n>', 'batch size for --standing-stats (default: the training batch)', positiveInt)
  .addOption(backendOption('tfjs backend for the reference forward', 'cpu'))
  .addOption(threadsOption());

/** Export never samples data. */
class NoData implements BatchSource {
  constructor(
    readonly imageSize: number,
    readonly numClasses: number,
  ) {}
  next(): never {
    throw new Error('export does not read training data');
  }
  state(): unknown {
    return null;
  }
  restore(): void {}
}

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<Options>();
  const backend = await setupBackend(o.backend, { threads: o.threads });
  const ckpt = await loadCheckpoint(o.checkpoint);
  const { meta } = ckpt;
  const trainer = new Trainer(
    meta.model,
    meta.hyper,
    new NoData(meta.model.g.imageSize, meta.model.g.numClasses),
    'none',
  );
  trainer.loadState({ ...meta.state, source: null }, ckpt.tensors);
  if (trainer.gLayout.signature() !== meta.layouts.g)
    throw new Error('checkpoint generator layout differs from this trainer version');
  const inference = await trainer.inferenceWeights({ source: o.source, iterations: o.snIterations });
  const { weights } = inference;
  if (!(Number.isInteger(o.standingStats) && o.standingStats >= 0))
    throw new Error(`--standing-stats must be a non-negative integer, got ${o.standingStats}`);
  const stats =
    o.standingStats > 0
      ? await trainer.standingStats(weights, o.standingStats, o.standingBatch ?? meta.hyper.batch, meta.hyper.seed)
      : inference.stats;
  const name = o.name ?? path.basename(path.resolve(o.out));
  const wordnet = (meta.data.folders ?? []).some((f) => /^n\d{8}[-_]/.test(f));
  const h = meta.hyper;
  const provenance: Record<string, unknown> = {
    weights: o.source === 'ema' ? 'EMA generator' : 'raw generator',
    trainer: 'packages/trainer (TensorFlow.js), see packages/trainer/README.md',
    dataset: meta.data.dataset,
    ...(meta.data.annotations ? { annotations: meta.data.annotations } : {}),
    classes: meta.data.classes,
    images: meta.data.images,
    steps: meta.step,
    batch: h.batch,
    lr_g: h.lrG,
    lr_d: h.lrD,
    adam: { beta1: h.beta1, beta2: h.beta2, eps: h.adamEps },
    n_dis: h.nDis,
    ema: { decay: h.emaDecay, start: h.emaStart },
    diffaugment: h.augment,
    init: h.init,
    seed: h.seed,
    loss: 'hinge',
    spectral_norm: { training_power_iterations_per_step: 1, export_power_iterations: o.snIterations },
    batch_norm_statistics:
      o.standingStats > 0
        ? { standing: { batches: o.standingStats, batch: o.standingBatch ?? meta.hyper.batch } }
        : o.source === 'ema'
          ? 'EMA of running averages'
          : 'running averages',
    config: meta.model.g,
    discriminator: meta.model.d,
    trained_on_backend: meta.backend ?? 'unknown',
    checkpoint_created: meta.created,
    date: new Date().toISOString(),
    parameters: countParameters(meta.model.g),
    flops_per_image: estimateFlops(meta.model.g),
    ...(wordnet
      ? { data_terms: 'images from ImageNet / Stanford Dogs: non-commercial research and education use only' }
      : {}),
  };
  const { written, parity } = await exportModelDirectory(
    o.out,
    meta.model,
    trainer.gLayout,
    trainer.sLayout,
    weights,
    stats,
    {
      name,
      version: o.version ?? `step-${meta.step}`,
      classes: meta.data.classes,
      description:
        o.description ??
        `SAGAN ${meta.model.g.imageSize}px generator trained for ${meta.step} iterations on ${path.basename(meta.data.dataset)} (${meta.data.classes.length} classes)`,
      provenance,
      tolerance: o.tolerance,
    },
  );
  console.log(`backend ${backend.name}; checkpoint ${ckpt.dir} (iteration ${meta.step})`);
  console.log(
    `parity (ONNX Runtime cpu vs tfjs ${o.source.toUpperCase()} generator, ${parity.batch} samples): max |diff| image ${parity.maxAbsImage.toExponential(2)}` +
      `${parity.maxAbsAttention !== null ? `, attention ${parity.maxAbsAttention.toExponential(2)}` : ''} <= ${parity.tolerance}`,
  );
  console.log(`wrote ${written.modelPath} (${formatBytes(written.modelBytes)}) and ${written.manifestPath}`);
  trainer.dispose();
}

runMain(main);
