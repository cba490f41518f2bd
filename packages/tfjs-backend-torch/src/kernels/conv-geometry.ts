/** tfjs's convolution geometry (computeConv2DInfo) in the form native/conv.cc reads it. */
import { type backend_util } from '@tensorflow/tfjs-core';

export type ConvInfo = ReturnType<typeof backend_util.computeConv2DInfo>;

/** strides, dilations, [top, bottom, left, right] padding. */
export function convGeometry(info: ConvInfo): [number[], number[], number[]] {
  const p = info.padInfo;
  return [
    [info.strideHeight, info.strideWidth],
    [info.dilationHeight, info.dilationWidth],
    [p.top, p.bottom, p.left, p.right],
  ];
}

/** Padding libtorch cannot take (negative, e.g. tfjs 'valid' never is, explicit paddings may be). */
export function nativePadding(info: ConvInfo): boolean {
  const p = info.padInfo;
  return p.top >= 0 && p.bottom >= 0 && p.left >= 0 && p.right >= 0;
}
