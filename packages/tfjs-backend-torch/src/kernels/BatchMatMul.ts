/** Batched matrix product with broadcast batch dimensions (libtorch mm / bmm / matmul). */
import { backend_util, BatchMatMul, type BatchMatMulAttrs, type TensorInfo } from '@tensorflow/tfjs-core';
import { nativeKernel } from '../kernel-config.js';

/** Output shape of a [..., M, K] x [..., K, N] product (with the transposes), or undefined if the inner sizes differ. */
export function matMulShape(
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): number[] | undefined {
  if (a.shape.length < 2 || b.shape.length < 2) return undefined;
  const m = a.shape[a.shape.length - (transposeA ? 1 : 2)];
  const ka = a.shape[a.shape.length - (transposeA ? 2 : 1)];
  const kb = b.shape[b.shape.length - (transposeB ? 1 : 2)];
  const n = b.shape[b.shape.length - (transposeB ? 2 : 1)];
  if (ka !== kb) return undefined; // the cpu kernel raises tfjs's own error
  const batch = backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  return [...batch, m, n];
}

export const batchMatMulConfig = nativeKernel<BatchMatMulAttrs>(BatchMatMul, ({ inputs, backend, attrs }) => {
  const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return undefined;
  const shape = matMulShape(a, b, attrs.transposeA, attrs.transposeB);
  if (!shape) return undefined;
  return backend.run(shape, 'float32', (out) =>
    backend.native.BatchMatMul(
      backend.values(a),
      a.shape,
      backend.values(b),
      b.shape,
      out,
      shape,
      attrs.transposeA,
      attrs.transposeB,
    ),
  );
});
