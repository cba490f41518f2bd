/**
 * Trains a class-conditional SAGAN with TensorFlow.js and writes checkpoints, sample grids and a JSONL
 * loss log under --out. See the trainer's README.md.
 *
 *   npm run train -- --data /tmp/stanford-dogs-4 --annotations /tmp/stanford-dogs-4/Annotation \
 *     --size 64 --width 32 --batch 64 --steps 20000 --out runs/dogs64 --backend webgpu \
 *     --diffaugment color,translation,cutout --max-minutes 9
 *   npm run train -- --out runs/dogs64 --resume --steps 30000 --max-minutes 9
 */
import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import { setupBackend, type BackendChoice } from './lib/backend.js';
import {
  loadCheckpoint,
  saveCheckpoint,
  type CheckpointMeta,
  type DataDescription,
  type StoredDtype,
} from './lib/checkpoint.js';
import {
  backendOption,
  float,
  formatBytes,
  formatDuration,
  intList,
  positiveInt,
  runMain,
  side,
  threadsOption,
} from './lib/cli-common.js';
import { classCounts, DatasetSource, loadDataset } from './lib/data.js';
import { parsePolicies } from './lib/diffaugment.js';
import { makeModelConfig, type ModelConfig } from './lib/model-config.js';
import { INIT_SCHEMES, type InitScheme } from './lib/params.js';
import { writeSampleGrid } from './lib/samples.js';
import { DEFAULT_HYPER, Trainer, type TrainHyper } from './lib/trainer.js';

interface Options {
  data?: string;
  annotations?: string;
  size: number;
  out: string;
  backend: BackendChoice;
  threads?: number;
  submitBatch: number;
  steps: number;
  batch: number;
  width: number;
  dWidth?: number;
  zDim: number;
  gMultipliers?: number[];
  dMultipliers?: number[];
  gAttention?: number | null;
  dAttention?: number | null;
  poolKeys: boolean;
  lrG: number;
  lrD: number;
  beta1: number;
  beta2: number;
  adamEps: number;
  nDis: number;
  emaDecay: number;
  emaStart: number;
  bnMomentum: number;
  diffaugment: string;
  init: InitScheme;
  seed: number;
  logEvery: number;
  sampleEvery: number;
  checkpointEvery: number;
  samplesPerClass: number;
  maxMinutes?: number;
  momentsDtype: StoredDtype;
  resume: boolean;
  cache?: string;
  progress: boolean;
}

const program = new Command()
  .name('train')
  .description('Train a class-conditional SAGAN (TensorFlow.js); checkpoints, samples and logs go to --out')
  .requiredOption('--out <dir>', 'run directory (checkpoint/, samples/, log.jsonl, dataset cache)')
  .option('--data <dir>', 'ImageFolder directory: <dir>/<class>/<image> (or <dir>/Images/<class>/...)')
  .option('--annotations <dir>', 'Pascal-VOC annotations: <dir>/<class folder>/<image id>; crops to the largest box')
  .option('--size <px>', 'image side: 32, 64 or 128 (others with --g-multipliers/--d-multipliers)', positiveInt, 64)
  .addOption(backendOption('tfjs backend', 'auto'))
  .addOption(threadsOption())
  .option(
    '--submit-batch <n>',
    'WebGPU: WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE (kernels recorded per queue submit)',
    positiveInt,
    200,
  )
  .option(
    '--steps <n>',
    'train until this many iterations (one iteration = n-dis D steps + 1 G step)',
    positiveInt,
    10000,
  )
  .option('--batch <n>', 'batch size (D and G steps)', positiveInt, DEFAULT_HYPER.batch)
  .option('--width <ch>', "G base channels ('ch' / gf_dim)", positiveInt, 32)
  .option('--d-width <ch>', 'D base channels (default: --width)', positiveInt)
  .option('--z-dim <n>', 'latent size', positiveInt, 128)
  .option(
    '--g-multipliers <list>',
    'G channel multipliers per resolution from 4x4 (default: the SAGAN layout for --size)',
    intList,
  )
  .option('--d-multipliers <list>', 'D channel multipliers per block (default: the BigGAN layout for --size)', intList)
  .addOption(
    new Option(
      '--g-attention <side>',
      "G self-attention feature-map side, or 'none' (default 32 at 64/128 px, 16 at 32 px)",
    ).argParser(side),
  )
  .addOption(
    new Option('--d-attention <side>', "D self-attention feature-map side, or 'none' (default as G)").argParser(side),
  )
  .option('--no-pool-keys', 'do not 2x2 max-pool attention keys and values')
  .option('--lr-g <lr>', 'G Adam learning rate', float, DEFAULT_HYPER.lrG)
  .option('--lr-d <lr>', 'D Adam learning rate', float, DEFAULT_HYPER.lrD)
  .option('--beta1 <b>', 'Adam beta1', float, DEFAULT_HYPER.beta1)
  .option('--beta2 <b>', 'Adam beta2', float, DEFAULT_HYPER.beta2)
  .option('--adam-eps <e>', 'Adam epsilon', float, DEFAULT_HYPER.adamEps)
  .option('--n-dis <n>', 'D steps per G step', positiveInt, DEFAULT_HYPER.nDis)
  .option(
    '--ema-decay <d>',
    'EMA decay of G weights (the EMA generator is what export ships)',
    float,
    DEFAULT_HYPER.emaDecay,
  )
  .option(
    '--ema-start <n>',
    'iteration from which the EMA averages (before: a copy of G)',
    positiveInt,
    DEFAULT_HYPER.emaStart,
  )
  .option('--bn-momentum <m>', 'weight of batch statistics in the running BN averages', float, DEFAULT_HYPER.bnMomentum)
  .option('--diffaugment <list>', "DiffAugment policies: comma list of color, translation, cutout, or 'none'", 'none')
  .addOption(new Option('--init <scheme>', 'weight initialisation').choices([...INIT_SCHEMES]).default('ortho'))
  .option('--seed <n>', 'seed of initialisation, data order, z, augmentation', positiveInt, 1)
  .option('--log-every <n>', 'read losses back and log them every n iterations', positiveInt, 50)
  .option('--sample-every <n>', 'write a sample grid every n iterations', positiveInt, 500)
  .option(
    '--checkpoint-every <n>',
    'checkpoint every n iterations (and on SIGINT/SIGTERM, --max-minutes, the end)',
    positiveInt,
    1000,
  )
  .option('--samples-per-class <n>', 'columns of the sample grid', positiveInt, 8)
  .option(
    '--max-minutes <m>',
    'stop (with a checkpoint) before this much wall time has passed; resume with --resume',
    float,
  )
  .addOption(
    new Option('--moments-dtype <dtype>', 'Adam moments in checkpoints: float32 (exact resume) or float16 (smaller)')
      .choices(['float32', 'float16'])
      .default('float32'),
  )
  .option(
    '--resume',
    'continue from <out>/checkpoint (model and hyper-parameters come from it; --steps can extend)',
    false,
  )
  .option('--cache <file>', 'decoded dataset cache (default <out>/dataset-<size>.bin)')
  .option('--no-progress', 'no progress bar (log lines only)');

function hyperFrom(o: Options): TrainHyper {
  return {
    batch: o.batch,
    lrD: o.lrD,
    lrG: o.lrG,
    beta1: o.beta1,
    beta2: o.beta2,
    adamEps: o.adamEps,
    nDis: o.nDis,
    emaDecay: o.emaDecay,
    emaStart: o.emaStart,
    bnMomentum: o.bnMomentum,
    augment: parsePolicies(o.diffaugment),
    init: o.init,
    seed: o.seed,
  };
}

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<Options>();
  const started = Date.now();
  const out = o.out;
  await mkdir(out, { recursive: true });
  const logFile = path.join(out, 'log.jsonl');
  const log = async (record: Record<string, unknown>): Promise<void> =>
    appendFile(logFile, `${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`);

  let resumed: Awaited<ReturnType<typeof loadCheckpoint>> | undefined;
  if (o.resume) {
    resumed = await loadCheckpoint(out);
    console.log(
      `resuming from ${resumed.dir} at iteration ${resumed.meta.step} (model and hyper-parameters from the checkpoint)`,
    );
  }
  const dataDir = o.data ?? resumed?.meta.data.dataset;
  if (!dataDir) throw new Error('--data is required (or --resume with a checkpoint that names its dataset)');
  const annotations = o.annotations ?? resumed?.meta.data.annotations;
  const size = resumed?.meta.model.g.imageSize ?? o.size;

  const backend = await setupBackend(o.backend, { deferredSubmitBatchSize: o.submitBatch, threads: o.threads });
  console.log(`backend: ${backend.description}`);
  for (const why of backend.skipped) console.log(`  (skipped: ${why})`);

  const cacheFile = o.cache ?? path.join(out, `dataset-${size}.bin`);
  const t0 = Date.now();
  const data = await loadDataset({
    data: dataDir,
    annotations,
    size,
    cacheFile,
    onProgress: (done, total) => {
      if (done === total || done % 500 === 0) process.stdout.write(`\rdecoding images ${done}/${total}`);
    },
  });
  if (!data.fromCache) process.stdout.write('\n');
  const counts = classCounts(data);
  console.log(
    `data: ${data.count} images in ${data.classes.length} classes (${data.classes.map((c, i) => `${c} ${counts[i]}`).join(', ')}); ` +
      `${data.skipped} skipped (undecodable)${annotations ? `, ${data.noBox} without a bounding box (centre crop)` : ''}; ` +
      `${data.fromCache ? `cache ${cacheFile}` : `decoded in ${((Date.now() - t0) / 1000).toFixed(1)} s, cached to ${cacheFile}`}`,
  );
  if (resumed && resumed.meta.data.classes.join(',') !== data.classes.join(',')) {
    throw new Error(
      `dataset classes changed since the checkpoint: ${resumed.meta.data.classes.join(', ')} -> ${data.classes.join(', ')}`,
    );
  }

  const model: ModelConfig =
    resumed?.meta.model ??
    makeModelConfig({
      imageSize: size,
      numClasses: data.classes.length,
      gWidth: o.width,
      dWidth: o.dWidth,
      zDim: o.zDim,
      gMultipliers: o.gMultipliers,
      dMultipliers: o.dMultipliers,
      gAttention: o.gAttention,
      dAttention: o.dAttention,
      poolKeys: o.poolKeys,
    });
  const hyper = resumed?.meta.hyper ?? hyperFrom(o);
  const source = new DatasetSource(data, hyper.seed);
  const tInit = Date.now();
  const trainer = await Trainer.create(model, hyper, source, { restoring: Boolean(resumed) });
  if (resumed) trainer.loadState(resumed.meta.state, resumed.tensors);
  else console.log(`initialised (${hyper.init}) in ${((Date.now() - tInit) / 1000).toFixed(1)} s`);
  const dataInfo: DataDescription = {
    dataset: dataDir,
    classes: data.classes,
    folders: data.folders,
    images: data.count,
    skipped: data.skipped,
    ...(annotations ? { annotations } : {}),
  };
  console.log(
    `model: G ${(trainer.gLayout.count / 1e6).toFixed(2)} M params (${model.g.imageSize}px, width ${model.g.width}, attention ${model.g.attentionResolution ?? 'none'}), ` +
      `D ${(trainer.dLayout.count / 1e6).toFixed(2)} M params (width ${model.d.width}, attention ${model.d.attentionResolution ?? 'none'}); ` +
      `spectral norm: ${trainer.snG.count} + ${trainer.snD.count} weights in ${trainer.snG.buckets.length} + ${trainer.snD.buckets.length} batched groups`,
  );
  console.log(
    `training: batch ${hyper.batch}, lr G ${hyper.lrG} D ${hyper.lrD}, betas (${hyper.beta1}, ${hyper.beta2}), n_dis ${hyper.nDis}, ` +
      `EMA ${hyper.emaDecay} from ${hyper.emaStart}, DiffAugment ${hyper.augment.join('+') || 'off'}, init ${hyper.init}, seed ${hyper.seed}; ` +
      `iterations ${trainer.step} -> ${o.steps}`,
  );
  await log({
    event: resumed ? 'resume' : 'start',
    step: trainer.step,
    backend: backend.name,
    model,
    hyper,
    data: dataInfo,
  });

  const checkpoint = async (why: string): Promise<CheckpointMeta> => {
    const t = Date.now();
    const meta = await saveCheckpoint(
      out,
      {
        step: trainer.step,
        state: trainer.state(),
        model,
        hyper,
        data: dataInfo,
        layouts: { g: trainer.gLayout.signature(), d: trainer.dLayout.signature(), stats: trainer.sLayout.signature() },
      },
      await trainer.stateTensors(),
      { momentsDtype: o.momentsDtype, backend: backend.name },
    );
    const secs = (Date.now() - t) / 1000;
    bar?.stop();
    console.log(
      `checkpoint (${why}) at iteration ${trainer.step}: ${formatBytes(meta.totalBytes)} in ${meta.shards.length} file(s), ${secs.toFixed(1)} s`,
    );
    barStart();
    await log({
      event: 'checkpoint',
      step: trainer.step,
      reason: why,
      bytes: meta.totalBytes,
      files: meta.shards.length,
      seconds: secs,
    });
    lastCheckpointSeconds = secs;
    return meta;
  };
  const samples = async (): Promise<void> => {
    const file = path.join(out, 'samples', `step-${String(trainer.step).padStart(6, '0')}.png`);
    const t = Date.now();
    await writeSampleGrid(trainer, file, o.samplesPerClass);
    lastSampleMs = Date.now() - t;
    await log({ event: 'samples', step: trainer.step, file });
  };

  let stopReason: string | undefined;
  let signals = 0;
  const onSignal = (sig: string): void => {
    signals += 1;
    if (signals > 1) {
      console.error(`\n${sig} again: exiting without a checkpoint`);
      process.exit(130);
    }
    stopReason = sig;
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  const useBar = o.progress;
  let bar: cliProgress.SingleBar | undefined;
  const payload = { rate: '-', lossD: '-', lossG: '-' };
  let loopDone = false;
  function barStart(): void {
    if (!useBar || loopDone || trainer.step >= o.steps) return;
    bar = new cliProgress.SingleBar(
      {
        format: 'train |{bar}| {value}/{total} | {rate} it/s | ETA {eta_formatted} | D {lossD} G {lossG}',
        hideCursor: true,
        noTTYOutput: true,
        notTTYSchedule: 30000,
        etaBuffer: 200,
        etaAsynchronousUpdate: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(o.steps, trainer.step, payload);
  }
  let lastCheckpointSeconds = 3;
  let lastSampleMs = 2000;
  const limitMs = o.maxMinutes !== undefined ? o.maxMinutes * 60_000 : Infinity;
  const rateWindow: { step: number; t: number }[] = [{ step: trainer.step, t: Date.now() }];
  let reportedRate = false;
  barStart();
  while (trainer.step < o.steps) {
    if (stopReason) break;
    const elapsed = Date.now() - started;
    const last = rateWindow[rateWindow.length - 1];
    const first = rateWindow[0];
    const perStepMs = last.step > first.step ? (last.t - first.t) / (last.step - first.step) : 0;
    // leave room for 3 more iterations, the final checkpoint and sample grid (twice their last durations)
    if (elapsed + 3 * perStepMs + 2000 * lastCheckpointSeconds + 2 * lastSampleMs + 1000 > limitMs) {
      stopReason = `--max-minutes ${o.maxMinutes}`;
      break;
    }
    const next = trainer.step + 1;
    const wantLosses = next % o.logEvery === 0 || next === o.steps || next === 1;
    const losses = await trainer.trainStep(wantLosses);
    const now = Date.now();
    rateWindow.push({ step: trainer.step, t: now });
    while (rateWindow.length > 2 && now - rateWindow[0].t > 60_000) rateWindow.shift();
    const w0 = rateWindow[0];
    const rate = trainer.step > w0.step ? (1000 * (trainer.step - w0.step)) / Math.max(1, now - w0.t) : 0;
    payload.rate = rate.toFixed(2);
    if (losses) {
      payload.lossD = losses.lossD.toFixed(3);
      payload.lossG = losses.lossG.toFixed(3);
      await log({ step: trainer.step, ...losses, it_per_s: Number(rate.toFixed(3)) });
      if (![losses.lossD, losses.lossG].every(Number.isFinite)) {
        stopReason = 'non-finite loss';
        bar?.stop();
        console.error(
          `\nnon-finite loss at iteration ${trainer.step}: ${JSON.stringify(losses)}; stopping (the checkpoint before it is kept)`,
        );
        process.exitCode = 2;
        break;
      }
    }
    if (!reportedRate && trainer.step - rateWindow[0].step >= 10 && rateWindow.length >= 11) {
      reportedRate = true;
      bar?.stop();
      console.log(
        `backend ${backend.name}: ${rate.toFixed(2)} it/s (${(1000 / rate).toFixed(0)} ms per iteration) over the first iterations; ` +
          `ETA ${formatDuration((o.steps - trainer.step) / rate)} for ${o.steps - trainer.step} more`,
      );
      barStart();
    }
    bar?.update(trainer.step, payload);
    if (trainer.step % o.sampleEvery === 0) await samples();
    if (trainer.step % o.checkpointEvery === 0 && trainer.step < o.steps) await checkpoint('periodic');
    await new Promise((r) => setImmediate(r)); // let signal handlers run
  }
  loopDone = true;
  bar?.stop();
  bar = undefined;
  if (stopReason !== 'non-finite loss') {
    await checkpoint(stopReason ?? 'end');
    if (trainer.step % o.sampleEvery !== 0) await samples();
  }
  const total = (Date.now() - started) / 1000;
  console.log(
    `${stopReason ? `stopped (${stopReason})` : 'done'} at iteration ${trainer.step}/${o.steps} after ${formatDuration(total)}; run directory ${out}`,
  );
  if (stopReason && trainer.step < o.steps && stopReason !== 'non-finite loss')
    console.log(
      `continue with: npm run train -- --out ${out} --resume --steps ${o.steps}${o.maxMinutes ? ` --max-minutes ${o.maxMinutes}` : ''}`,
    );
  await log({ event: 'stop', step: trainer.step, reason: stopReason ?? 'end', seconds: total });
  trainer.dispose();
}

runMain(main);
