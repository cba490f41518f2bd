/** Tile (at::Tensor::repeat). */
import { Tile, type TileAttrs } from '@tensorflow/tfjs-core';
import { isNativeDtype } from '../backend.js';
import { nativeKernel } from '../kernel-config.js';

export const tileConfig = nativeKernel<TileAttrs>(Tile, ({ inputs, backend, attrs }) => {
  const x = inputs.x;
  if (!isNativeDtype(x.dtype) || attrs.reps.length !== x.shape.length) return undefined;
  const shape = x.shape.map((d, i) => d * attrs.reps[i]);
  return backend.run(shape, x.dtype, (out) => backend.native.Tile(backend.values(x), x.shape, out, shape, attrs.reps));
});
