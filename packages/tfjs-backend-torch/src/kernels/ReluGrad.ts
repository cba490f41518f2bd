/**
 * ReluGrad, a kernel of this backend only (tfjs has none): dx = y > 0 ? dy : 0 in one libtorch pass.
 * tfjs's ReLU gradient, and the one of a convolution or matmul fused with a ReLU, is Step and Multiply:
 * two passes over the activation and a temporary as large. A model that wants the fast path asks
 * whether the active backend has this kernel (tf.getKernel(RELU_GRAD, backend)) and calls it from its
 * own custom gradient, as with SoftmaxGrad.
 *   inputs: dy, y (the ReLU's output; its input gives the same mask).
 */
import { RELU_GRAD } from '../kernel-names.js';
import { nativeKernel } from '../kernel-config.js';
import { checkInputs } from './check-inputs.js';

const INPUTS = { y: { dtype: 'float32' }, dy: { dtype: 'float32', sameShapeAs: 'y' } } as const;

export const reluGradConfig = nativeKernel(RELU_GRAD, ({ inputs, backend }) => {
  checkInputs(RELU_GRAD, inputs, INPUTS);
  const { dy, y } = inputs;
  return backend.run(y.shape, 'float32', (out) =>
    backend.native.ReluGrad(backend.values(dy), dy.shape, backend.values(y), y.shape, out, y.shape),
  );
});
