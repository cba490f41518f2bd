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
import { Rng } from './rng.js';

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
    if (flat.length !== this.total) throw new Error(`flat buffer has ${flat.length} values, layout needs ${this.total}`);
    const out: Record<string, Float32Array> = {};
    this.specs.forEach((s, i) => {
      out[s.name] = flat.subarray(this.offsets[i], this.offsets[i] + this.sizes[i]);
    });
    return out;
  }

  /** Initial values: orthogonal or Xavier weights, zero biases, unit BN gains, zero attention gamma. */
  initialValues(scheme: InitScheme, rng: Rng): Float32Array {
    const flat = new Float32Array(this.total);
    this.specs.forEach((s, i) => {
      const out = flat.subarray(this.offsets[i], this.offsets[i] + this.sizes[i]);
      switch (s.kind) {
        case 'bias': case 'bn_bias': case 'attn_gamma':
          break;
        case 'bn_gain':
          out.fill(1);
          break;
        default: {
          const [rows, cols] = matrixView(s);
          const fanIn = s.kind === 'conv' ? s.shape[0] * s.shape[1] * s.shape[2] : s.shape[0];
          const fanOut = s.kind === 'conv' ? s.shape[0] * s.shape[1] * s.shape[3] : s.shape[1];
          if (scheme === 'ortho') out.set(orthogonal(rows, cols, rng));
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
  const vecs: Float64Array[] = [];
  const gauss = new Float32Array(m);
  for (let j = 0; j < n; j++) {
    const v = Float64Array.from(rng.fillNormal(gauss));
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
