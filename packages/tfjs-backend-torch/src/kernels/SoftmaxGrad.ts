/**
 * SoftmaxGrad, a kernel of this backend only (tfjs has none): dx = y * (dy - sum(dy * y, dim)) in one
 * libtorch pass. tfjs's own Softmax gradient is four kernels over the whole tensor; a model that wants
 * the fast path asks whether the active backend has this kernel (tf.getKernel(SOFTMAX_GRAD, backend))
 * and calls it from its own custom gradient.
 *   inputs: dy, y (the softmax output); attrs: dim (the softmax axis, default the last).
 */
import { SOFTMAX_GRAD } from '../kernel-names.js';
import { nativeKernel } from '../kernel-config.js';
import { checkInputs } from './check-inputs.js';

const INPUTS = { y: { dtype: 'float32' }, dy: { dtype: 'float32', sameShapeAs: 'y' } } as const;

export const softmaxGradConfig = nativeKernel<{ dim?: number }>(SOFTMAX_GRAD, ({ inputs, backend, attrs }) => {
  checkInputs(SOFTMAX_GRAD, inputs, INPUTS);
  const { dy, y } = inputs;
  const rank = y.shape.length;
  const dim = attrs.dim === undefined ? rank - 1 : attrs.dim < 0 ? attrs.dim + rank : attrs.dim;
  return backend.run(y.shape, 'float32', (out) =>
    backend.native.SoftmaxGrad(backend.values(dy), dy.shape, backend.values(y), y.shape, out, y.shape, dim),
  );
});
