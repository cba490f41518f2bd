/** Concatenation along one axis (at::cat). Empty inputs are dropped as tfjs does; one input left is the cpu kernel's identity. */
import { backend_util, Concat, util, type ConcatAttrs } from '@tensorflow/tfjs-core';
import { isNativeDtype } from '../backend.js';
import { nativeKernel } from '../kernel-config.js';
import { listInputs, tensorList } from './tensor-args.js';

export const concatConfig = nativeKernel<ConcatAttrs>(Concat, ({ inputs, backend, attrs }) => {
  const all = listInputs(inputs);
  const [axis] = util.parseAxisParam(attrs.axis, all[0].shape);
  const tensors = all.filter((t) => util.sizeFromShape(t.shape) > 0);
  const dtype = all[0].dtype;
  if (tensors.length < 2 || !isNativeDtype(dtype) || tensors.some((t) => t.dtype !== dtype)) return undefined;
  backend_util.assertParamsConsistent(
    tensors.map((t) => t.shape),
    axis,
  );
  const shape = backend_util.computeOutShape(
    tensors.map((t) => t.shape),
    axis,
  );
  return backend.run(shape, dtype, (out) => backend.native.Concat(tensorList(backend, tensors), out, shape, axis));
});
