/**
 * Batched spectral normalisation over a flat parameter buffer (see params.ts).
 *
 * Every SN weight is viewed as a matrix A (conv [kh*kw*in, out], linear [in, out], embedding
 * [classes, C]; transposed when that makes it tall, which leaves the singular values unchanged).
 * Weights are grouped into a few "buckets"; a bucket holds n matrices zero-padded to a common
 * [R, C] and gathered from the flat buffer in one op, so one power iteration for ALL weights of a
 * network is a fixed, small number of kernels per bucket (batched matmuls), not per weight:
 *
 *   v = normalize(A u),  u = normalize(A^T v),  sigma = v^T A u     (u, v carry no gradient)
 *
 * u is kept between steps (one iteration per step, as in the released SAGAN / BigGAN code).
 *
 * `scale(theta, s)` is the normalisation itself, W / sigma(W), as ONE custom-gradient op over the
 * flat buffer. With a_i = v[row_i] u[col_i] (so sigma_k = sum_{i in k} a_i theta_i exactly):
 *
 *   y_i = theta_i / sigma_k
 *   dL/dtheta_i = dy_i / sigma_k - a_i / sigma_k^2 * sum_{j in k} dy_j theta_j
 *
 * Non-SN elements (biases, BN gains, attention gamma) have scale 1 and a = 0.
 */
import * as tf from '@tensorflow/tfjs';
import { customOp } from './layers.js';
import { matrixView, type ParamLayout } from './params.js';
import type { Rng } from './rng.js';

export interface SnWeight {
  name: string;
  offset: number;
  /** Stored matrix [rows0, cols0] (row-major at offset). */
  rows0: number;
  cols0: number;
  /** Oriented matrix is the transpose of the stored one. */
  transposed: boolean;
  rows: number;
  cols: number;
}

export interface SnBucket {
  members: SnWeight[];
  R: number;
  C: number;
  /** Index of the bucket's first weight in the global SN numbering (bucket order). */
  first: number;
  /** int32 [n*R*C]: flat-buffer index of each padded matrix element (zero slot for padding). */
  padIdx: tf.Tensor1D;
}

/** The normalisation of one step: per-element scale and d(sigma)/d(theta), kept tensors. */
export interface SnScale {
  /** [total] 1/sigma of the element's weight (1 for non-SN elements). */
  s: tf.Tensor1D;
  /** [total] v[row] u[col] of the element (0 for non-SN elements). */
  a: tf.Tensor1D;
  /** [nSN + 1] 1/sigma per SN weight, then 1. */
  sigmaInv: tf.Tensor1D;
  /** [nSN] sigma per SN weight (bucket order). */
  sigma: tf.Tensor1D;
}

export function disposeScale(s: SnScale | undefined): void {
  if (!s) return;
  tf.dispose([s.s, s.a, s.sigmaInv, s.sigma]);
}

const NORM_EPS = 1e-12;

function l2normalize(x: tf.Tensor3D): tf.Tensor3D {
  // x [n, L, 1]: unit vectors along axis 1
  const ss = tf.sum(tf.square(x), 1, true);
  return tf.mul(x, tf.rsqrt(tf.maximum(ss, NORM_EPS)));
}

/** Groups weights (sorted by cols, then rows, descending) while the padding stays moderate. */
function makeBuckets(weights: SnWeight[], slack: number, absoluteSlack: number): SnWeight[][] {
  const sorted = [...weights].sort((a, b) => b.cols - a.cols || b.rows - a.rows || a.offset - b.offset);
  const buckets: SnWeight[][] = [];
  let current: SnWeight[] = [];
  let maxR = 0;
  let maxC = 0;
  let actual = 0;
  for (const w of sorted) {
    if (current.length > 0) {
      const r = Math.max(maxR, w.rows);
      const c = Math.max(maxC, w.cols);
      const padded = (current.length + 1) * r * c;
      const real = actual + w.rows * w.cols;
      if (padded <= slack * real + absoluteSlack) {
        current.push(w);
        maxR = r;
        maxC = c;
        actual = real;
        continue;
      }
      buckets.push(current);
    }
    current = [w];
    maxR = w.rows;
    maxC = w.cols;
    actual = w.rows * w.cols;
  }
  if (current.length > 0) buckets.push(current);
  return buckets;
}

export interface SpectralNormOptions {
  /** Padded size allowed per bucket: slack * real elements + absoluteSlack. Defaults 2 and 2^18. */
  slack?: number;
  absoluteSlack?: number;
}

export class SpectralNorm {
  readonly weights: SnWeight[];
  readonly buckets: SnBucket[];
  /** Length of the flat buffer. */
  readonly total: number;
  /** int32 [total]: SN weight number of each element (nSN for non-SN elements). */
  private readonly elemWeight: tf.Tensor1D;
  /** int32 [total]: position of each element in the concatenated padded matrices (last = a 0). */
  private readonly elemToPad: tf.Tensor1D;
  private readonly paddedTotal: number;
  /** u per bucket, [n, C, 1]; padding entries stay 0. */
  private us: tf.Tensor3D[];
  private readonly scaleOp: (theta: tf.Tensor1D, s: tf.Tensor1D, a: tf.Tensor1D, sigmaInv: tf.Tensor1D) => tf.Tensor1D;

  constructor(
    readonly layout: ParamLayout,
    rng: Rng,
    opts: SpectralNormOptions = {},
  ) {
    const weights: SnWeight[] = [];
    for (const spec of layout.specs) {
      if (!spec.sn) continue;
      const [rows0, cols0] = matrixView(spec);
      const transposed = rows0 < cols0;
      weights.push({
        name: spec.name,
        offset: layout.offset(spec.name),
        rows0,
        cols0,
        transposed,
        rows: transposed ? cols0 : rows0,
        cols: transposed ? rows0 : cols0,
      });
    }
    this.total = layout.total;
    const groups = makeBuckets(weights, opts.slack ?? 2, opts.absoluteSlack ?? 2 ** 18);
    this.weights = groups.flat();
    const elemWeight = new Int32Array(this.total).fill(this.weights.length);
    const padPositions = groups.reduce(
      (sum, g) => sum + g.length * Math.max(...g.map((w) => w.rows)) * Math.max(...g.map((w) => w.cols)),
      0,
    );
    this.paddedTotal = padPositions;
    const elemToPad = new Int32Array(this.total).fill(padPositions);
    this.buckets = [];
    let first = 0;
    let base = 0;
    for (const members of groups) {
      const R = Math.max(...members.map((w) => w.rows));
      const C = Math.max(...members.map((w) => w.cols));
      const padIdx = new Int32Array(members.length * R * C).fill(layout.zeroSlot);
      members.forEach((w, k) => {
        for (let r = 0; r < w.rows; r++) {
          for (let c = 0; c < w.cols; c++) {
            const elem = w.offset + (w.transposed ? c * w.cols0 + r : r * w.cols0 + c);
            const pos = k * R * C + r * C + c;
            padIdx[pos] = elem;
            elemToPad[elem] = base + pos;
            elemWeight[elem] = first + k;
          }
        }
      });
      this.buckets.push({ members, R, C, first, padIdx: tf.keep(tf.tensor1d(padIdx, 'int32')) });
      first += members.length;
      base += members.length * R * C;
    }
    this.elemWeight = tf.keep(tf.tensor1d(elemWeight, 'int32'));
    this.elemToPad = tf.keep(tf.tensor1d(elemToPad, 'int32'));
    this.us = this.buckets.map((b) => {
      const u = new Float32Array(b.members.length * b.C);
      b.members.forEach((w, k) => {
        const part = u.subarray(k * b.C, k * b.C + w.cols);
        rng.fillNormal(part);
        let n = 0;
        for (const x of part) n += x * x;
        n = Math.sqrt(n);
        for (let i = 0; i < part.length; i++) part[i] /= n;
      });
      return tf.keep(tf.tensor3d(u, [b.members.length, b.C, 1]));
    });
    this.scaleOp = this.makeScaleOp();
  }

  get count(): number {
    return this.weights.length;
  }

  /** Number of padded matrix elements over all buckets (memory of the batched power iteration). */
  get paddedSize(): number {
    return this.paddedTotal;
  }

  /**
   * Power iteration(s) from the stored u, then sigma, the per-element scale and a. With `update`,
   * the new u replace the stored ones (training); without, they are left alone (export, samples).
   * The returned tensors are kept: dispose them with disposeScale.
   */
  normalize(theta: tf.Tensor1D, opts: { update: boolean; iterations?: number }): SnScale {
    const iterations = opts.iterations ?? 1;
    if (!(iterations >= 1)) throw new Error('spectral norm needs at least one power iteration');
    const newUs: tf.Tensor3D[] = [];
    const result = tf.tidy(() => {
      const sigmas: tf.Tensor1D[] = [];
      const outers: tf.Tensor1D[] = [];
      this.buckets.forEach((b, bi) => {
        const n = b.members.length;
        const A = tf.reshape(tf.gather(theta, b.padIdx), [n, b.R, b.C]) as tf.Tensor3D;
        let u = this.us[bi];
        let v: tf.Tensor3D | undefined;
        for (let it = 0; it < iterations; it++) {
          v = l2normalize(tf.matMul(A, u));
          u = l2normalize(tf.matMul(A, v, true, false));
        }
        const Au = tf.matMul(A, u);
        sigmas.push(tf.reshape(tf.sum(tf.mul(v!, Au), [1, 2]), [n]) as tf.Tensor1D);
        outers.push(tf.reshape(tf.matMul(v!, u, false, true), [-1]) as tf.Tensor1D);
        if (opts.update) newUs.push(tf.keep(u));
      });
      const sigma = sigmas.length === 1 ? sigmas[0] : tf.concat(sigmas);
      const sigmaInv = tf.concat([tf.reciprocal(sigma), tf.ones([1])]) as tf.Tensor1D;
      const s = tf.gather(sigmaInv, this.elemWeight) as tf.Tensor1D;
      const a = tf.gather(tf.concat([...outers, tf.zeros([1])]), this.elemToPad) as tf.Tensor1D;
      return { s, a, sigmaInv, sigma };
    });
    if (opts.update) {
      tf.dispose(this.us);
      this.us = newUs;
    }
    return result;
  }

  /** A forward-only normalisation from stored sigmas (bucket order); a = 0, so no gradient through it. */
  scaleFromSigma(sigma: Float32Array): SnScale {
    if (sigma.length !== this.weights.length)
      throw new Error(`spectral norm: ${sigma.length} sigmas for ${this.weights.length} weights`);
    return tf.tidy(() => {
      const sig = tf.tensor1d(sigma);
      const sigmaInv = tf.concat([tf.reciprocal(sig), tf.ones([1])]) as tf.Tensor1D;
      return {
        s: tf.gather(sigmaInv, this.elemWeight) as tf.Tensor1D,
        a: tf.zeros([this.total]) as tf.Tensor1D,
        sigmaInv,
        sigma: sig,
      };
    });
  }

  /** W / sigma over the flat buffer, with the gradient described at the top of this file. */
  scale(theta: tf.Tensor1D, sn: SnScale): tf.Tensor1D {
    return this.scaleOp(theta, sn.s, sn.a, sn.sigmaInv);
  }

  private makeScaleOp(): (theta: tf.Tensor1D, s: tf.Tensor1D, a: tf.Tensor1D, sigmaInv: tf.Tensor1D) => tf.Tensor1D {
    return (theta, s, a, sigmaInv) => {
      const op = customOp(([x], save) => {
        save([x]);
        return {
          value: tf.mul(x, s),
          gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
            const [xs] = saved;
            const t = tf.mul(dy, xs);
            const sums = this.buckets.map((b) =>
              tf.sum(tf.reshape(tf.gather(t, b.padIdx), [b.members.length, b.R * b.C]), 1),
            );
            const perWeight = tf.concat([...sums, tf.zeros([1])]);
            const coef = tf.mul(perWeight, tf.square(sigmaInv));
            const corr = tf.mul(a, tf.gather(coef, this.elemWeight));
            return [tf.sub(tf.mul(dy, s), corr)];
          },
        };
      });
      return op(theta) as tf.Tensor1D;
    };
  }

  /** Host copies of the u vectors, one Float32Array per bucket ([n * C]). */
  async exportU(): Promise<Float32Array[]> {
    return Promise.all(this.us.map(async (u) => Float32Array.from(await u.data())));
  }

  importU(values: Float32Array[]): void {
    if (values.length !== this.buckets.length)
      throw new Error(`spectral norm state has ${values.length} u buffers, expected ${this.buckets.length}`);
    const next = this.buckets.map((b, i) => {
      if (values[i].length !== b.members.length * b.C)
        throw new Error(`spectral norm u ${i} has ${values[i].length} values, expected ${b.members.length * b.C}`);
      return tf.keep(tf.tensor3d(values[i], [b.members.length, b.C, 1]));
    });
    tf.dispose(this.us);
    this.us = next;
  }

  dispose(): void {
    tf.dispose([...this.us, this.elemWeight, this.elemToPad, ...this.buckets.map((b) => b.padIdx)]);
  }
}
