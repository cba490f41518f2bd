/** Argument helpers for native calls. */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { TorchBackend } from '../backend.js';

/** (values, shape) of an optional input, or (null, null) for one that is absent. */
export function optionalTensor(backend: TorchBackend, t: TensorInfo | undefined | null): [unknown, number[] | null] {
  return t ? [backend.values(t), t.shape] : [null, null];
}

/** A tensor list as the native side reads it: [values0, shape0, values1, shape1, ...]. */
export function tensorList(backend: TorchBackend, tensors: readonly TensorInfo[]): unknown[] {
  return tensors.flatMap((t) => [backend.values(t), t.shape]);
}
