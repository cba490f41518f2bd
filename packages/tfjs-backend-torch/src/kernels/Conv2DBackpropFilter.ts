/** The filter gradient of a 2-D convolution: at::convolution_backward with only the weight mask set. */
import { Conv2DBackpropFilter, type Conv2DBackpropFilterAttrs, type TensorInfo } from '@tensorflow/tfjs-core';
import { nativeKernel } from '../kernel-config.js';
import { convGeometry, nativeConvInfo } from './conv-geometry.js';

export const conv2DBackpropFilterConfig = nativeKernel<Conv2DBackpropFilterAttrs>(
  Conv2DBackpropFilter,
  ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    if (attrs.dataFormat === 'NCHW' || x.dtype !== 'float32' || dy.dtype !== 'float32') return undefined;
    const info = nativeConvInfo(x.shape, attrs.filterShape, attrs);
    if (!info) return undefined;
    const shape = attrs.filterShape;
    return backend.run(shape, 'float32', (out) =>
      backend.native.Conv2DBackpropFilter(
        backend.values(x),
        x.shape,
        backend.values(dy),
        dy.shape,
        out,
        shape,
        ...convGeometry(info),
      ),
    );
  },
);
