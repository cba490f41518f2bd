/** tfjs's _FusedMatMul: a matrix product + bias + activation (libtorch addmm, then the activation in place). */
import { _FusedMatMul, type TensorInfo, type _FusedMatMulAttrs } from '@tensorflow/tfjs-core';
import { nativeKernel } from '../kernel-config.js';
import { matMulShape } from './BatchMatMul.js';
import { optionalTensor } from './tensor-args.js';

export const fusedMatMulConfig = nativeKernel<_FusedMatMulAttrs>(_FusedMatMul, ({ inputs, backend, attrs }) => {
  const { a, b, bias, preluActivationWeights } = inputs as {
    a: TensorInfo;
    b: TensorInfo;
    bias?: TensorInfo;
    preluActivationWeights?: TensorInfo;
  };
  if ([a, b, bias, preluActivationWeights].some((t) => t && t.dtype !== 'float32')) return undefined;
  const shape = matMulShape(a, b, attrs.transposeA, attrs.transposeB);
  if (!shape) return undefined;
  return backend.run(shape, 'float32', (out) =>
    backend.native._FusedMatMul(
      backend.values(a),
      a.shape,
      backend.values(b),
      b.shape,
      ...optionalTensor(backend, bias),
      ...optionalTensor(backend, preluActivationWeights),
      out,
      shape,
      attrs.transposeA,
      attrs.transposeB,
      attrs.activation ?? 'linear',
      attrs.leakyreluAlpha ?? 0.2,
    ),
  );
});
