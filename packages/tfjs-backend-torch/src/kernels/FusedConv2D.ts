/**
 * FusedConv2D (conv + bias + activation) and plain Conv2D: libtorch's convolution on the NHWC buffers
 * as channels_last views (oneDNN), NHWC only (NCHW inputs stay with the cpu kernel).
 */
import { Conv2D, FusedConv2D, type Conv2DAttrs, type FusedConv2DAttrs, type TensorInfo } from '@tensorflow/tfjs-core';
import type { TorchBackend } from '../backend.js';
import { nativeKernel } from '../kernel-config.js';
import { convGeometry, nativeConvInfo } from './conv-geometry.js';
import { optionalTensor } from './tensor-args.js';

function conv2d(
  backend: TorchBackend,
  x: TensorInfo,
  filter: TensorInfo,
  attrs: Conv2DAttrs,
  bias?: TensorInfo,
  prelu?: TensorInfo,
  activation = 'linear',
  leakyAlpha = 0.2,
): TensorInfo | undefined {
  if (attrs.dataFormat === 'NCHW' || [x, filter, bias, prelu].some((t) => t && t.dtype !== 'float32')) return undefined;
  const info = nativeConvInfo(x.shape, filter.shape, attrs);
  if (!info) return undefined;
  const shape = info.outShape;
  return backend.run(shape, 'float32', (out) =>
    backend.native.FusedConv2D(
      backend.values(x),
      x.shape,
      backend.values(filter),
      filter.shape,
      ...optionalTensor(backend, bias),
      ...optionalTensor(backend, prelu),
      out,
      shape,
      ...convGeometry(info),
      activation,
      leakyAlpha,
    ),
  );
}

export const conv2DConfig = nativeKernel<Conv2DAttrs>(Conv2D, ({ inputs, backend, attrs }) =>
  conv2d(backend, inputs.x, inputs.filter, attrs),
);

export const fusedConv2DConfig = nativeKernel<FusedConv2DAttrs>(FusedConv2D, ({ inputs, backend, attrs }) => {
  const { x, filter, bias, preluActivationWeights } = inputs as {
    x: TensorInfo;
    filter: TensorInfo;
    bias?: TensorInfo;
    preluActivationWeights?: TensorInfo;
  };
  return conv2d(backend, x, filter, attrs, bias, preluActivationWeights, attrs.activation, attrs.leakyreluAlpha);
});
