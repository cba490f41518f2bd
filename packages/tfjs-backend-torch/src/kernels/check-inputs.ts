/**
 * The one place where the inputs of this backend's own kernels (FusedAdam, SoftmaxGrad, SoftmaxAttention,
 * ConditionalBatchNorm and their gradients) are checked: dtype, rank, and the sizes that must agree
 * between inputs. tfjs checks the inputs of its built-in kernels before they reach a backend; nothing
 * checks these, and a wrong call must fail with an error that names the input and what was expected
 * (`torch backend, FusedAdam: g is float32 [9], expected float32 [n] with n = 10`), before any output is
 * allocated, rather than with a lower-level message from the addon.
 */
import type { NamedTensorInfoMap } from '@tensorflow/tfjs-core';
import type { NativeDtype } from '../backend.js';

/** An input's expected dtype and shape. A named dimension is one size wherever it appears in a call. */
export interface InputSpec<D extends string> {
  dtype: NativeDtype;
  /** Absent: any shape (or `sameShapeAs`'s). */
  shape?: readonly (number | D)[];
  /** The name of an input, checked before this one, whose shape this one must have. */
  sameShapeAs?: string;
  /** An input that may be absent (FusedAdam's m). */
  optional?: boolean;
}

function describe(dims: readonly (number | string)[]): string {
  return `[${dims.join(', ')}]`;
}

/**
 * Checks `inputs` against `specs` (in the specs' order: the first input with a named dimension sets its
 * size) and returns the size of every named dimension.
 */
export function checkInputs<D extends string>(
  kernel: string,
  inputs: NamedTensorInfoMap,
  specs: Readonly<Record<string, InputSpec<D>>>,
): Record<D, number> {
  const sizes = {} as Record<D, number>;
  for (const [name, spec] of Object.entries(specs)) {
    const t = inputs[name];
    if (!t) {
      if (spec.optional) continue;
      throw new Error(`torch backend, ${kernel}: input ${name} is missing`);
    }
    const expected = spec.sameShapeAs ? inputs[spec.sameShapeAs]?.shape : spec.shape;
    let ok = t.dtype === spec.dtype && (!expected || expected.length === t.shape.length);
    for (let i = 0; ok && expected && i < expected.length; i++) {
      const dim = expected[i];
      if (typeof dim === 'number') ok = t.shape[i] === dim;
      else if (sizes[dim] === undefined) sizes[dim] = t.shape[i];
      else ok = t.shape[i] === sizes[dim];
    }
    if (!ok) {
      const bound = Object.entries(sizes)
        .map(([d, n]) => `${d} = ${String(n)}`)
        .join(', ');
      throw new Error(
        `torch backend, ${kernel}: ${name} is ${t.dtype} ${describe(t.shape)}, expected ${spec.dtype} ${expected ? describe(expected) : '(any shape)'}` +
          `${spec.sameShapeAs ? ` (${spec.sameShapeAs}'s shape)` : ''}${bound ? ` with ${bound}` : ''}`,
      );
    }
  }
  return sizes;
}
