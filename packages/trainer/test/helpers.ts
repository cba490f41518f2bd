/** Shared helpers for the trainer tests: CPU backend, gradient checks, tiny configs. */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../src/lib/backend.js';
import { maxRelativeDifference } from '../src/lib/compare.js';
import { makeModelConfig, type ModelConfig } from '../src/lib/model-config.js';
import { Rng } from '../src/lib/rng.js';
import { DEFAULT_HYPER, type TrainHyper } from '../src/lib/trainer.js';

/** The backend the trainer tests run on: TRAIN_TEST_BACKEND, cpu by default (npm test runs them on torch too). */
export const TEST_BACKEND: 'cpu' | 'torch' = process.env.TRAIN_TEST_BACKEND === 'torch' ? 'torch' : 'cpu';

/**
 * Sets up TEST_BACKEND. Returns why the tests must be skipped only when that is torch and libtorch is
 * not installed on this machine (node:test then reports them as skipped with the reason); any other
 * failure to load the torch backend (libtorch present, addon missing or broken) is thrown.
 */
export async function trainerBackend(): Promise<string | undefined> {
  if (TEST_BACKEND === 'cpu') {
    await setupBackend('cpu');
    return undefined;
  }
  try {
    await setupBackend('torch', { threads: 2 });
    return undefined;
  } catch (err) {
    if ((err as Error & { cause?: { reason?: string } }).cause?.reason === 'libtorch-missing')
      return (err as Error).message;
    throw err;
  }
}

export function randomTensor(shape: number[], rng: Rng, scale = 1): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(rng.normal(n, 0, scale), shape);
}

/** sum(R * f(xs)) in float64 on the host. */
async function projected(f: (xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], r: Float32Array): Promise<number> {
  const out = tf.tidy(() => f(xs));
  const v = await out.data();
  out.dispose();
  let s = 0;
  for (let i = 0; i < v.length; i++) s += r[i] * v[i];
  return s;
}

export interface GradCheckOptions {
  eps?: number;
  /** Allowed |analytic - numeric| relative to max(|analytic|, |numeric|, floor). */
  rtol?: number;
  floor?: number;
  directions?: number;
  seed?: number;
  /** Function whose finite differences are compared (default f itself). */
  numeric?: (xs: tf.Tensor[]) => tf.Tensor;
}

/**
 * Directional finite-difference check of tf.grads of L = sum(R * f(xs)) for every input:
 * for random directions d (one input at a time), (L(x + eps d) - L(x - eps d)) / 2 eps = <dL/dx, d>.
 */
export async function checkGradients(
  name: string,
  f: (xs: tf.Tensor[]) => tf.Tensor,
  xs: tf.Tensor[],
  opts: GradCheckOptions = {},
): Promise<void> {
  const rng = new Rng(opts.seed ?? 7);
  const eps = opts.eps ?? 1e-2;
  const rtol = opts.rtol ?? 1e-2;
  const floor = opts.floor ?? 1e-3;
  const outShape = tf.tidy(() => f(xs)).shape;
  const r = rng.normal(outShape.reduce((a, b) => a * b, 1));
  const rT = tf.tensor(r, outShape);
  const grads = tf.grads((...args: tf.Tensor[]) => tf.sum(tf.mul(rT, f(args))))(xs);
  for (let i = 0; i < xs.length; i++) {
    const g = await grads[i].data();
    for (let k = 0; k < (opts.directions ?? 2); k++) {
      const d = rng.normal(xs[i].size);
      let analytic = 0;
      for (let j = 0; j < d.length; j++) analytic += g[j] * d[j];
      const shifted = (sign: number): tf.Tensor[] =>
        xs.map((x, j) => (j === i ? tf.add(x, tf.mul(tf.tensor(d, x.shape), sign * eps)) : x));
      const plus = shifted(1);
      const minus = shifted(-1);
      const nf = opts.numeric ?? f;
      const numeric = ((await projected(nf, plus, r)) - (await projected(nf, minus, r))) / (2 * eps);
      tf.dispose([plus[i], minus[i]]);
      const scale = Math.max(Math.abs(analytic), Math.abs(numeric), floor);
      assert.ok(
        Math.abs(analytic - numeric) <= rtol * scale,
        `${name}: input ${i} direction ${k}: analytic ${analytic.toPrecision(7)} vs finite difference ${numeric.toPrecision(7)} (rel err ${(Math.abs(analytic - numeric) / scale).toExponential(2)})`,
      );
    }
  }
  tf.dispose([rT, ...grads]);
}

/** Max |a - b| relative to max |b|. */
export async function relMaxDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const av = await a.data();
  const bv = await b.data();
  assert.equal(av.length, bv.length);
  return maxRelativeDifference(av, bv);
}

/** A tiny model: 16x16, G width 4 (attention at 8x8 with 8 channels), D width 4, 3 classes, z 16. */
export function tinyModel(overrides: Partial<Parameters<typeof makeModelConfig>[0]> = {}): ModelConfig {
  return makeModelConfig({ imageSize: 16, numClasses: 3, gWidth: 4, zDim: 16, ...overrides });
}

export function tinyHyper(overrides: Partial<TrainHyper> = {}): TrainHyper {
  return { ...DEFAULT_HYPER, batch: 4, emaStart: 1, emaDecay: 0.9, seed: 3, ...overrides };
}
