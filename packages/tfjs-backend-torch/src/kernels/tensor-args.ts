/** Argument helpers for native calls. */
import type { NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { TorchBackend } from '../backend.js';
import type { NativeTensorList, NativeValues, Shape } from '../native.js';

/** (values, shape) of an optional input, or (null, null) for one that is absent. */
export function optionalTensor(
  backend: TorchBackend,
  t: TensorInfo | undefined | null,
): [NativeValues | null, Shape | null] {
  return t ? [backend.values(t), t.shape] : [null, null];
}

/**
 * The inputs of a kernel that takes a list (AddN, Concat, Pack): tfjs hands them over as an array, typed
 * as its name -> tensor map; the values in index order are that list.
 */
export function listInputs(inputs: NamedTensorInfoMap): TensorInfo[] {
  return Object.values(inputs).filter((t): t is TensorInfo => t !== undefined);
}

/** A tensor list as the native side reads it, each tensor seen with its own shape or with `shape`. */
export function tensorList(backend: TorchBackend, tensors: readonly TensorInfo[], shape?: Shape): NativeTensorList {
  return tensors.flatMap((t) => [backend.values(t), shape ?? t.shape]);
}
