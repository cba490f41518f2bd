/**
 * Trainer state -> servable model directory.
 *
 *   EMA G flat weights --(power iterations, W / sigma)--> normalised weights (trainer.inferenceWeights)
 *   --(this file: names kept, conv kernels HWIO -> OIHW, BN running statistics attached)-->
 *   SaganGeneratorWeights (the model contract's sagan-graph.ts naming) --> writeModelDirectory
 *
 * The graph module folds the BN running statistics into per-class scale/shift tables. Before the
 * directory is put in place, ONNX Runtime (through the model contract's ort-session.ts) runs the written
 * generator.onnx on fixed z and classes and its output must match the tfjs EMA generator in
 * inference mode (running BN statistics) within the tolerance (default 1e-4), else export fails.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadSession, releaseSession, runSession } from '@sagan-serve/model-contract/ort-session';
import { latentForSeed } from '@sagan-serve/model-contract/seeded-latent';
import { MANIFEST_FILE } from '@sagan-serve/model-contract/manifest-file';
import { MODEL_FILE, writeModelDirectory, type WrittenModel } from '@sagan-serve/model-contract/model-directory';
import { validateWeights, type SaganGeneratorWeights } from '@sagan-serve/model-contract/sagan-graph';
import { maxAbsDifference } from './compare.js';
import { generatorForward } from './generator.js';
import { oneHot } from './layers.js';
import type { ModelConfig } from './model-config.js';
import type { ParamLayout } from './params.js';

/** HWIO [kh, kw, in, out] -> OIHW [out, in, kh, kw]. */
export function hwioToOihw(data: Float32Array, shape: readonly number[]): { data: Float32Array; shape: number[] } {
  const [kh, kw, ci, co] = shape;
  const out = new Float32Array(data.length);
  for (let h = 0; h < kh; h++) {
    for (let w = 0; w < kw; w++) {
      for (let i = 0; i < ci; i++) {
        for (let o = 0; o < co; o++) out[((o * ci + i) * kh + h) * kw + w] = data[((h * kw + w) * ci + i) * co + o];
      }
    }
  }
  return { data: out, shape: [co, ci, kh, kw] };
}

/** Normalised flat G weights + flat running statistics -> the graph module's named weights. */
export function toGraphWeights(
  model: ModelConfig,
  gLayout: ParamLayout,
  sLayout: ParamLayout,
  weights: Float32Array,
  stats: Float32Array,
): SaganGeneratorWeights {
  const w = gLayout.view(weights);
  const s = sLayout.view(stats);
  const out: SaganGeneratorWeights = {};
  for (const spec of gLayout.specs) {
    const data = w[spec.name];
    if (spec.kind === 'conv') out[spec.name] = hwioToOihw(data, spec.shape);
    else out[spec.name] = { shape: [...spec.shape], data: Float32Array.from(data) };
  }
  for (const spec of sLayout.specs) out[spec.name] = { shape: [...spec.shape], data: Float32Array.from(s[spec.name]) };
  validateWeights(model.g, out);
  return out;
}

export interface ParityInputs {
  z: Float32Array;
  y: Int32Array;
  batch: number;
}

/** Fixed probe inputs: two samples per class (at most 16), z from the server's seeded latents. */
export function parityInputs(model: ModelConfig, seed = 1234): ParityInputs {
  const K = model.g.numClasses;
  const batch = Math.min(16, Math.max(2, 2 * K));
  const z = new Float32Array(batch * model.g.zDim);
  const y = new Int32Array(batch);
  for (let i = 0; i < batch; i++) {
    z.set(latentForSeed(seed + i, model.g.zDim), i * model.g.zDim);
    y[i] = i % K;
  }
  return { z, y, batch };
}

export interface GeneratorRun {
  /** NCHW [b, 3, S, S]. */
  image: Float32Array;
  attention?: Float32Array;
}

/** The tfjs generator in inference mode (running BN statistics) on host weights. */
export async function runTfjsGenerator(
  model: ModelConfig,
  gLayout: ParamLayout,
  sLayout: ParamLayout,
  weights: Float32Array,
  stats: Float32Array,
  inputs: ParityInputs,
): Promise<GeneratorRun> {
  const out = tf.tidy(() => {
    const w = gLayout.split(tf.tensor1d(weights));
    const running = sLayout.split(tf.tensor1d(stats));
    const g = generatorForward(
      model.g,
      w,
      tf.tensor2d(inputs.z, [inputs.batch, model.g.zDim]),
      oneHot(inputs.y, model.g.numClasses),
      { training: false, running },
    );
    return { image: tf.transpose(g.image, [0, 3, 1, 2]), attention: g.attention };
  });
  try {
    const image = Float32Array.from(await out.image.data());
    const attention = out.attention ? Float32Array.from(await out.attention.data()) : undefined;
    return { image, attention };
  } finally {
    tf.dispose([out.image, ...(out.attention ? [out.attention] : [])]);
  }
}

/** The ONNX model through ort-session.ts (CPU provider). */
export async function runOnnxGenerator(
  modelPath: string | Uint8Array,
  model: ModelConfig,
  inputs: ParityInputs,
): Promise<GeneratorRun & { inputs: unknown[]; outputs: unknown[] }> {
  const loaded = await loadSession(modelPath, { providers: ['cpu'] });
  try {
    const fetches = loaded.session.outputNames.includes('attention') ? ['image', 'attention'] : ['image'];
    const yy = BigInt64Array.from(Array.from(inputs.y, (v) => BigInt(v)));
    const r = await runSession(
      loaded,
      { z: { data: inputs.z, dims: [inputs.batch, model.g.zDim] }, y: { data: yy, dims: [inputs.batch] } },
      fetches,
    );
    return {
      image: r.outputs.image.data,
      attention: r.outputs.attention?.data,
      inputs: loaded.inputs,
      outputs: loaded.outputs,
    };
  } finally {
    await releaseSession(loaded);
  }
}

export interface ParityResult {
  maxAbsImage: number;
  maxAbsAttention: number | null;
  tolerance: number;
  batch: number;
}

export class ParityError extends Error {
  override name = 'ParityError';
  constructor(
    message: string,
    readonly result: ParityResult,
  ) {
    super(message);
  }
}

/** Compares ORT on the model file with the tfjs generator; throws ParityError beyond tolerance. */
export async function checkParity(
  modelPath: string | Uint8Array,
  model: ModelConfig,
  gLayout: ParamLayout,
  sLayout: ParamLayout,
  weights: Float32Array,
  stats: Float32Array,
  tolerance = 1e-4,
): Promise<ParityResult> {
  const inputs = parityInputs(model);
  const ref = await runTfjsGenerator(model, gLayout, sLayout, weights, stats, inputs);
  const ort = await runOnnxGenerator(modelPath, model, inputs);
  const result: ParityResult = {
    maxAbsImage: maxAbsDifference(ref.image, ort.image),
    maxAbsAttention: ref.attention && ort.attention ? maxAbsDifference(ref.attention, ort.attention) : null,
    tolerance,
    batch: inputs.batch,
  };
  const worst = Math.max(result.maxAbsImage, result.maxAbsAttention ?? 0);
  if (!(worst <= tolerance)) {
    throw new ParityError(
      `export parity failed: ONNX Runtime vs tfjs EMA generator max |diff| image ${result.maxAbsImage.toExponential(3)}` +
        `${result.maxAbsAttention !== null ? `, attention ${result.maxAbsAttention.toExponential(3)}` : ''} > tolerance ${tolerance}`,
      result,
    );
  }
  return result;
}

export interface ExportOptions {
  name: string;
  version: string;
  classes: string[];
  description?: string;
  provenance: Record<string, unknown>;
  tolerance?: number;
  /** Weights the tfjs reference runs with (tests use it to prove a mismatch fails); default `weights`. */
  referenceWeights?: Float32Array;
}

/**
 * Writes the model into a temporary directory next to `outDir`, checks parity on the written
 * generator.onnx, then moves generator.onnx and model.json into `outDir` (other files there, such as
 * eval caches, are left alone). Nothing is changed in `outDir` when parity fails.
 */
export async function exportModelDirectory(
  outDir: string,
  model: ModelConfig,
  gLayout: ParamLayout,
  sLayout: ParamLayout,
  weights: Float32Array,
  stats: Float32Array,
  opts: ExportOptions,
): Promise<{ written: WrittenModel; parity: ParityResult }> {
  const graphWeights = toGraphWeights(model, gLayout, sLayout, weights, stats);
  const tmp = `${outDir.replace(/[\\/]+$/, '')}.tmp-export-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  try {
    const draft = await writeModelDirectory(tmp, model.g, graphWeights, {
      name: opts.name,
      version: opts.version,
      classes: opts.classes,
      untrained: false,
      description: opts.description,
      provenance: opts.provenance,
    });
    const parity = await checkParity(
      draft.modelPath,
      model,
      gLayout,
      sLayout,
      opts.referenceWeights ?? weights,
      stats,
      opts.tolerance ?? 1e-4,
    );
    // record the parity numbers in the manifest before it is moved into place
    const manifest = {
      ...draft.manifest,
      provenance: {
        ...(draft.manifest.provenance ?? {}),
        export_parity: {
          max_abs_image: parity.maxAbsImage,
          max_abs_attention: parity.maxAbsAttention,
          tolerance: parity.tolerance,
          batch: parity.batch,
          runtime: 'onnxruntime-node cpu vs tfjs',
        },
      },
    };
    await writeFile(draft.manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    await mkdir(outDir, { recursive: true });
    await rename(draft.modelPath, path.join(outDir, MODEL_FILE));
    await rename(draft.manifestPath, path.join(outDir, MANIFEST_FILE));
    const written: WrittenModel = {
      ...draft,
      dir: outDir,
      modelPath: path.join(outDir, MODEL_FILE),
      manifestPath: path.join(outDir, MANIFEST_FILE),
      manifest,
    };
    return { written, parity };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
