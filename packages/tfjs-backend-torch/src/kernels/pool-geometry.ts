/**
 * Pooling geometry: tfjs's computePool2DInfo, and whether libtorch's pooling computes the same windows
 * (symmetric padding of at most half the window, the same output size).
 */
import { backend_util } from '@tensorflow/tfjs-core';

type PoolAttrs = {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
};

/** [kernel, stride, padding] for native/pool.cc, or undefined when libtorch's windows would differ. */
export function poolGeometry(shape: number[], attrs: PoolAttrs): [number[], number[], number[]] | undefined {
  const info = backend_util.computePool2DInfo(
    shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { top, bottom, left, right } = info.padInfo;
  if (top !== bottom || left !== right) return undefined;
  if (2 * top > info.filterHeight || 2 * left > info.filterWidth) return undefined;
  const outH = Math.floor((info.inHeight + 2 * top - info.filterHeight) / info.strideHeight) + 1;
  const outW = Math.floor((info.inWidth + 2 * left - info.filterWidth) / info.strideWidth) + 1;
  if (outH !== info.outHeight || outW !== info.outWidth) return undefined;
  return [
    [info.filterHeight, info.filterWidth],
    [info.strideHeight, info.strideWidth],
    [top, left],
  ];
}

export function pooledShape(shape: number[], attrs: PoolAttrs): number[] {
  return backend_util.computePool2DInfo(
    shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  ).outShape;
}
