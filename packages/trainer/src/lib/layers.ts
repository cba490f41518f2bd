/**
 * Layers of the trainer's SAGAN, NHWC, written for few kernels per layer (each tfjs op is a GPU
 * dispatch on WebGPU, about 0.2 ms of overhead each) and with hand-written gradients where tfjs's
 * own would be slow or cannot be trusted:
 *
 * - upsample2x: nearest 2x (out[i, j] = in[floor(i/2), floor(j/2)], as ONNX Resize nearest /
 *   asymmetric / floor). Its gradient is the sum over each 2x2 block, computed as 4 * avgPool; the
 *   tfjs CPU gradient of resizeNearestNeighbor was seen to be wrong.
 * - condBatchNorm: training-mode batch norm with per-class gain and bias (gathered through a one-hot
 *   matmul), optionally fused with the following ReLU; per-channel statistics and the backward's
 *   reductions are matmuls with constant ones (no transposes), the backward is the closed form.
 * - selfAttention: theta/phi/g 1x1 convs as matmuls, 2x2 max-pooled keys, softmax over keys,
 *   1x1 out conv, y = x + gamma * o (tfjs's gradients of these standard ops).
 */
import * as tf from '@tensorflow/tfjs';
import {
  CONDITIONAL_BATCH_NORM,
  CONDITIONAL_BATCH_NORM_GRAD,
  RELU_GRAD,
  SOFTMAX_ATTENTION,
  SOFTMAX_ATTENTION_GRAD,
} from '@sagan-serve/tfjs-backend-torch/kernel-names';
import { backendHasKernel } from './backend.js';

// ---------------------------------------------------------------------------------------------
// custom-gradient helper

export type GradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];

/** tf.customGrad with typed inputs: f(inputs, save) -> { value, gradFunc } (one gradient per input). */
export function customOp(
  f: (inputs: tf.Tensor[], save: tf.GradSaveFunc) => { value: tf.Tensor; gradFunc: GradFunc },
): (...inputs: tf.Tensor[]) => tf.Tensor {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    return f(args.slice(0, -1) as tf.Tensor[], save);
  });
  return (...inputs: tf.Tensor[]) => op(...inputs);
}

// ---------------------------------------------------------------------------------------------
// constants (kept for the process; small)

const constants = new Map<string, tf.Tensor>();

/** A kept constant tensor filled with `value`, shared per (shape, value). */
export function filled(shape: number[], value: number): tf.Tensor {
  const key = `${shape.join('x')}:${value}`;
  let t = constants.get(key);
  if (!t || t.isDisposed) {
    t = tf.keep(tf.fill(shape, value));
    constants.set(key, t);
  }
  return t;
}

/** Disposes the constant cache (tests that count tensors call it before they start). */
export function clearConstants(): void {
  for (const t of constants.values()) t.dispose();
  constants.clear();
}

/**
 * One-hot float matrix [b, K] of class indices, built on the host (no int32 -> float32 cast on the
 * device: the WebGPU backend implements that cast as a reinterpretation).
 */
export function oneHot(labels: Int32Array | number[], numClasses: number): tf.Tensor2D {
  const out = new Float32Array(labels.length * numClasses);
  for (let i = 0; i < labels.length; i++) {
    const k = labels[i];
    if (!(k >= 0 && k < numClasses)) throw new Error(`class index ${k} out of range 0..${numClasses - 1}`);
    out[i * numClasses + k] = 1;
  }
  return tf.tensor2d(out, [labels.length, numClasses]);
}

// ---------------------------------------------------------------------------------------------
// upsampling

const upsampleOp = customOp(([x]) => {
  const x4 = x as tf.Tensor4D;
  const [, h, w] = x4.shape;
  return {
    value: tf.image.resizeNearestNeighbor(x4, [2 * h, 2 * w], false, false),
    gradFunc: (dy: tf.Tensor) => tf.mul(tf.avgPool(dy as tf.Tensor4D, 2, 2, 'valid'), filled([], 4)),
  };
});

/** Nearest-neighbour 2x upsampling of NHWC x; gradient = sum over each 2x2 block. */
export function upsample2x(x: tf.Tensor4D): tf.Tensor4D {
  return upsampleOp(x) as tf.Tensor4D;
}

// ---------------------------------------------------------------------------------------------
// ReLU

/**
 * dy masked by y > 0 (y a ReLU's output): one pass where the backend has ReluGrad (the torch backend),
 * else tfjs's own composition (Step, Multiply).
 */
function reluGrad(dy: tf.Tensor, y: tf.Tensor): tf.Tensor {
  if (backendHasKernel(RELU_GRAD)) return tf.engine().runKernel(RELU_GRAD, { dy, y }, {}) as tf.Tensor;
  return tf.mul(dy, tf.step(y));
}

const reluOp = customOp(([x], save) => {
  const y = tf.relu(x);
  save([y]);
  return { value: y, gradFunc: (dy, [out]) => reluGrad(dy, out) };
});

/** tf.relu whose gradient is one ReluGrad pass where the backend has it. */
export function relu<T extends tf.Tensor>(x: T): T {
  return (backendHasKernel(RELU_GRAD) ? reluOp(x) : tf.relu(x)) as T;
}

// ---------------------------------------------------------------------------------------------
// convolution helpers

const SAME = { strides: 1, pad: 'same' } as const;

/**
 * Conv (same, stride 1) + bias + ReLU whose gradient masks dy once with ReluGrad; tfjs's fused conv
 * derives the same gradients with Step and Multiply first.
 */
const convReluOp = customOp(([x, filter, bias], save) => {
  const y = tf.fused.conv2d({ x: x as tf.Tensor4D, filter: filter as tf.Tensor4D, ...SAME, bias, activation: 'relu' });
  save([x, filter, y]);
  return {
    value: y,
    gradFunc: (dy, [xIn, w, out]) => {
      const g = reluGrad(dy, out) as tf.Tensor4D;
      const dx = tf.conv2dTranspose(g, w as tf.Tensor4D, xIn.shape as [number, number, number, number], 1, 'same');
      const dw = tf
        .engine()
        .runKernel(tf.Conv2DBackpropFilter, { x: xIn, dy: g }, { ...SAME, dataFormat: 'NHWC', filterShape: w.shape });
      return [dx, dw as tf.Tensor, tf.sum(g, [0, 1, 2])];
    },
  };
});

/** Conv with 'same' padding, stride 1, optional bias and fused ReLU. */
export function conv(
  x: tf.Tensor4D,
  filter: tf.Tensor,
  bias?: tf.Tensor,
  activation: 'linear' | 'relu' = 'linear',
): tf.Tensor4D {
  if (activation === 'relu' && bias && backendHasKernel(RELU_GRAD)) return convReluOp(x, filter, bias) as tf.Tensor4D;
  return tf.fused.conv2d({ x, filter: filter as tf.Tensor4D, ...SAME, bias, activation });
}

/** 1x1 conv (no bias) as a matmul over [b*h*w, Cin]. */
export function conv1x1(x: tf.Tensor4D, filter: tf.Tensor, bias?: tf.Tensor): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const cout = filter.shape[3]!;
  const y = tf.fused.matMul({ a: tf.reshape(x, [b * h * w, c]), b: tf.reshape(filter, [c, cout]), bias });
  return tf.reshape(y, [b, h, w, cout]);
}

/** Sum over the spatial axes of NHWC x -> [b, C] (a batched matmul with ones; no transpose). */
export function spatialSum(x: tf.Tensor4D): tf.Tensor2D {
  const [b, h, w, c] = x.shape;
  return tf.reshape(tf.matMul(filled([1, 1, h * w], 1) as tf.Tensor3D, tf.reshape(x, [b, h * w, c]) as tf.Tensor3D), [
    b,
    c,
  ]);
}

// ---------------------------------------------------------------------------------------------
// conditional batch norm

export interface BatchStats {
  /** [C] batch mean and biased variance (kept; the caller disposes). */
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/**
 * Training-mode conditional batch norm of NHWC x: y = (x - mean) / sqrt(var + eps) * gain[y] +
 * bias[y], statistics over batch and space per channel; gain/bias tables [K, C] selected by
 * onehot [b, K] (K = 1 with a ones column for plain BN); then ReLU when `relu`.
 * When `stats` is given, the batch mean and variance are pushed to it (kept tensors).
 */
export function condBatchNorm(
  x: tf.Tensor4D,
  onehot: tf.Tensor2D,
  gain: tf.Tensor,
  bias: tf.Tensor,
  eps: number,
  relu: boolean,
  stats?: BatchStats[],
): tf.Tensor4D {
  if (backendHasKernel(CONDITIONAL_BATCH_NORM) && backendHasKernel(CONDITIONAL_BATCH_NORM_GRAD))
    return condBatchNormFused(x, onehot, gain, bias, eps, relu, stats);
  return condBatchNormComposed(x, onehot, gain, bias, eps, relu, stats);
}

/**
 * The same layer on a backend with ConditionalBatchNorm kernels (torch): one reduction and one
 * normalising pass each way instead of the composition's matrix products with ones.
 */
function condBatchNormFused(
  x: tf.Tensor4D,
  onehot: tf.Tensor2D,
  gain: tf.Tensor,
  bias: tf.Tensor,
  eps: number,
  relu: boolean,
  stats?: BatchStats[],
): tf.Tensor4D {
  const c = x.shape[3];
  const k = onehot.shape[1];
  const op = customOp(([xIn, gIn, bIn], save) => {
    const gy = tf.matMul(onehot, gIn); // [b, C]
    const by = tf.matMul(onehot, bIn);
    const [y, mean, variance, rstd] = tf
      .engine()
      .runKernel(CONDITIONAL_BATCH_NORM, { x: xIn, gain: gy, bias: by }, { epsilon: eps, relu }) as tf.Tensor[];
    if (stats) stats.push({ mean: tf.keep(mean) as tf.Tensor1D, variance: tf.keep(variance) as tf.Tensor1D });
    save([xIn, y, mean, rstd, gy]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, [sx, sy, sm, sr, sgy]: tf.Tensor[]) => {
        const [dx, sg, sgx] = tf
          .engine()
          .runKernel(
            CONDITIONAL_BATCH_NORM_GRAD,
            { dy, x: sx, y: sy, mean: sm, rstd: sr, gain: sgy },
            { relu },
          ) as tf.Tensor[];
        return [dx, tf.matMul(onehot, sgx, true, false), tf.matMul(onehot, sg, true, false)];
      },
    };
  });
  return op(x, tf.reshape(gain, [k, c]), tf.reshape(bias, [k, c])) as tf.Tensor4D;
}

function condBatchNormComposed(
  x: tf.Tensor4D,
  onehot: tf.Tensor2D,
  gain: tf.Tensor,
  bias: tf.Tensor,
  eps: number,
  relu: boolean,
  stats?: BatchStats[],
): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const n = b * h * w;
  const hw = h * w;
  const op = customOp(([xIn, gIn, bIn], save) => {
    const meanRow = filled([1, n], 1 / n) as tf.Tensor2D;
    const x2 = tf.reshape(xIn, [n, c]) as tf.Tensor2D;
    const mean = tf.matMul(meanRow, x2); // [1, C]
    const xc = tf.sub(x2, mean); // [N, C]
    const variance = tf.matMul(meanRow, tf.square(xc)); // [1, C]
    const rstd = tf.rsqrt(tf.add(variance, filled([], eps))); // [1, C]
    const gy = tf.matMul(onehot, gIn); // [b, C]
    const by = tf.matMul(onehot, bIn); // [b, C]
    const scale = tf.mul(gy, rstd); // [b, C]
    let out = tf.add(
      tf.mul(tf.reshape(xc, [b, hw, c]), tf.reshape(scale, [b, 1, c])),
      tf.reshape(by, [b, 1, c]),
    ) as tf.Tensor3D;
    if (relu) out = tf.relu(out);
    if (stats) stats.push({ mean: tf.keep(tf.reshape(mean, [c])), variance: tf.keep(tf.reshape(variance, [c])) });
    save(relu ? [xc, rstd, gy, out] : [xc, rstd, gy]);
    return {
      value: tf.reshape(out, [b, h, w, c]),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sxc, srstd, sgy, sout] = saved;
        let g = tf.reshape(dy, [b, hw, c]) as tf.Tensor3D;
        if (relu) g = tf.mul(g, tf.step(sout));
        const xhat = tf.mul(tf.reshape(sxc, [b, hw, c]), srstd) as tf.Tensor3D; // [b, hw, C]
        const onesHw = filled([1, 1, hw], 1) as tf.Tensor3D;
        const sg = tf.reshape(tf.matMul(onesHw, g), [b, c]) as tf.Tensor2D; // sum_hw g
        const sgx = tf.reshape(tf.matMul(onesHw, tf.mul(g, xhat) as tf.Tensor3D), [b, c]) as tf.Tensor2D; // sum_hw g*xhat
        const dBias = tf.matMul(onehot, sg, true, false); // [K, C]
        const dGain = tf.matMul(onehot, sgx, true, false); // [K, C]
        const meanB = filled([1, b], 1 / n) as tf.Tensor2D;
        const m1 = tf.matMul(meanB, tf.mul(sgy, sg) as tf.Tensor2D); // mean over N of g*gain
        const m2 = tf.matMul(meanB, tf.mul(sgy, sgx) as tf.Tensor2D); // mean over N of g*gain*xhat
        const gs = tf.mul(g, tf.reshape(sgy, [b, 1, c]));
        const dx = tf.mul(tf.sub(tf.sub(gs, m1), tf.mul(xhat, m2)), srstd);
        return [tf.reshape(dx, [b, h, w, c]), tf.reshape(dGain, gIn.shape), tf.reshape(dBias, bIn.shape)];
      },
    };
  });
  const k = onehot.shape[1];
  return op(x, tf.reshape(gain, [k, c]), tf.reshape(bias, [k, c])) as tf.Tensor4D;
}

/**
 * Inference-mode conditional batch norm with running statistics (what the ONNX graph computes):
 * y = x * gain[y] / sqrt(var + eps) + (bias[y] - mean * gain[y] / sqrt(var + eps)); then ReLU.
 */
export function condBatchNormInference(
  x: tf.Tensor4D,
  onehot: tf.Tensor2D,
  gain: tf.Tensor,
  bias: tf.Tensor,
  mean: tf.Tensor,
  variance: tf.Tensor,
  eps: number,
  relu: boolean,
): tf.Tensor4D {
  const [b, , , c] = x.shape;
  const k = onehot.shape[1];
  const rstd = tf.rsqrt(tf.add(tf.reshape(variance, [1, c]), eps));
  const scaleTable = tf.mul(tf.reshape(gain, [k, c]), rstd);
  const shiftTable = tf.sub(tf.reshape(bias, [k, c]), tf.mul(tf.reshape(mean, [1, c]), scaleTable));
  const scale = tf.reshape(tf.matMul(onehot, scaleTable), [b, 1, 1, c]);
  const shift = tf.reshape(tf.matMul(onehot, shiftTable), [b, 1, 1, c]);
  const y = tf.add(tf.mul(x, scale), shift) as tf.Tensor4D;
  return relu ? tf.relu(y) : y;
}

// ---------------------------------------------------------------------------------------------
// self-attention

/** The torch backend's fused attention as a differentiable op (the map is saved for the gradient, not returned). */
const fusedAttention = customOp(([theta, phi, value], save) => {
  const [o, attention] = tf.engine().runKernel(SOFTMAX_ATTENTION, { query: theta, key: phi, value }, {}) as tf.Tensor[];
  save([theta, phi, value, attention]);
  return {
    value: o,
    gradFunc: (dy: tf.Tensor, [q, k, v, weights]: tf.Tensor[]) =>
      tf
        .engine()
        .runKernel(SOFTMAX_ATTENTION_GRAD, { dOut: dy, weights, query: q, key: k, value: v }, {}) as tf.Tensor[],
  };
});

/**
 * softmax(theta phi^T) value, and the attention map [b, N, M] when `withMap`. On a backend with the
 * SoftmaxAttention kernels (torch) that is one fused kernel each way (the inner dimension C/8 is too
 * small for batched GEMMs to run well); elsewhere tfjs's matMul + softmax + matMul.
 */
function attend(
  theta: tf.Tensor3D,
  phi: tf.Tensor3D,
  value: tf.Tensor3D,
  withMap: boolean,
): { o: tf.Tensor3D; attention?: tf.Tensor3D } {
  if (backendHasKernel(SOFTMAX_ATTENTION) && backendHasKernel(SOFTMAX_ATTENTION_GRAD)) {
    if (!withMap) return { o: fusedAttention(theta, phi, value) as tf.Tensor3D };
    const [o, attention] = tf
      .engine()
      .runKernel(SOFTMAX_ATTENTION, { query: theta, key: phi, value }, {}) as tf.Tensor3D[];
    return { o, attention };
  }
  const attention = tf.softmax(tf.matMul(theta, phi, false, true)) as tf.Tensor3D;
  return { o: tf.matMul(attention, value), attention };
}

export interface AttentionWeights {
  theta: tf.Tensor; // [1, 1, C, C/8]
  phi: tf.Tensor; // [1, 1, C, C/8]
  g: tf.Tensor; // [1, 1, C, C/2]
  o: tf.Tensor; // [1, 1, C/2, C]
  gamma: tf.Tensor; // [1]
}

/**
 * SAGAN self-attention on NHWC x [b, h, w, C]: N = h*w queries, M keys (h/2 * w/2 when pooled).
 * Returns the output and, when `withMap` (or when the backend computes it anyway), the attention map
 * [b, N, M] (softmax over keys).
 */
export function selfAttention(
  x: tf.Tensor4D,
  wt: AttentionWeights,
  poolKeys: boolean,
  withMap = false,
): { out: tf.Tensor4D; attention?: tf.Tensor3D } {
  const [b, h, w, c] = x.shape;
  const c8 = c / 8;
  const c2 = c / 2;
  const n = h * w;
  const x2 = tf.reshape(x, [b * n, c]);
  const theta = tf.reshape(tf.matMul(x2, tf.reshape(wt.theta, [c, c8])), [b, n, c8]) as tf.Tensor3D;
  const keys = (kernel: tf.Tensor, ch: number): tf.Tensor3D => {
    let k = tf.reshape(tf.matMul(x2, tf.reshape(kernel, [c, ch])), [b, h, w, ch]) as tf.Tensor4D;
    if (poolKeys) k = tf.maxPool(k, 2, 2, 'valid');
    return tf.reshape(k, [b, -1, ch]) as tf.Tensor3D;
  };
  const phi = keys(wt.phi, c8);
  const value = keys(wt.g, c2);
  const { o: weighted, attention } = attend(theta, phi, value, withMap); // [b, N, C/2], [b, N, M]
  const o = tf.matMul(tf.reshape(weighted, [b * n, c2]), tf.reshape(wt.o, [c2, c]));
  const out = tf.add(x, tf.mul(tf.reshape(o, [b, h, w, c]), wt.gamma)) as tf.Tensor4D;
  return { out, attention };
}
