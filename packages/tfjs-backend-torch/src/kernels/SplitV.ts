/**
 * SplitV: each piece is a Slice of the input through this backend's Slice kernel, so pieces along the
 * leading axis are views of the input's memory (the trainer's flat parameter buffers) and other pieces
 * are strided copies in libtorch.
 */
import { backend_util, SplitV, util, type SplitVAttrs, type TensorInfo } from '@tensorflow/tfjs-core';
import { nativeKernel } from '../kernel-config.js';
import { sliceConfig } from './Slice.js';

export const splitVConfig = nativeKernel<SplitVAttrs>(SplitV, ({ inputs, backend, attrs }) => {
  const x = inputs.x;
  const [axis] = util.parseAxisParam(attrs.axis, x.shape);
  const sizes = backend_util.prepareSplitSize(x, attrs.numOrSizeSplits, axis);
  const begin = new Array<number>(x.shape.length).fill(0);
  const size = x.shape.slice();
  return sizes.map((s) => {
    const sliceSize = [...size];
    sliceSize[axis] = s;
    const piece = sliceConfig.kernelFunc({
      inputs: { x },
      backend,
      attrs: { begin: [...begin], size: sliceSize },
    }) as TensorInfo;
    begin[axis] += s;
    return piece;
  });
});
