/** A tensor filled with one number. */
import type { FillAttrs } from '@tensorflow/tfjs-core';
import { nativeKernel } from '../kernel-config.js';

type Fn = (out: unknown, shape: number[], value: number) => void;

export const fillConfig = nativeKernel<FillAttrs>('Fill', ({ backend, attrs }) => {
  const dtype = attrs.dtype ?? 'float32';
  if ((dtype !== 'float32' && dtype !== 'int32') || typeof attrs.value !== 'number') return undefined;
  return backend.run(attrs.shape, dtype, (out) => backend.kernel<Fn>('Fill')(out, attrs.shape, attrs.value as number));
});
