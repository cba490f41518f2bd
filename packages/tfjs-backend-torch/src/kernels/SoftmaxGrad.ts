/**
 * SoftmaxGrad, a kernel of this backend only (tfjs has none): dx = y * (dy - sum(dy * y, dim)) in one
 * libtorch pass. tfjs's own Softmax gradient is four kernels over the whole tensor; a model that wants
 * the fast path asks whether the active backend has this kernel (tf.getKernel('SoftmaxGrad', backend))
 * and calls it from its own custom gradient.
 *   inputs: dy, y (the softmax output); attrs: dim (the softmax axis, default the last).
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { nativeKernel } from '../kernel-config.js';

export const SOFTMAX_GRAD = 'SoftmaxGrad';

type Fn = (dy: unknown, dyShape: number[], y: unknown, yShape: number[], out: unknown, outShape: number[], dim: number) => void;

export const softmaxGradConfig = nativeKernel<{ dim?: number }>(SOFTMAX_GRAD, ({ inputs, backend, attrs }) => {
  const { dy, y } = inputs as { dy: TensorInfo; y: TensorInfo };
  if (dy.dtype !== 'float32' || y.dtype !== 'float32' || dy.shape.join() !== y.shape.join()) {
    throw new Error(`${SOFTMAX_GRAD}: dy and y must be float32 tensors of the same shape (got ${dy.dtype} [${dy.shape}] and ${y.dtype} [${y.shape}])`);
  }
  const rank = y.shape.length;
  const dim = attrs.dim === undefined ? rank - 1 : attrs.dim < 0 ? attrs.dim + rank : attrs.dim;
  return backend.run(y.shape, 'float32', (out) => backend.kernel<Fn>(SOFTMAX_GRAD)(backend.values(dy), dy.shape, backend.values(y), y.shape, out, y.shape, dim));
});
