/** where(condition, t, e) with one shape for all three (tfjs's rank-1 condition case stays with the cpu kernel). */
import { Select, type TensorInfo } from '@tensorflow/tfjs-core';
import { isNativeDtype } from '../backend.js';
import { nativeKernel } from '../kernel-config.js';

export const selectConfig = nativeKernel(Select, ({ inputs, backend }) => {
  const { condition, t, e } = inputs as { condition: TensorInfo; t: TensorInfo; e: TensorInfo };
  const same = condition.shape.join() === t.shape.join() && t.shape.join() === e.shape.join();
  if (!same || condition.dtype !== 'bool' || t.dtype !== e.dtype || !isNativeDtype(t.dtype)) return undefined;
  return backend.run(t.shape, t.dtype, (out) =>
    backend.native.Select(
      backend.values(condition),
      condition.shape,
      backend.values(t),
      t.shape,
      backend.values(e),
      e.shape,
      out,
      t.shape,
    ),
  );
});
