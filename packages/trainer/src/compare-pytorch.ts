/**
 * The side-by-side speed check of a training iteration: PyTorch eager (pytorch/train_step_reference.py,
 * run with Debian's python3-torch) against the trainer on a tfjs backend (bench-train.ts), same model
 * configuration, batch and DiffAugment, same thread count, in interleaved rounds on the same machine.
 *
 *   npm run bench:train:pytorch -- --config 64,8,32 --config 32,16,32 --rounds 3
 *
 * PyTorch runs in each memory format (NCHW, channels_last) and with two allocator settings: glibc as
 * installed, and glibc told to keep freed memory (MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=...), which on
 * a machine where page faults are slow is most of PyTorch's time (BENCHMARKS.md, "torch backend"). The
 * ratio is against the fastest PyTorch variant. Each process times the mean of its iterations after a
 * warm-up; the table gives the median over rounds and the range.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { percentile } from '@sagan-serve/bench-stats';
import { cpuLabel, describeCpu } from '@sagan-serve/bench-stats/cpu';
import { MAX_THREADS, positiveInt, runMain, threadCount } from './lib/cli-common.js';
import { parsePolicies } from './lib/diffaugment.js';
import { makeModelConfig, resolveDiscriminator, resolveGenerator, trainingIterationFlops } from './lib/model-config.js';
import { describeModel } from './lib/trainer.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The trainer package's root, from the compiled script (dist/src/). */
const packageRoot = path.resolve(here, '..', '..');
const REFERENCE = path.join(packageRoot, 'pytorch', 'train_step_reference.py');
const BENCH = path.join(here, 'bench-train.js');
const KEEP_FREED = { MALLOC_MMAP_MAX_: '0', MALLOC_TRIM_THRESHOLD_: String(64 * 1024 ** 3) };

interface Options {
  config: string[];
  rounds: number;
  iterations: number;
  warmup: number;
  threads: number;
  diffaugment: string;
  python: string;
  backend: string;
  json?: string;
}

const program = new Command()
  .name('compare-pytorch')
  .description('Seconds per training iteration, PyTorch eager vs a tfjs backend, interleaved')
  .option(
    '--config <size,width,batch>',
    'a configuration (repeatable)',
    (v: string, prev: string[]) => [...prev, v],
    [] as string[],
  )
  .option('--rounds <n>', 'interleaved rounds', positiveInt, 3)
  .option('--iterations <n>', 'timed iterations per process', positiveInt, 8)
  .option('--warmup <n>', 'untimed iterations first', positiveInt, 3)
  .option(
    '--threads <n>',
    `threads for both, 1 to ${MAX_THREADS} (default: every core)`,
    threadCount,
    Math.min(cpus().length, MAX_THREADS),
  )
  .option('--diffaugment <list>', 'DiffAugment policies or none', 'color,translation,cutout')
  .option('--python <path>', "Python with PyTorch (Debian's python3-torch)", '/usr/bin/python3')
  .option('--backend <name>', 'tfjs backend', 'torch')
  .option('--json <file>', 'write the results as JSON');

function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(out)
        : reject(
            new Error(
              `${path.basename(cmd)} ${args.slice(0, 2).join(' ')} exited ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`,
            ),
          ),
    );
  });
}

interface Variant {
  name: string;
  measure: () => Promise<number>;
}

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<Options>();
  const configs = (o.config.length ? o.config : ['64,8,32', '32,16,32']).map((c) => {
    const [size, width, batch] = c.split(',').map(Number);
    if (![size, width, batch].every((n) => Number.isInteger(n) && n > 0))
      throw new Error(`--config wants size,width,batch (e.g. 64,8,32), got '${c}'`);
    return { size, width, batch };
  });
  const augment = parsePolicies(o.diffaugment);
  const dir = await mkdtemp(path.join(tmpdir(), 'compare-pytorch-'));
  const results: Record<string, unknown>[] = [];
  try {
    for (const { size, width, batch } of configs) {
      const model = makeModelConfig({ imageSize: size, numClasses: 4, gWidth: width });
      const { gParams, dParams } = describeModel(model);
      const configFile = path.join(dir, `config-${size}-${width}-${batch}.json`);
      await writeFile(
        configFile,
        JSON.stringify({ g: resolveGenerator(model.g), d: resolveDiscriminator(model.d), batch, nDis: 1, augment }),
      );
      const pytorch = (format: string, env: Record<string, string>) => async () => {
        const out = JSON.parse(
          await run(
            o.python,
            [
              REFERENCE,
              '--config',
              configFile,
              '--iterations',
              String(o.iterations),
              '--warmup',
              String(o.warmup),
              '--threads',
              String(o.threads),
              '--memory-format',
              format,
            ],
            env,
          ),
        ) as { s_per_iteration_mean: number; g_params: number; d_params: number };
        if (out.g_params !== gParams || out.d_params !== dParams)
          throw new Error(
            `PyTorch reference has ${out.g_params}/${out.d_params} parameters, the trainer ${gParams}/${dParams}`,
          );
        return out.s_per_iteration_mean;
      };
      const tfjs = async () => {
        const json = path.join(dir, 'bench.json');
        await run(process.execPath, [
          BENCH,
          '--backend',
          o.backend,
          '--threads',
          String(o.threads),
          '--size',
          String(size),
          '--width',
          String(width),
          '--batch',
          String(batch),
          '--diffaugment',
          o.diffaugment,
          '--steps',
          String(o.iterations),
          '--warmup',
          String(o.warmup),
          '--no-profile',
          '--no-phases',
          '--json',
          json,
        ]);
        return (JSON.parse(await readFile(json, 'utf8')) as { msPerIteration: number }).msPerIteration / 1000;
      };
      const variants: Variant[] = [
        { name: `tfjs ${o.backend}`, measure: tfjs },
        { name: 'pytorch NCHW', measure: pytorch('contiguous', {}) },
        { name: 'pytorch channels_last', measure: pytorch('channels_last', {}) },
        { name: 'pytorch NCHW, keep freed memory', measure: pytorch('contiguous', KEEP_FREED) },
        { name: 'pytorch channels_last, keep freed memory', measure: pytorch('channels_last', KEEP_FREED) },
      ];
      const times = new Map<string, number[]>(variants.map((v) => [v.name, []]));
      for (let round = 0; round < o.rounds; round++) {
        for (const v of variants) {
          const s = await v.measure();
          times.get(v.name)!.push(s);
          console.error(
            `  ${size}px width ${width} batch ${batch}, round ${round + 1}/${o.rounds}: ${v.name} ${s.toFixed(3)} s/iteration`,
          );
        }
      }
      const flops = trainingIterationFlops(model, batch);
      const summary = variants.map((v) => ({
        name: v.name,
        median: percentile(times.get(v.name)!, 50),
        all: times.get(v.name)!,
      }));
      const ours = summary[0];
      const bestPytorch = summary.slice(1).reduce((a, b) => (b.median < a.median ? b : a));
      const defaultPytorch = summary.slice(1, 3).reduce((a, b) => (b.median < a.median ? b : a));
      console.log(
        `\n${size}px, width ${width}, batch ${batch}, DiffAugment ${augment.join('+') || 'off'}; G ${(gParams / 1e6).toFixed(3)} M / D ${(dParams / 1e6).toFixed(3)} M parameters; ` +
          `${(flops / 1e9).toFixed(1)} GFLOP per iteration; ${o.threads} threads; ${o.rounds} interleaved rounds of ${o.iterations} iterations`,
      );
      for (const s of summary) {
        console.log(
          `  ${s.name.padEnd(42)} ${s.median.toFixed(3)} s/iteration (${Math.min(...s.all).toFixed(3)}-${Math.max(...s.all).toFixed(3)}), ${(flops / s.median / 1e9).toFixed(0)} GFLOP/s`,
        );
      }
      console.log(
        `  ratio tfjs ${o.backend} / fastest PyTorch (${bestPytorch.name}): ${(ours.median / bestPytorch.median).toFixed(2)}x; / PyTorch as installed (${defaultPytorch.name}): ${(ours.median / defaultPytorch.median).toFixed(2)}x`,
      );
      results.push({
        size,
        width,
        batch,
        augment,
        gParams,
        dParams,
        gflopPerIteration: flops / 1e9,
        threads: o.threads,
        rounds: o.rounds,
        iterations: o.iterations,
        variants: summary,
        ratioToFastestPytorch: ours.median / bestPytorch.median,
        ratioToDefaultPytorch: ours.median / defaultPytorch.median,
      });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  // The speed tables name the machine beside each figure: AVX2 and AVX-512 machines differ by more than
  // the margins measured here.
  const cpu = describeCpu();
  console.log(`\nmachine: ${cpuLabel(cpu)}`);
  if (o.json) await writeFile(o.json, `${JSON.stringify({ machine: cpu, results }, null, 2)}\n`);
}

runMain(main);
