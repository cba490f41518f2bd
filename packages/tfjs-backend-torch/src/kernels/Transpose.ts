/** Transposition: a strided copy in libtorch. */
import { Transpose, type TransposeAttrs } from '@tensorflow/tfjs-core';
import { isNativeDtype } from '../backend.js';
import { nativeKernel } from '../kernel-config.js';

export const transposeConfig = nativeKernel<TransposeAttrs>(Transpose, ({ inputs, backend, attrs }) => {
  const x = inputs.x;
  if (!isNativeDtype(x.dtype)) return undefined;
  const shape = attrs.perm.map((p) => x.shape[p]);
  return backend.run(shape, x.dtype, (out) =>
    backend.native.Transpose(backend.values(x), x.shape, out, shape, attrs.perm),
  );
});
