/**
 * Names of the kernels this backend adds to tfjs (tfjs-core exports the names of its own kernels). A
 * model runs them with tf.engine().runKernel(name, ...) where tf.getKernel(name, backend) finds them.
 * This module imports nothing, so a model can use the names without loading the backend
 * ('@sagan-serve/tfjs-backend-torch/kernel-names').
 */

/** One Adam step over flat buffers: inputs theta, v, g (and m); attrs FusedAdamAttrs; outputs [theta', v'(, m')]. */
export const FUSED_ADAM = 'FusedAdam';
/** The softmax gradient in one pass: inputs dy, y; attrs { dim? }. */
export const SOFTMAX_GRAD = 'SoftmaxGrad';
/** The ReLU gradient in one pass: inputs dy, y (the ReLU's output); dx = y > 0 ? dy : 0. */
export const RELU_GRAD = 'ReluGrad';
/** softmax(query key^T) value: inputs query, key, value; outputs [out, weights]. */
export const SOFTMAX_ATTENTION = 'SoftmaxAttention';
/** SoftmaxAttention's gradient: inputs dOut, weights, query, key, value; outputs [dQuery, dKey, dValue]. */
export const SOFTMAX_ATTENTION_GRAD = 'SoftmaxAttentionGrad';
/** Training-mode conditional batch norm (+ ReLU): inputs x, gain, bias; attrs { epsilon, relu }; outputs [y, mean, variance, rstd]. */
export const CONDITIONAL_BATCH_NORM = 'ConditionalBatchNorm';
/** ConditionalBatchNorm's gradient: inputs dy, x, y, mean, rstd, gain; attrs { relu }; outputs [dx, sum of g, sum of g * xhat]. */
export const CONDITIONAL_BATCH_NORM_GRAD = 'ConditionalBatchNormGrad';
