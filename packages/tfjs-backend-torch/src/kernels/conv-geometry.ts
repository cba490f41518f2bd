/** tfjs's convolution geometry (computeConv2DInfo) in the form native/conv.cc reads it. */
import { backend_util, type Conv2DAttrs } from '@tensorflow/tfjs-core';

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

type Shape4 = [number, number, number, number];

/**
 * The geometry of an NHWC convolution of `inputShape` by an HWIO filter of `filterShape`, or undefined
 * when its padding is one libtorch cannot take (the kernel then leaves the work to the cpu backend).
 */
export function nativeConvInfo(
  inputShape: readonly number[],
  filterShape: readonly number[],
  attrs: Pick<Conv2DAttrs, 'strides' | 'pad' | 'dimRoundingMode'> & { dilations?: Conv2DAttrs['dilations'] },
): ConvInfo | undefined {
  const info = backend_util.computeConv2DInfo(
    inputShape as Shape4,
    filterShape as Shape4,
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  return nativePadding(info) ? info : undefined;
}
