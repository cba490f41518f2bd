/** A tensor filled with one number. */
import { Fill, type FillAttrs } from '@tensorflow/tfjs-core';
import { nativeKernel } from '../kernel-config.js';

export const fillConfig = nativeKernel<FillAttrs>(Fill, ({ backend, attrs }) => {
  const dtype = attrs.dtype ?? 'float32';
  if ((dtype !== 'float32' && dtype !== 'int32') || typeof attrs.value !== 'number') return undefined;
  return backend.run(attrs.shape, dtype, (out) => backend.native.Fill(out, attrs.shape, attrs.value as number));
});
