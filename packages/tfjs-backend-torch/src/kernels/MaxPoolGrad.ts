/** The gradient of max pooling: dy goes to each window's maximum (positions recomputed natively from the input). */
import { MaxPoolGrad, type MaxPoolGradAttrs, type TensorInfo } from '@tensorflow/tfjs-core';
import { nativeKernel } from '../kernel-config.js';
import { poolGeometry } from './pool-geometry.js';

export const maxPoolGradConfig = nativeKernel<MaxPoolGradAttrs>(MaxPoolGrad, ({ inputs, backend, attrs }) => {
  const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
  const geometry = dy.dtype === 'float32' && input.dtype === 'float32' ? poolGeometry(input.shape, attrs) : undefined;
  if (!geometry) return undefined;
  return backend.run(input.shape, 'float32', (out) =>
    backend.native.MaxPoolGrad(
      backend.values(dy),
      dy.shape,
      backend.values(input),
      input.shape,
      out,
      input.shape,
      ...geometry,
    ),
  );
});
