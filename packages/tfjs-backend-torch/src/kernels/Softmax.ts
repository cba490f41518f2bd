/** Softmax over the last axis (tfjs's only case) in libtorch. */
import { Softmax, type SoftmaxAttrs } from '@tensorflow/tfjs-core';
import { nativeKernel } from '../kernel-config.js';

export const softmaxConfig = nativeKernel<SoftmaxAttrs>(Softmax, ({ inputs, backend, attrs }) => {
  const logits = inputs.logits;
  if (logits.dtype !== 'float32') return undefined;
  const dim = attrs.dim < 0 ? attrs.dim + logits.shape.length : attrs.dim;
  return backend.run(logits.shape, 'float32', (out) =>
    backend.native.Softmax(backend.values(logits), logits.shape, out, logits.shape, dim),
  );
});
