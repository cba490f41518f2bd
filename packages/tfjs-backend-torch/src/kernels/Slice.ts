/**
 * Slice: a contiguous slice is the cpu kernel's (a subarray view of the same memory, no copy, counted
 * as a view); any other slice is a strided copy in libtorch.
 */
import { Slice, slice_util, type SliceAttrs } from '@tensorflow/tfjs-core';
import { isNativeDtype } from '../backend.js';
import { nativeKernel, onCpu } from '../kernel-config.js';

export const sliceConfig = nativeKernel<SliceAttrs>(Slice, (args) => {
  const { inputs, backend, attrs } = args;
  const x = inputs.x;
  const [begin, size] = slice_util.parseSliceParams(x, attrs.begin, attrs.size);
  slice_util.assertParamsValid(x, begin, size);
  if (slice_util.isSliceContinous(x.shape, begin, size)) return onCpu(Slice, args as never, 'view');
  if (!isNativeDtype(x.dtype)) return undefined;
  return backend.run(size, x.dtype, (out) => backend.native.Slice(backend.values(x), x.shape, out, size, begin));
});
