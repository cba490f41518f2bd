/** Pack (tf.stack): a concatenation of the inputs, each seen with a new axis of size 1. */
import { Pack, util, type PackAttrs } from '@tensorflow/tfjs-core';
import { isNativeDtype } from '../backend.js';
import { nativeKernel } from '../kernel-config.js';
import { listInputs, tensorList } from './tensor-args.js';

export const packConfig = nativeKernel<PackAttrs>(Pack, ({ inputs, backend, attrs }) => {
  const tensors = listInputs(inputs);
  const first = tensors[0];
  if (
    !isNativeDtype(first.dtype) ||
    tensors.some((t) => t.dtype !== first.dtype || t.shape.join() !== first.shape.join())
  )
    return undefined;
  const [axis] = util.parseAxisParam(attrs.axis, [...first.shape, 1]);
  const expanded = [...first.shape.slice(0, axis), 1, ...first.shape.slice(axis)];
  const shape = [...first.shape.slice(0, axis), tensors.length, ...first.shape.slice(axis)];
  return backend.run(shape, first.dtype, (out) =>
    backend.native.Concat(tensorList(backend, tensors, expanded), out, shape, axis),
  );
});
