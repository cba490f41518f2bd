/**
 * SoftmaxAttention, a kernel of this backend only: out = softmax(query key^T) value over the last axis,
 * without scaling (SAGAN's attention), in one pass per query row (native/attention.cc).
 *   inputs: query [B, N, d], key [B, M, d], value [B, M, e]
 *   outputs: [out [B, N, e], weights [B, N, M]] (the attention map)
 * No gradient is registered for it (a tape through it fails with tfjs's "gradient function not found"):
 * a model wraps it in its own tf.customGrad whose gradient is the SoftmaxAttentionGrad kernel, with the
 * weights output saved for it, as packages/trainer/src/lib/layers.ts does. A model asks whether the active
 * backend has these kernels and keeps its own composition elsewhere.
 */
import { SOFTMAX_ATTENTION, SOFTMAX_ATTENTION_GRAD } from '../kernel-names.js';
import { nativeKernel } from '../kernel-config.js';
import { checkInputs } from './check-inputs.js';

const FORWARD_INPUTS = {
  query: { dtype: 'float32', shape: ['B', 'N', 'd'] },
  key: { dtype: 'float32', shape: ['B', 'M', 'd'] },
  value: { dtype: 'float32', shape: ['B', 'M', 'e'] },
} as const;

const GRAD_INPUTS = {
  ...FORWARD_INPUTS,
  dOut: { dtype: 'float32', shape: ['B', 'N', 'e'] },
  weights: { dtype: 'float32', shape: ['B', 'N', 'M'] },
} as const;

export const softmaxAttentionConfig = nativeKernel(SOFTMAX_ATTENTION, ({ inputs, backend }) => {
  const { B, N, M, e } = checkInputs(SOFTMAX_ATTENTION, inputs, FORWARD_INPUTS);
  const { query, key, value } = inputs;
  const outShape = [B, N, e];
  const weightsShape = [B, N, M];
  return backend.runMany(
    [
      { shape: outShape, dtype: 'float32' },
      { shape: weightsShape, dtype: 'float32' },
    ],
    ([out, weights]) =>
      backend.native.SoftmaxAttention({
        query: backend.tensor(query),
        key: backend.tensor(key),
        value: backend.tensor(value),
        out: { values: out, shape: outShape },
        weights: { values: weights, shape: weightsShape },
      }),
  );
});

/** inputs: dOut, weights, query, key, value; outputs: [dQuery, dKey, dValue]. */
export const softmaxAttentionGradConfig = nativeKernel(SOFTMAX_ATTENTION_GRAD, ({ inputs, backend }) => {
  checkInputs(SOFTMAX_ATTENTION_GRAD, inputs, GRAD_INPUTS);
  const { dOut, weights, query, key, value } = inputs;
  return backend.runMany(
    [
      { shape: query.shape, dtype: 'float32' },
      { shape: key.shape, dtype: 'float32' },
      { shape: value.shape, dtype: 'float32' },
    ],
    ([dq, dk, dv]) =>
      backend.native.SoftmaxAttentionGrad({
        dOut: backend.tensor(dOut),
        weights: backend.tensor(weights),
        query: backend.tensor(query),
        key: backend.tensor(key),
        value: backend.tensor(value),
        dQuery: { values: dq, shape: query.shape },
        dKey: { values: dk, shape: key.shape },
        dValue: { values: dv, shape: value.shape },
      }),
  );
});
