/**
 * ConditionalBatchNorm and its gradient, kernels of this backend only (native/batch-norm.cc):
 * training-mode batch norm of NHWC x with one gain and bias row per sample (a conditional BN's class
 * rows), optionally fused with the following ReLU.
 *   ConditionalBatchNorm      inputs: x [b, h, w, C], gain [b, C], bias [b, C]; attrs: epsilon, relu
 *                             outputs: [y, mean [C], variance [C] (biased), rstd [C]]
 *   ConditionalBatchNormGrad  inputs: dy, x, y, mean, rstd, gain; attrs: relu
 *                             outputs: [dx, sum over h,w of g [b, C], sum over h,w of g * xhat [b, C]]
 *                             (g = dy masked by the ReLU; the gain and bias rows' gradients are then
 *                             sum(g * xhat) and sum(g), which a model maps back onto its class tables)
 * No gradient is registered: a model wraps the pair in its own tf.customGrad (packages/trainer/src/lib/layers.ts).
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { nativeKernel } from '../kernel-config.js';

export const CONDITIONAL_BATCH_NORM = 'ConditionalBatchNorm';
export const CONDITIONAL_BATCH_NORM_GRAD = 'ConditionalBatchNormGrad';

type Fn = (...args: unknown[]) => void;

function check(name: string, x: TensorInfo, rows: TensorInfo[]): [number, number] {
  const [b, , , c] = x.shape;
  if (x.dtype !== 'float32' || x.shape.length !== 4 || rows.some((t) => t.dtype !== 'float32' || t.shape.join() !== `${b},${c}`)) {
    throw new Error(`${name}: expected float32 x [b, h, w, C] and gain/bias rows [b, C]; got [${x.shape}] and ${rows.map((t) => `[${t.shape}]`).join(', ')}`);
  }
  return [b, c];
}

export const conditionalBatchNormConfig = nativeKernel<{ epsilon: number; relu: boolean }>(CONDITIONAL_BATCH_NORM, ({ inputs, backend, attrs }) => {
  const { x, gain, bias } = inputs;
  const [, c] = check(CONDITIONAL_BATCH_NORM, x, [gain, bias]);
  const vec = { shape: [c], dtype: 'float32' as const };
  return backend.runMany([{ shape: x.shape, dtype: 'float32' }, vec, vec, vec], ([y, mean, variance, rstd]) =>
    backend.kernel<Fn>(CONDITIONAL_BATCH_NORM)(backend.values(x), x.shape, backend.values(gain), gain.shape, backend.values(bias), bias.shape,
      y, x.shape, mean, [c], variance, [c], rstd, [c], attrs.epsilon, attrs.relu));
});

export const conditionalBatchNormGradConfig = nativeKernel<{ relu: boolean }>(CONDITIONAL_BATCH_NORM_GRAD, ({ inputs, backend, attrs }) => {
  const { dy, x, y, mean, rstd, gain } = inputs;
  const [b, c] = check(CONDITIONAL_BATCH_NORM_GRAD, x, [gain]);
  if (dy.shape.join() !== x.shape.join() || y.shape.join() !== x.shape.join() || mean.shape.join() !== `${c}` || rstd.shape.join() !== `${c}`) {
    throw new Error(`${CONDITIONAL_BATCH_NORM_GRAD}: dy and y must have x's shape [${x.shape}], mean and rstd [${c}]`);
  }
  const rows = { shape: [b, c], dtype: 'float32' as const };
  return backend.runMany([{ shape: x.shape, dtype: 'float32' }, rows, rows], ([dx, sg, sgx]) =>
    backend.kernel<Fn>(CONDITIONAL_BATCH_NORM_GRAD)(backend.values(dy), dy.shape, backend.values(x), x.shape, backend.values(y), y.shape,
      backend.values(mean), [c], backend.values(rstd), [c], backend.values(gain), gain.shape, dx, x.shape, sg, [b, c], sgx, [b, c], attrs.relu));
});
