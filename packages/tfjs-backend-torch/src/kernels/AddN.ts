/** The sum of same-shaped tensors (tfjs's gradient accumulation). */
import { AddN } from '@tensorflow/tfjs-core';
import { nativeKernel } from '../kernel-config.js';
import { listInputs, tensorList } from './tensor-args.js';

export const addNConfig = nativeKernel(AddN, ({ inputs, backend }) => {
  const tensors = listInputs(inputs);
  const first = tensors[0];
  if (
    tensors.some((t) => t.dtype !== first.dtype || t.shape.join() !== first.shape.join()) ||
    (first.dtype !== 'float32' && first.dtype !== 'int32')
  )
    return undefined;
  return backend.run(first.shape, first.dtype, (out) =>
    backend.native.AddN(tensorList(backend, tensors), out, first.shape),
  );
});
