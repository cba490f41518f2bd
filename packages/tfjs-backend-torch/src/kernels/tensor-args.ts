/** Argument helpers for native calls. */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { TorchBackend } from '../backend.js';
import type { NativeTensorList, NativeValues, Shape } from '../native.js';

/** (values, shape) of an optional input, or (null, null) for one that is absent. */
export function optionalTensor(
  backend: TorchBackend,
  t: TensorInfo | undefined | null,
): [NativeValues | null, Shape | null] {
  return t ? [backend.values(t), t.shape] : [null, null];
}

/** A tensor list as the native side reads it, each tensor seen with its own shape or with `shape`. */
export function tensorList(backend: TorchBackend, tensors: readonly TensorInfo[], shape?: Shape): NativeTensorList {
  return tensors.flatMap((t) => [backend.values(t), shape ?? t.shape]);
}
