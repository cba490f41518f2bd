/**
 * Nearest-neighbour resize with tfjs's default sampling (alignCorners and halfPixelCenters false:
 * src = floor(dst * in / out), which is libtorch's 'nearest'); other modes stay with the cpu kernel.
 */
import { ResizeNearestNeighbor, type ResizeNearestNeighborAttrs } from '@tensorflow/tfjs-core';
import { nativeKernel } from '../kernel-config.js';

export const resizeNearestNeighborConfig = nativeKernel<ResizeNearestNeighborAttrs>(
  ResizeNearestNeighbor,
  ({ inputs, backend, attrs }) => {
    const images = inputs.images;
    if (images.dtype !== 'float32' || attrs.alignCorners || attrs.halfPixelCenters || images.shape.length !== 4)
      return undefined;
    const [b, , , c] = images.shape;
    const shape = [b, attrs.size[0], attrs.size[1], c];
    return backend.run(shape, 'float32', (out) =>
      backend.native.ResizeNearestNeighbor(backend.values(images), images.shape, out, shape),
    );
  },
);
