/** The gradient of average pooling (at::avg_pool2d_backward). */
import { AvgPoolGrad, type AvgPoolGradAttrs, type TensorInfo } from '@tensorflow/tfjs-core';
import { nativeKernel } from '../kernel-config.js';
import { poolGeometry } from './pool-geometry.js';

export const avgPoolGradConfig = nativeKernel<AvgPoolGradAttrs>(AvgPoolGrad, ({ inputs, backend, attrs }) => {
  const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
  const geometry = dy.dtype === 'float32' && input.dtype === 'float32' ? poolGeometry(input.shape, attrs) : undefined;
  if (!geometry) return undefined;
  return backend.run(input.shape, 'float32', (out) =>
    backend.native.AvgPoolGrad(
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
