/** The input gradient of a 2-D convolution: at::convolution_backward with only the input mask set. */
import { Conv2DBackpropInput, type Conv2DBackpropInputAttrs, type TensorInfo } from '@tensorflow/tfjs-core';
import { nativeKernel } from '../kernel-config.js';
import { convGeometry, nativeConvInfo } from './conv-geometry.js';

export const conv2DBackpropInputConfig = nativeKernel<Conv2DBackpropInputAttrs>(
  Conv2DBackpropInput,
  ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    if (attrs.dataFormat === 'NCHW' || dy.dtype !== 'float32' || filter.dtype !== 'float32') return undefined;
    const info = nativeConvInfo(attrs.inputShape, filter.shape, attrs);
    if (!info) return undefined;
    const shape = attrs.inputShape;
    return backend.run(shape, 'float32', (out) =>
      backend.native.Conv2DBackpropInput(
        backend.values(dy),
        dy.shape,
        backend.values(filter),
        filter.shape,
        out,
        shape,
        ...convGeometry(info),
      ),
    );
  },
);
