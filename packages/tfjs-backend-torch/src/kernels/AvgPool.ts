/** 2x2-style average pooling (TensorFlow's: padded positions are not counted), NHWC. */
import { AvgPool, type AvgPoolAttrs } from '@tensorflow/tfjs-core';
import { nativeKernel } from '../kernel-config.js';
import { poolGeometry, pooledShape } from './pool-geometry.js';

export const avgPoolConfig = nativeKernel<AvgPoolAttrs>(AvgPool, ({ inputs, backend, attrs }) => {
  const x = inputs.x;
  const geometry = x.dtype === 'float32' ? poolGeometry(x.shape, attrs) : undefined;
  if (!geometry) return undefined;
  const shape = pooledShape(x.shape, attrs);
  return backend.run(shape, 'float32', (out) =>
    backend.native.AvgPool(backend.values(x), x.shape, out, shape, ...geometry),
  );
});
