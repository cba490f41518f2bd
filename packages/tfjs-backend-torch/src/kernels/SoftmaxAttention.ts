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
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { nativeKernel } from '../kernel-config.js';

export const SOFTMAX_ATTENTION = 'SoftmaxAttention';
export const SOFTMAX_ATTENTION_GRAD = 'SoftmaxAttentionGrad';

type Fn = (...args: unknown[]) => void;

function checkShapes(name: string, query: TensorInfo, key: TensorInfo, value: TensorInfo): [number, number, number, number, number] {
  const ok = [query, key, value].every((t) => t.dtype === 'float32' && t.shape.length === 3)
    && key.shape[0] === query.shape[0] && value.shape[0] === query.shape[0] && key.shape[2] === query.shape[2] && value.shape[1] === key.shape[1];
  if (!ok) throw new Error(`${name}: expected float32 query [B, N, d], key [B, M, d], value [B, M, e]; got [${query.shape}], [${key.shape}], [${value.shape}]`);
  const [B, N, d] = query.shape;
  return [B, N, key.shape[1], d, value.shape[2]];
}

export const softmaxAttentionConfig = nativeKernel(SOFTMAX_ATTENTION, ({ inputs, backend }) => {
  const { query, key, value } = inputs;
  const [B, N, M, , e] = checkShapes(SOFTMAX_ATTENTION, query, key, value);
  return backend.runMany([{ shape: [B, N, e], dtype: 'float32' }, { shape: [B, N, M], dtype: 'float32' }], ([out, weights]) =>
    backend.kernel<Fn>(SOFTMAX_ATTENTION)(backend.values(query), query.shape, backend.values(key), key.shape, backend.values(value), value.shape,
      out, [B, N, e], weights, [B, N, M]));
});

/** inputs: dOut, weights, query, key, value; outputs: [dQuery, dKey, dValue]. */
export const softmaxAttentionGradConfig = nativeKernel(SOFTMAX_ATTENTION_GRAD, ({ inputs, backend }) => {
  const { dOut, weights, query, key, value } = inputs;
  checkShapes(SOFTMAX_ATTENTION_GRAD, query, key, value);
  return backend.runMany([{ shape: query.shape, dtype: 'float32' }, { shape: key.shape, dtype: 'float32' }, { shape: value.shape, dtype: 'float32' }], ([dq, dk, dv]) =>
    backend.kernel<Fn>(SOFTMAX_ATTENTION_GRAD)(backend.values(dOut), dOut.shape, backend.values(weights), weights.shape, backend.values(query), query.shape,
      backend.values(key), key.shape, backend.values(value), value.shape, dq, query.shape, dk, key.shape, dv, value.shape));
});
