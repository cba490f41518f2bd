/** Max pooling, NHWC (padded positions never win). */
import { MaxPool, type MaxPoolAttrs } from '@tensorflow/tfjs-core';
import { nativeKernel } from '../kernel-config.js';
import { poolGeometry, pooledShape } from './pool-geometry.js';

export const maxPoolConfig = nativeKernel<MaxPoolAttrs>(MaxPool, ({ inputs, backend, attrs }) => {
  const x = inputs.x;
  const geometry = x.dtype === 'float32' ? poolGeometry(x.shape, attrs) : undefined;
  if (!geometry) return undefined;
  const shape = pooledShape(x.shape, attrs);
  return backend.run(shape, 'float32', (out) =>
    backend.native.MaxPool(backend.values(x), x.shape, out, shape, ...geometry),
  );
});
