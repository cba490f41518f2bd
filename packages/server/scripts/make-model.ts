/**
 * Writes a placeholder (untrained, random-weight) SAGAN generator model directory:
 *
 *   node dist/scripts/make-model.js --out models/dogs64 --size 64 --width 8 \
 *     --classes maltese_dog,golden_retriever,german_shepherd,saint_bernard --attention 32 \
 *     --name dogs64 --version 0-untrained
 *
 * Produces models/dogs64/generator.onnx and models/dogs64/model.json with "untrained": true.
 * `--num-classes N` instead of `--classes` names the classes class_0 .. class_<N-1> (e.g. the paper's
 * 1000 ImageNet classes: --size 128 --width 64 --num-classes 1000 --attention 32).
 */
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { writeModelDirectory } from '@sagan-serve/model-contract/model-directory';
import {
  countParameters,
  estimateFlops,
  randomWeights,
  resolveConfig,
  type SaganGeneratorConfig,
} from '@sagan-serve/model-contract/sagan-graph';

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`not an integer: '${value}'`);
  return n;
}

function attentionSide(value: string): number | null {
  if (value === 'none') return null;
  return integer(value);
}

function classList(value: string): string[] {
  const classes = value
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c.length > 0);
  if (classes.length === 0) throw new InvalidArgumentError('give at least one class name');
  return classes;
}

function multiplierList(value: string): number[] {
  return value.split(',').map((v) => integer(v.trim()));
}

interface Options {
  out: string;
  size: number;
  width: number;
  classes?: string[];
  numClasses?: number;
  attention: number | null;
  poolKeys: boolean;
  zDim: number;
  multipliers?: number[];
  seed: number;
  name?: string;
  version: string;
  weightType: 'float32' | 'float16';
  opset: number;
}

const program = new Command()
  .name('make-model')
  .description('Write an untrained (random-weight) SAGAN generator as generator.onnx + model.json')
  .requiredOption('--out <dir>', 'model directory to write')
  .requiredOption('--size <px>', 'image side: 32, 64, 128 (any power of 2 >= 8 with --multipliers)', integer)
  .requiredOption('--width <ch>', "base channels ('ch' / gf_dim)", integer)
  .option('--classes <names>', 'comma-separated class names', classList)
  .option('--num-classes <n>', 'instead of --classes: n classes named class_0 .. class_<n-1>', integer)
  .addOption(
    new Option('--attention <side>', "feature-map side of the self-attention layer (e.g. 32), or 'none'")
      .argParser(attentionSide)
      .default(null, 'none'),
  )
  .option('--no-pool-keys', 'do not 2x2 max-pool attention keys and values')
  .option('--z-dim <n>', 'latent size', integer, 128)
  .option(
    '--multipliers <list>',
    'channel multipliers per resolution from 4x4 up (default: the SAGAN layout for --size)',
    multiplierList,
  )
  .option('--seed <n>', 'weight seed', integer, 0)
  .option('--name <name>', 'model name (default: the --out directory name)')
  .option('--version <version>', 'model version', '1')
  .option('--weight-type <type>', 'initializer storage: float32 or float16', 'float32')
  .option('--opset <n>', 'ONNX opset', integer, 17);

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<Options>();
  if ((o.classes === undefined) === (o.numClasses === undefined))
    throw new Error('give exactly one of --classes or --num-classes');
  if (o.numClasses !== undefined && o.numClasses < 1)
    throw new Error(`--num-classes must be at least 1, got ${o.numClasses}`);
  const classes = o.classes ?? Array.from({ length: o.numClasses ?? 0 }, (_, i) => `class_${i}`);
  if (o.weightType !== 'float32' && o.weightType !== 'float16')
    throw new Error(`--weight-type must be float32 or float16, got '${String(o.weightType)}'`);
  const config: SaganGeneratorConfig = {
    imageSize: o.size,
    zDim: o.zDim,
    width: o.width,
    numClasses: classes.length,
    attentionResolution: o.attention,
    poolKeys: o.poolKeys,
    ...(o.multipliers ? { channelMultipliers: o.multipliers } : {}),
  };
  const resolved = resolveConfig(config);
  const name = o.name ?? path.basename(path.resolve(o.out));
  const weights = randomWeights(config, o.seed);
  const written = await writeModelDirectory(
    o.out,
    config,
    weights,
    {
      name,
      version: o.version,
      classes,
      untrained: true,
      provenance: {
        weights: 'random',
        source:
          'random weights from scripts/make-model.ts (randomWeights in src/onnx/sagan-graph.ts); not trained, images are noise-like',
        seed: o.seed,
        config: {
          imageSize: resolved.imageSize,
          zDim: resolved.zDim,
          width: resolved.width,
          numClasses: resolved.numClasses,
          channelMultipliers: resolved.channelMultipliers,
          attentionResolution: resolved.attentionResolution,
          poolKeys: resolved.poolKeys,
          bnEpsilon: resolved.bnEpsilon,
        },
        weight_type: o.weightType,
        opset: o.opset,
        parameters: countParameters(config),
        flops_per_image: estimateFlops(config),
      },
    },
    { opset: o.opset, weightType: o.weightType },
  );
  const mb = (written.modelBytes / 2 ** 20).toFixed(2);
  process.stdout.write(
    `wrote ${written.modelPath} (${mb} MiB, ${countParameters(config)} parameters, ${(estimateFlops(config) / 1e9).toFixed(3)} GFLOPs/image) and ${written.manifestPath}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`make-model: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
