/**
 * Training-step benchmark on whatever backend runs: iterations per second, ms per iteration, ms per
 * phase, and the number of GPU kernels dispatched per iteration (the number that decides WebGPU
 * speed: each dispatch costs ~0.2 ms of overhead there). Defaults are a tiny configuration that
 * finishes in well under a minute on the CPU backend; on a GPU:
 *
 *   npm run bench:train -- --backend webgpu --size 64 --width 32 --batch 64 --steps 30
 */
import { writeFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { setupBackend, syncBackend, type BackendChoice } from './lib/backend.js';
import { backendOption, nonNegativeInt, positiveInt, runMain, side, threadsOption } from './lib/cli-common.js';
import { parsePolicies } from './lib/diffaugment.js';
import { makeModelConfig } from './lib/model-config.js';
import { SyntheticSource } from './lib/synthetic.js';
import { DEFAULT_HYPER, Trainer } from './lib/trainer.js';

interface Options {
  backend: BackendChoice;
  submitBatch: number;
  size: number;
  width: number;
  batch: number;
  classes: number;
  zDim: number;
  gAttention?: number | null;
  dAttention?: number | null;
  nDis: number;
  diffaugment: string;
  steps: number;
  warmup: number;
  readEvery: number;
  profile: boolean;
  kernelTimes: number;
  phases: boolean;
  memoryEvery?: number;
  threads?: number;
  json?: string;
}

const program = new Command()
  .name('bench-train')
  .description('Benchmark SAGAN training iterations (synthetic data) on a tfjs backend')
  .addOption(backendOption('tfjs backend', 'auto'))
  .addOption(threadsOption())
  .option(
    '--submit-batch <n>',
    'WebGPU: WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE (kernels recorded per queue submit)',
    positiveInt,
    200,
  )
  .option('--size <px>', 'image side', positiveInt, 16)
  .option('--width <ch>', 'G and D base channels', positiveInt, 4)
  .option('--batch <n>', 'batch size', positiveInt, 4)
  .option('--classes <n>', 'classes', positiveInt, 4)
  .option('--z-dim <n>', 'latent size', positiveInt, 128)
  .addOption(new Option('--g-attention <side>', "G attention side or 'none'").argParser(side))
  .addOption(new Option('--d-attention <side>', "D attention side or 'none'").argParser(side))
  .option('--n-dis <n>', 'D steps per G step', positiveInt, 1)
  .option('--diffaugment <list>', 'DiffAugment policies or none', 'none')
  .option('--steps <n>', 'timed iterations', positiveInt, 10)
  .option('--warmup <n>', 'untimed iterations first (shader compilation, allocation)', positiveInt, 3)
  .option('--read-every <n>', 'read the losses back every n iterations (as train --log-every)', positiveInt, 50)
  .option('--no-profile', 'skip the kernel count (tf.profile of one iteration)')
  .option('--no-phases', 'skip the per-phase timing')
  .option(
    '--kernel-times <n>',
    'print the n slowest kernel calls of the profiled iteration (0: none)',
    nonNegativeInt,
    25,
  )
  .option(
    '--memory-every <n>',
    "print tensors, RSS and the backend's memory every n timed iterations (a leak check over --steps)",
    positiveInt,
  )
  .option('--json <file>', 'write the results as JSON');

const FREE_KERNELS = new Set(['Reshape', 'Identity', 'Cast']);

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<Options>();
  const backend = await setupBackend(o.backend, { deferredSubmitBatchSize: o.submitBatch, threads: o.threads });
  const model = makeModelConfig({
    imageSize: o.size,
    numClasses: o.classes,
    gWidth: o.width,
    zDim: o.zDim,
    gAttention: o.gAttention,
    dAttention: o.dAttention,
  });
  const hyper = { ...DEFAULT_HYPER, batch: o.batch, nDis: o.nDis, augment: parsePolicies(o.diffaugment), emaStart: 1 };
  const trainer = await Trainer.create(model, hyper, new SyntheticSource(o.size, o.classes));
  console.log(`backend: ${backend.description}`);
  for (const why of backend.skipped) console.log(`  (skipped: ${why})`);
  console.log(
    `config: ${o.size}px, width ${o.width}, batch ${o.batch}, ${o.classes} classes, n_dis ${o.nDis}, DiffAugment ${hyper.augment.join('+') || 'off'}; ` +
      `G ${(trainer.gLayout.count / 1e6).toFixed(3)} M, D ${(trainer.dLayout.count / 1e6).toFixed(3)} M parameters; ` +
      `SN groups G ${trainer.snG.buckets.length}, D ${trainer.snD.buckets.length}`,
  );

  const t0 = performance.now();
  for (let i = 0; i < o.warmup; i++) await trainer.trainStep(i === o.warmup - 1);
  console.log(`warm-up: ${o.warmup} iterations in ${((performance.now() - t0) / 1000).toFixed(2)} s`);

  const results: Record<string, unknown> = { backend: backend.name, description: backend.description, options: o };
  if (o.profile) {
    try {
      const torch = backend.name === 'torch' ? await import('@sagan-serve/tfjs-backend-torch') : undefined;
      torch?.resetKernelCounts();
      const prof = await tf.profile(async () => {
        const t = await trainer.trainStepTensors(true);
        await t?.data();
        t?.dispose();
      });
      const counts = new Map<string, number>();
      for (const k of prof.kernels) {
        if (!tf.getKernel(k.name, backend.name) || FREE_KERNELS.has(k.name)) continue;
        counts.set(k.name, (counts.get(k.name) ?? 0) + 1);
      }
      const total = [...counts.values()].reduce((a, b) => a + b, 0);
      const top = [...counts.entries()].sort((a, b) => b[1] - a[1]);
      console.log(
        `kernels per iteration: ${total} tfjs kernels (${prof.kernels.length} ops recorded incl. reshapes/identities; ` +
          `on WebGPU some kernels dispatch several programs, e.g. SplitV one per piece); top: ${top
            .slice(0, 12)
            .map(([k, n]) => `${k} ${n}`)
            .join(', ')}`,
      );
      results.kernels = { tfjsKernels: total, recorded: prof.kernels.length, byName: Object.fromEntries(top) };
      // Where the iteration's time goes, by kernel and input shapes: tf.profile times each kernel call
      // (synchronous backends: until its outputs are ready), so the sum approaches the iteration's time.
      const msByCall = new Map<string, { ms: number; calls: number }>();
      let kernelMs = 0;
      for (const k of prof.kernels) {
        // op scopes (fusedConv2d__op, a custom op's forward) are recorded too and would count their kernels twice
        if (!tf.getKernel(k.name, backend.name)) continue;
        const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
        kernelMs += ms;
        const key = `${k.name} ${k.inputShapes.map((s) => `[${s?.join(',') ?? ''}]`).join(' ')}`;
        const entry = msByCall.get(key) ?? { ms: 0, calls: 0 };
        entry.ms += ms;
        entry.calls++;
        msByCall.set(key, entry);
      }
      const slowest = [...msByCall.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, o.kernelTimes);
      if (o.kernelTimes > 0) {
        console.log(`kernel time in one profiled iteration: ${kernelMs.toFixed(1)} ms; slowest kernel calls:`);
        for (const [key, { ms, calls }] of slowest)
          console.log(`  ${ms.toFixed(2).padStart(8)} ms  ${String(calls).padStart(3)}x  ${key}`);
      }
      results.kernelTimes = { totalMs: kernelMs, slowest: slowest.map(([call, t]) => ({ call, ...t })) };
      if (torch) {
        // how each call ran: in libtorch, as a view of existing memory, or on the cpu backend's kernel
        const paths = torch.kernelCounts();
        const sum = (m: Record<string, number>): number => Object.values(m).reduce((a, b) => a + b, 0);
        const fallbacks =
          Object.entries(paths.cpu)
            .map(([k, n]) => `${k} ${n}`)
            .join(', ') || 'none';
        console.log(
          `torch kernels per iteration: ${sum(paths.native)} native, ${sum(paths.view)} views (${Object.keys(paths.view).join(', ')}), ${sum(paths.cpu)} on the cpu backend's kernels: ${fallbacks}`,
        );
        results.torchKernelPaths = paths;
      }
    } catch (err) {
      console.log(
        `kernel count unavailable on this backend (tf.profile failed: ${(err as Error).message}); use --no-profile`,
      );
    }
  }

  // WebGPU: count the programs actually dispatched in one iteration (some tfjs kernels run several)
  const be = tf.backend() as unknown as { runWebGPUProgram?: (...args: unknown[]) => unknown };
  if (typeof be.runWebGPUProgram === 'function') {
    const original = be.runWebGPUProgram;
    let dispatches = 0;
    const byProgram = new Map<string, number>();
    be.runWebGPUProgram = function (this: unknown, ...args: unknown[]) {
      dispatches += 1;
      const name = (args[0] as { constructor?: { name?: string } } | undefined)?.constructor?.name ?? '?';
      byProgram.set(name, (byProgram.get(name) ?? 0) + 1);
      return original.apply(this, args);
    };
    try {
      const t = await trainer.trainStepTensors(true);
      await t?.data();
      t?.dispose();
    } finally {
      be.runWebGPUProgram = original;
    }
    const top = [...byProgram.entries()].sort((a, b) => b[1] - a[1]);
    console.log(
      `WebGPU programs dispatched per iteration: ${dispatches}; top: ${top
        .slice(0, 14)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')}`,
    );
    results.webgpuDispatches = { total: dispatches, byProgram: Object.fromEntries(top) };
  }

  // throughput as in training: no reads except every readEvery iterations
  await syncBackend();
  const memory: Record<string, unknown>[] = [];
  const recordMemory = (iteration: number): void => {
    const backendMemory = tf.backend().memory() as { pool?: { buffersInUse: number; freeBytes: number } };
    const row = {
      iteration,
      tensors: tf.memory().numTensors,
      rssMiB: process.memoryUsage().rss / 2 ** 20,
      heapUsedMiB: process.memoryUsage().heapUsed / 2 ** 20,
      ...(backendMemory.pool
        ? { poolBuffersInUse: backendMemory.pool.buffersInUse, poolIdleMiB: backendMemory.pool.freeBytes / 2 ** 20 }
        : {}),
    };
    memory.push(row);
    console.log(
      `memory after ${iteration} iterations: ${row.tensors} tensors, RSS ${row.rssMiB.toFixed(0)} MiB, JS heap ${row.heapUsedMiB.toFixed(0)} MiB` +
        (backendMemory.pool
          ? `, pool ${backendMemory.pool.buffersInUse} buffers in use, ${(backendMemory.pool.freeBytes / 2 ** 20).toFixed(0)} MiB idle`
          : ''),
    );
  };
  if (o.memoryEvery) recordMemory(0);
  const t1 = performance.now();
  for (let i = 0; i < o.steps; i++) {
    await trainer.trainStep((i + 1) % o.readEvery === 0 || i === o.steps - 1);
    if (o.memoryEvery && (i + 1) % o.memoryEvery === 0) recordMemory(i + 1);
  }
  await syncBackend();
  const ms = (performance.now() - t1) / o.steps;
  console.log(
    `throughput: ${(1000 / ms).toFixed(3)} it/s, ${ms.toFixed(1)} ms per iteration (${o.steps} iterations, losses read every ${o.readEvery})`,
  );
  results.msPerIteration = ms;
  if (memory.length) results.memory = memory;
  results.itPerSecond = 1000 / ms;

  // phases, with a sync after each (the syncs add a little)
  const phases: Record<string, number> = {};
  const steps = o.phases ? Math.max(1, Math.min(o.steps, 5)) : 0;
  for (let i = 0; i < steps; i++) {
    let last = performance.now();
    await trainer.trainStepTensors(false, async (name) => {
      await syncBackend();
      const now = performance.now();
      phases[name] = (phases[name] ?? 0) + (now - last);
      last = now;
    });
  }
  if (steps > 0) {
    for (const k of Object.keys(phases)) phases[k] /= steps;
    console.log(
      `phases (ms per iteration, synced): ${Object.entries(phases)
        .map(([k, v]) => `${k} ${v.toFixed(1)}`)
        .join(', ')}`,
    );
    results.phasesMs = phases;
  }
  console.log(
    `tensors alive: ${tf.memory().numTensors}, bytes: ${(tf.memory().numBytes / 1024 / 1024).toFixed(1)} MiB`,
  );
  if (o.json) await writeFile(o.json, `${JSON.stringify(results, null, 2)}\n`);
  trainer.dispose();
}

runMain(main);
