/** Transposition: a strided copy in libtorch. */
import type { TensorInfo, TransposeAttrs } from '@tensorflow/tfjs-core';
import { isNativeDtype } from '../backend.js';
import { nativeKernel } from '../kernel-config.js';

type Fn = (...args: unknown[]) => void;

export const transposeConfig = nativeKernel<TransposeAttrs>('Transpose', ({ inputs, backend, attrs }) => {
  const x = inputs.x as TensorInfo;
  if (!isNativeDtype(x.dtype)) return undefined;
  const shape = attrs.perm.map((p) => x.shape[p]);
  return backend.run(shape, x.dtype, (out) => backend.kernel<Fn>('Transpose')(backend.values(x), x.shape, out, shape, attrs.perm));
});
