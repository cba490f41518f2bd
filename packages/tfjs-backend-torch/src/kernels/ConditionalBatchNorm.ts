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
import { CONDITIONAL_BATCH_NORM, CONDITIONAL_BATCH_NORM_GRAD } from '../kernel-names.js';
import { nativeKernel } from '../kernel-config.js';
import { checkInputs } from './check-inputs.js';

const X = { dtype: 'float32', shape: ['b', 'h', 'w', 'C'] } as const;
const ROWS = { dtype: 'float32', shape: ['b', 'C'] } as const;
const CHANNELS = { dtype: 'float32', shape: ['C'] } as const;

const FORWARD_INPUTS = { x: X, gain: ROWS, bias: ROWS };
const GRAD_INPUTS = { x: X, dy: X, y: X, mean: CHANNELS, rstd: CHANNELS, gain: ROWS };

export const conditionalBatchNormConfig = nativeKernel<{ epsilon: number; relu: boolean }>(
  CONDITIONAL_BATCH_NORM,
  ({ inputs, backend, attrs }) => {
    const { C } = checkInputs(CONDITIONAL_BATCH_NORM, inputs, FORWARD_INPUTS);
    const { x, gain, bias } = inputs;
    const channels = [C];
    const vec = { shape: channels, dtype: 'float32' as const };
    return backend.runMany([{ shape: x.shape, dtype: 'float32' }, vec, vec, vec], ([y, mean, variance, rstd]) =>
      backend.native.ConditionalBatchNorm({
        x: backend.tensor(x),
        gain: backend.tensor(gain),
        bias: backend.tensor(bias),
        y: { values: y, shape: x.shape },
        mean: { values: mean, shape: channels },
        variance: { values: variance, shape: channels },
        rstd: { values: rstd, shape: channels },
        epsilon: attrs.epsilon,
        relu: attrs.relu,
      }),
    );
  },
);

export const conditionalBatchNormGradConfig = nativeKernel<{ relu: boolean }>(
  CONDITIONAL_BATCH_NORM_GRAD,
  ({ inputs, backend, attrs }) => {
    const { b, C } = checkInputs(CONDITIONAL_BATCH_NORM_GRAD, inputs, GRAD_INPUTS);
    const { dy, x, y, mean, rstd, gain } = inputs;
    const rowsShape = [b, C];
    const rows = { shape: rowsShape, dtype: 'float32' as const };
    return backend.runMany([{ shape: x.shape, dtype: 'float32' }, rows, rows], ([dx, sumG, sumGXhat]) =>
      backend.native.ConditionalBatchNormGrad({
        dy: backend.tensor(dy),
        x: backend.tensor(x),
        y: backend.tensor(y),
        mean: backend.tensor(mean),
        rstd: backend.tensor(rstd),
        gain: backend.tensor(gain),
        dx: { values: dx, shape: x.shape },
        sumG: { values: sumG, shape: rowsShape },
        sumGXhat: { values: sumGXhat, shape: rowsShape },
        relu: attrs.relu,
      }),
    );
  },
);
