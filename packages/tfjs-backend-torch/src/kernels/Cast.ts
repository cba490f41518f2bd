/** Cast between float32, int32 and bool in libtorch (a cast to the same dtype stays the cpu backend's shared-data identity). */
import { Cast, type CastAttrs } from '@tensorflow/tfjs-core';
import { isNativeDtype } from '../backend.js';
import { nativeKernel, onCpu } from '../kernel-config.js';

export const castConfig = nativeKernel<CastAttrs>(Cast, (args) => {
  const { inputs, backend, attrs } = args;
  const x = inputs.x;
  if (x.dtype === attrs.dtype) return onCpu(Cast, args as never, 'view');
  if (!isNativeDtype(x.dtype) || !isNativeDtype(attrs.dtype)) return undefined;
  return backend.run(x.shape, attrs.dtype, (out) => backend.native.Cast(backend.values(x), x.shape, out, x.shape));
});
