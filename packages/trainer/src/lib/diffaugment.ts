/**
 * DiffAugment (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training"),
 * applied to every image D sees (real and fake, in both D and G steps), differentiable for fakes.
 * Policies as in the reference code:
 *   color:       brightness + U(-0.5, 0.5); saturation x U(0, 2) around the pixel's channel mean;
 *                contrast x U(0.5, 1.5) around the image mean
 *   translation: integer shift by up to 1/8 of the side in x and y, zero fill
 *   cutout:      a zero square of half the side at a random centre
 * The random draws come from the trainer's Rng (JavaScript side, checkpointed); translation and
 * cutout become one gather (source pixel index per output pixel) and one mask multiply.
 */
import * as tf from '@tensorflow/tfjs';
import { customOp } from './layers.js';
import type { Rng } from './rng.js';

export type AugmentPolicy = 'color' | 'translation' | 'cutout';
export const AUGMENT_POLICIES: readonly AugmentPolicy[] = ['color', 'translation', 'cutout'];

export interface AugmentParams {
  n: number;
  size: number;
  color?: { brightness: Float32Array; saturation: Float32Array; contrast: Float32Array };
  /**
   * Source pixel (flat over [n*S*S]) per output pixel; the mask zeroes fills and the cutout.
   * Unmasked outputs read distinct sources (a translation), so the gradient is a gather too:
   * source s gets the gradient of output inverse[s] when inverseMask[s] = 1.
   */
  spatial?: { index: Int32Array; mask: Float32Array; inverse: Int32Array; inverseMask: Float32Array };
}

export function parsePolicies(text: string): AugmentPolicy[] {
  if (text === '' || text === 'none') return [];
  const list = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const p of list) {
    if (!(AUGMENT_POLICIES as readonly string[]).includes(p))
      throw new Error(`unknown DiffAugment policy '${p}' (allowed: ${AUGMENT_POLICIES.join(', ')}, or none)`);
  }
  return list as AugmentPolicy[];
}

export function drawAugment(
  policies: readonly AugmentPolicy[],
  n: number,
  size: number,
  rng: Rng,
): AugmentParams | undefined {
  if (policies.length === 0) return undefined;
  const params: AugmentParams = { n, size };
  if (policies.includes('color')) {
    params.color = {
      brightness: rng.fillUniform(new Float32Array(n), -0.5, 0.5),
      saturation: rng.fillUniform(new Float32Array(n), 0, 2),
      contrast: rng.fillUniform(new Float32Array(n), 0.5, 1.5),
    };
  }
  const translate = policies.includes('translation');
  const cutout = policies.includes('cutout');
  if (translate || cutout) {
    const plane = size * size;
    const index = new Int32Array(n * plane);
    const mask = new Float32Array(n * plane);
    const shift = Math.floor(size * 0.125 + 0.5);
    const cut = Math.floor(size * 0.5 + 0.5);
    for (let i = 0; i < n; i++) {
      const tx = translate ? rng.int(2 * shift + 1) - shift : 0;
      const ty = translate ? rng.int(2 * shift + 1) - shift : 0;
      const cx = cutout ? rng.int(size + (1 - (cut % 2))) : -size;
      const cy = cutout ? rng.int(size + (1 - (cut % 2))) : -size;
      const x0 = cx - Math.floor(cut / 2);
      const y0 = cy - Math.floor(cut / 2);
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const o = i * plane + y * size + x;
          const sy = y + ty;
          const sx = x + tx;
          const inside = sy >= 0 && sy < size && sx >= 0 && sx < size;
          const cutHere = cutout && y >= y0 && y < y0 + cut && x >= x0 && x < x0 + cut;
          // masked pixels read themselves (value irrelevant, mask 0): no gradient pile-up on one index
          index[o] = inside && !cutHere ? i * plane + sy * size + sx : o;
          mask[o] = inside && !cutHere ? 1 : 0;
        }
      }
    }
    const inverse = new Int32Array(n * plane);
    const inverseMask = new Float32Array(n * plane);
    for (let o = 0; o < index.length; o++) inverse[o] = o;
    for (let o = 0; o < index.length; o++) {
      if (mask[o] === 1) {
        inverse[index[o]] = o;
        inverseMask[index[o]] = 1;
      }
    }
    params.spatial = { index, mask, inverse, inverseMask };
  }
  return params;
}

/** Applies drawn augmentations to x [n, S, S, 3] (differentiable w.r.t. x). */
export function applyAugment(x: tf.Tensor4D, p: AugmentParams | undefined): tf.Tensor4D {
  if (!p) return x;
  const [n, h, w, c] = x.shape;
  if (n !== p.n || h !== p.size || w !== p.size)
    throw new Error(`augment params for [${p.n}, ${p.size}, ${p.size}], images are [${n}, ${h}, ${w}]`);
  let y = x;
  if (p.color) {
    const col = (v: Float32Array): tf.Tensor4D => tf.tensor4d(v, [n, 1, 1, 1]);
    y = tf.add(y, col(p.color.brightness));
    const m1 = tf.mean(y, 3, true);
    y = tf.add(tf.mul(tf.sub(y, m1), col(p.color.saturation)), m1);
    const m2 = tf.reshape(tf.mean(tf.reshape(y, [n, h * w * c]), 1), [n, 1, 1, 1]);
    y = tf.add(tf.mul(tf.sub(y, m2), col(p.color.contrast)), m2);
  }
  if (p.spatial) {
    const sp = p.spatial;
    const rows = n * h * w;
    const index = tf.tensor1d(sp.index, 'int32');
    const mask = tf.tensor2d(sp.mask, [rows, 1]);
    const inverse = tf.tensor1d(sp.inverse, 'int32');
    const inverseMask = tf.tensor2d(sp.inverseMask, [rows, 1]);
    // the index tensors are made inside the caller's tape: save() keeps them for the backward
    const op = customOp(([flat], save) => {
      save([mask, inverse, inverseMask]);
      return {
        value: tf.mul(tf.gather(flat, index), mask),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [m, inv, invMask] = saved;
          return tf.mul(tf.gather(tf.mul(dy, m), inv), invMask);
        },
      };
    });
    y = tf.reshape(op(tf.reshape(y, [rows, c])), [n, h, w, c]);
  }
  return y;
}
