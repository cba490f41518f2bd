/**
 * Flat parameter storage. Each network keeps all of its parameters in ONE float32 buffer (a
 * tf.Variable), so the optimiser, the EMA, spectral normalisation and checkpoints each work on a
 * single tensor with a handful of kernels whatever the number of layers. The forward pass cuts the
 * buffer into named weights with one tf.split (its gradient is one concat).
 *
 * Layout: the parameters in `specs` order, back to back, then one trailing element that is always 0
 * (the "zero slot": gathers use it for padding; nothing reads it, so its gradient is 0 and Adam
 * leaves it at 0).
 *
 * Tensor layouts are TensorFlow's: conv kernels [kh, kw, in, out] (HWIO), linear [in, out],
 * embeddings [classes, channels].
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from './rng.js';

export type ParamKind = 'conv' | 'linear' | 'embed' | 'bias' | 'bn_gain' | 'bn_bias' | 'attn_gamma';
export type InitScheme = 'ortho' | 'xavier';
export const INIT_SCHEMES: readonly InitScheme[] = ['ortho', 'xavier'];

export interface ParamSpec {
  name: string;
  shape: number[];
  kind: ParamKind;
  /** Spectrally normalised (every conv, linear and embedding weight). */
  sn: boolean;
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** A non-trainable 1-D variable holding `values` (or `size` zeros); no stray initial-value tensor. */
export function flatVariable(values: Float32Array | number): tf.Variable<tf.Rank.R1> {
  const t = typeof values === 'number' ? (tf.zeros([values]) as tf.Tensor1D) : tf.tensor1d(values);
  const v = tf.variable(t, false);
  t.dispose();
  return v;
}

/** A weight's matrix view for spectral norm: [rows, cols] over its row-major storage (cols = out). */
export function matrixView(spec: ParamSpec): [number, number] {
  const s = spec.shape;
  if (spec.kind === 'conv') return [s[0] * s[1] * s[2], s[3]];
  if (s.length !== 2) throw new Error(`matrixView: ${spec.name} has shape [${s.join(', ')}]`);
  return [s[0], s[1]];
}

export class ParamLayout {
  readonly specs: readonly ParamSpec[];
  readonly offsets: readonly number[];
  readonly sizes: readonly number[];
  /** Number of parameters (without the zero slot). */
  readonly count: number;
  /** Length of the flat buffer (count + 1). */
  readonly total: number;
  /** Index of the always-zero element. */
  readonly zeroSlot: number;
  private readonly byName: Map<string, number>;

  constructor(specs: ParamSpec[]) {
    this.specs = specs;
    const offsets: number[] = [];
    const sizes: number[] = [];
    let at = 0;
    this.byName = new Map();
    specs.forEach((s, i) => {
      if (this.byName.has(s.name)) throw new Error(`duplicate parameter ${s.name}`);
      this.byName.set(s.name, i);
      offsets.push(at);
      sizes.push(sizeOf(s.shape));
      at += sizeOf(s.shape);
    });
    this.offsets = offsets;
    this.sizes = sizes;
    this.count = at;
    this.zeroSlot = at;
    this.total = at + 1;
  }

  spec(name: string): ParamSpec {
    const i = this.byName.get(name);
    if (i === undefined) throw new Error(`unknown parameter ${name}`);
    return this.specs[i];
  }

  offset(name: string): number {
    const i = this.byName.get(name);
    if (i === undefined) throw new Error(`unknown parameter ${name}`);
    return this.offsets[i];
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** A fingerprint of names and shapes (checkpoints refuse to load into another layout). */
  signature(): string {
    return this.specs.map((s) => `${s.name}:${s.shape.join('x')}${s.sn ? ':sn' : ''}`).join(';');
  }

  /** Cuts the flat buffer into named tensors (one split op; its gradient is one concat). */
  split(flat: tf.Tensor): Record<string, tf.Tensor> {
    const pieces = tf.split(flat, [...this.sizes, 1]);
    const out: Record<string, tf.Tensor> = {};
    this.specs.forEach((s, i) => {
      out[s.name] = s.shape.length === 1 ? pieces[i] : tf.reshape(pieces[i], s.shape);
    });
    return out;
  }

  /** Named views into a host copy of the flat buffer (no copies). */
  view(flat: Float32Array): Record<string, Float32Array> {
    if (flat.length !== this.total)
      throw new Error(`flat buffer has ${flat.length} values, layout needs ${this.total}`);
    const out: Record<string, Float32Array> = {};
    this.specs.forEach((s, i) => {
      out[s.name] = flat.subarray(this.offsets[i], this.offsets[i] + this.sizes[i]);
    });
    return out;
  }

  /** Initial values: orthogonal or Xavier weights, zero biases, unit BN gains, zero attention gamma. */
  initialValues(scheme: InitScheme, rng: Rng): Float32Array {
    return this.fillInitial(scheme, rng, (rows, cols, target) => target.set(orthogonal(rows, cols, rng)));
  }

  /**
   * As initialValues, with large orthogonal matrices orthonormalised on the active tfjs backend
   * (blocked Gram-Schmidt with matmuls: seconds on a GPU where float64 JavaScript takes minutes at
   * 128 px / width 64). Draws the same Gaussian matrices from `rng`.
   */
  async initialValuesAsync(scheme: InitScheme, rng: Rng): Promise<Float32Array> {
    const big: { target: Float32Array; rows: number; cols: number; gauss: Float32Array }[] = [];
    const flat = this.fillInitial(scheme, rng, (rows, cols, target) => {
      const m = Math.max(rows, cols);
      const n = Math.min(rows, cols);
      if (m * n * n < 2e7) target.set(orthogonal(rows, cols, rng));
      else big.push({ target, rows, cols, gauss: rng.normal(m * n) }); // same draws as orthogonal()
    });
    for (const b of big) b.target.set(await orthogonalBlocked(b.rows, b.cols, b.gauss));
    return flat;
  }

  private fillInitial(
    scheme: InitScheme,
    rng: Rng,
    ortho: (rows: number, cols: number, target: Float32Array) => void,
  ): Float32Array {
    const flat = new Float32Array(this.total);
    this.specs.forEach((s, i) => {
      const out = flat.subarray(this.offsets[i], this.offsets[i] + this.sizes[i]);
      switch (s.kind) {
        case 'bias':
        case 'bn_bias':
        case 'attn_gamma':
          break;
        case 'bn_gain':
          out.fill(1);
          break;
        default: {
          const [rows, cols] = matrixView(s);
          const fanIn = s.kind === 'conv' ? s.shape[0] * s.shape[1] * s.shape[2] : s.shape[0];
          const fanOut = s.kind === 'conv' ? s.shape[0] * s.shape[1] * s.shape[3] : s.shape[1];
          if (scheme === 'ortho') ortho(rows, cols, out);
          else {
            const limit = Math.sqrt(6 / (fanIn + fanOut));
            rng.fillUniform(out, -limit, limit);
          }
        }
      }
    });
    return flat;
  }
}

/**
 * A [rows, cols] row-major matrix with orthonormal columns (rows >= cols) or rows (rows < cols), from
 * the QR decomposition (modified Gram-Schmidt, float64) of a Gaussian matrix.
 */
export function orthogonal(rows: number, cols: number, rng: Rng): Float32Array {
  const tall = rows >= cols;
  const m = tall ? rows : cols; // vector length
  const n = tall ? cols : rows; // number of orthonormal vectors
  return orthonormalize(rows, cols, rng.normal(m * n), m, n, tall);
}

function orthonormalize(
  rows: number,
  cols: number,
  gaussAll: Float32Array,
  m: number,
  n: number,
  tall: boolean,
): Float32Array {
  const vecs: Float64Array[] = [];
  for (let j = 0; j < n; j++) {
    const v = Float64Array.from(gaussAll.subarray(j * m, (j + 1) * m));
    for (let pass = 0; pass < 2; pass++) {
      for (const q of vecs) {
        let dot = 0;
        for (let k = 0; k < m; k++) dot += q[k] * v[k];
        for (let k = 0; k < m; k++) v[k] -= dot * q[k];
      }
    }
    let norm = 0;
    for (let k = 0; k < m; k++) norm += v[k] * v[k];
    norm = Math.sqrt(norm);
    if (!(norm > 1e-12)) throw new Error('orthogonal init: degenerate draw');
    for (let k = 0; k < m; k++) v[k] /= norm;
    vecs.push(v);
  }
  const out = new Float32Array(rows * cols);
  for (let j = 0; j < n; j++) {
    const q = vecs[j];
    for (let k = 0; k < m; k++) {
      if (tall) out[k * cols + j] = q[k];
      else out[j * cols + k] = q[k];
    }
  }
  return out;
}

/**
 * Orthonormal columns of the tall Gaussian matrix `gauss` (column j = gauss[j*m, (j+1)*m)) by block
 * classical Gram-Schmidt with re-orthogonalisation (CGS2): each block of 64 columns is projected
 * off the previous ones with two tfjs matmul passes, then orthonormalised in float64 JavaScript.
 * Returned in the [rows, cols] row-major layout of `orthogonal`.
 */
export async function orthogonalBlocked(
  rows: number,
  cols: number,
  gauss: Float32Array,
  block = 64,
): Promise<Float32Array> {
  const tall = rows >= cols;
  const m = tall ? rows : cols;
  const n = tall ? cols : rows;
  const q = new Float32Array(m * n); // column-major: column j at q[j*m]
  let Q: tf.Tensor2D | undefined; // [k, m], rows = finished vectors
  for (let start = 0; start < n; start += block) {
    const b = Math.min(block, n - start);
    let V = tf.tensor2d(gauss.subarray(start * m, (start + b) * m), [b, m]);
    if (Q) {
      for (let pass = 0; pass < 2; pass++) {
        const next = tf.tidy(() => tf.sub(V, tf.matMul(tf.matMul(V, Q!, false, true), Q!)));
        V.dispose();
        V = next as tf.Tensor2D;
      }
    }
    const host = Float32Array.from(await V.data());
    V.dispose();
    const local = orthonormalizeColumns(host, m, b);
    q.set(local, start * m);
    const add = tf.tensor2d(local, [b, m]);
    const merged = Q ? (tf.concat([Q, add]) as tf.Tensor2D) : add;
    if (Q) {
      Q.dispose();
      add.dispose();
    }
    Q = merged;
  }
  Q?.dispose();
  const out = new Float32Array(rows * cols);
  for (let j = 0; j < n; j++) {
    for (let k = 0; k < m; k++) {
      if (tall) out[k * cols + j] = q[j * m + k];
      else out[j * cols + k] = q[j * m + k];
    }
  }
  return out;
}

/** MGS (two passes, float64) over b vectors of length m stored back to back. */
function orthonormalizeColumns(data: Float32Array, m: number, b: number): Float32Array {
  const vecs: Float64Array[] = [];
  const out = new Float32Array(m * b);
  for (let j = 0; j < b; j++) {
    const v = Float64Array.from(data.subarray(j * m, (j + 1) * m));
    for (let pass = 0; pass < 2; pass++) {
      for (const u of vecs) {
        let dot = 0;
        for (let k = 0; k < m; k++) dot += u[k] * v[k];
        for (let k = 0; k < m; k++) v[k] -= dot * u[k];
      }
    }
    let norm = 0;
    for (let k = 0; k < m; k++) norm += v[k] * v[k];
    norm = Math.sqrt(norm);
    if (!(norm > 1e-6)) throw new Error('orthogonal init: degenerate draw');
    for (let k = 0; k < m; k++) v[k] /= norm;
    vecs.push(v);
    for (let k = 0; k < m; k++) out[j * m + k] = v[k];
  }
  return out;
}
