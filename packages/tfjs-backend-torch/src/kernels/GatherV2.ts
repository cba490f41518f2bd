/** Gather along one axis by int32 indices (at::index_select); batchDims > 0 stays with the cpu kernel. */
import { GatherV2, util, type GatherV2Attrs, type TensorInfo } from '@tensorflow/tfjs-core';
import { isNativeDtype } from '../backend.js';
import { nativeKernel } from '../kernel-config.js';

export const gatherV2Config = nativeKernel<GatherV2Attrs>(GatherV2, ({ inputs, backend, attrs }) => {
  const { x, indices } = inputs as { x: TensorInfo; indices: TensorInfo };
  if ((attrs.batchDims ?? 0) !== 0 || !isNativeDtype(x.dtype) || indices.dtype !== 'int32') return undefined;
  const [axis] = util.parseAxisParam(attrs.axis, x.shape);
  const count = util.sizeFromShape(indices.shape);
  const nativeShape = [...x.shape.slice(0, axis), count, ...x.shape.slice(axis + 1)];
  const shape = [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)];
  return backend.run(shape, x.dtype, (out) =>
    backend.native.GatherV2(backend.values(x), x.shape, backend.values(indices), indices.shape, out, nativeShape, axis),
  );
});
