/** The input gradient of a 2-D convolution: at::convolution_backward with only the input mask set. */
import {
  backend_util,
  Conv2DBackpropInput,
  type Conv2DBackpropInputAttrs,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { nativeKernel } from '../kernel-config.js';
import { convGeometry, nativePadding } from './conv-geometry.js';

export const conv2DBackpropInputConfig = nativeKernel<Conv2DBackpropInputAttrs>(
  Conv2DBackpropInput,
  ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    if (attrs.dataFormat === 'NCHW' || dy.dtype !== 'float32' || filter.dtype !== 'float32') return undefined;
    const info = backend_util.computeConv2DInfo(
      attrs.inputShape,
      filter.shape as [number, number, number, number],
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
      false,
      'channelsLast',
    );
    if (!nativePadding(info)) return undefined;
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
