/** Constant padding: fill, then copy the input into the interior (non-negative paddings). */
import { PadV2, type PadV2Attrs } from '@tensorflow/tfjs-core';
import { isNativeDtype } from '../backend.js';
import { nativeKernel } from '../kernel-config.js';

export const padV2Config = nativeKernel<PadV2Attrs>(PadV2, ({ inputs, backend, attrs }) => {
  const x = inputs.x;
  const flat = attrs.paddings.flat();
  if (!isNativeDtype(x.dtype) || flat.some((p) => p < 0)) return undefined;
  const shape = x.shape.map((d, i) => attrs.paddings[i][0] + d + attrs.paddings[i][1]);
  return backend.run(shape, x.dtype, (out) =>
    backend.native.PadV2(backend.values(x), x.shape, out, shape, flat, attrs.constantValue),
  );
});
