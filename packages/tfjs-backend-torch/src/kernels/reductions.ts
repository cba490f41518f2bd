/**
 * Reductions over axes (native/reduce.cc). keepDims only changes the output's shape: the native
 * kernel writes the reduced values, the shape with kept dimensions is set here.
 */
import {
  All,
  Any,
  ArgMax,
  ArgMin,
  backend_util,
  Max,
  Mean,
  Min,
  Prod,
  Sum,
  util,
  type KernelConfig,
} from '@tensorflow/tfjs-core';
import type { NativeDtype } from '../backend.js';
import { nativeKernel } from '../kernel-config.js';
import type { ArgKernelName, ReductionKernelName } from '../native.js';
import { tableEntries } from './kernel-table.js';

/** Input dtypes that run natively, the attribute holding the axes, and the output dtype. */
const REDUCTIONS: Record<
  ReductionKernelName,
  { inputs: string[]; axisAttr: 'axis' | 'reductionIndices'; output: (dtype: string) => NativeDtype }
> = {
  [Sum]: {
    inputs: ['float32', 'int32', 'bool'],
    axisAttr: 'axis',
    output: (d) => (d === 'float32' ? 'float32' : 'int32'),
  },
  [Prod]: {
    inputs: ['float32', 'int32', 'bool'],
    axisAttr: 'axis',
    output: (d) => (d === 'float32' ? 'float32' : 'int32'),
  },
  [Mean]: { inputs: ['float32'], axisAttr: 'axis', output: () => 'float32' },
  [Max]: { inputs: ['float32', 'int32'], axisAttr: 'reductionIndices', output: (d) => d as NativeDtype },
  [Min]: { inputs: ['float32', 'int32'], axisAttr: 'axis', output: (d) => d as NativeDtype },
  [All]: { inputs: ['bool'], axisAttr: 'axis', output: () => 'bool' },
  [Any]: { inputs: ['bool'], axisAttr: 'axis', output: () => 'bool' },
};

export const reductionKernels: KernelConfig[] = tableEntries(REDUCTIONS).map(([name, rule]) =>
  nativeKernel(name, ({ inputs, backend, attrs }) => {
    const x = inputs.x;
    if (!rule.inputs.includes(x.dtype)) return undefined;
    const a = attrs as Record<string, unknown>;
    const axes = util.parseAxisParam(a[rule.axisAttr] as number | number[], x.shape);
    const [reduced] = backend_util.computeOutAndReduceShapes(x.shape, axes);
    const shape = a.keepDims ? backend_util.expandShapeToKeepDim(reduced, axes) : reduced;
    const dtype = rule.output(x.dtype);
    return backend.run(shape, dtype, (out) => backend.native[name](backend.values(x), x.shape, out, reduced, axes));
  }),
);

/** ArgMax / ArgMin over one axis, int32 indices. */
export const argKernels: KernelConfig[] = ([ArgMax, ArgMin] as const).map((name: ArgKernelName) =>
  nativeKernel<{ axis: number }>(name, ({ inputs, backend, attrs }) => {
    const x = inputs.x;
    if (x.dtype !== 'float32' && x.dtype !== 'int32') return undefined;
    const [axis] = util.parseAxisParam(attrs.axis, x.shape);
    const [shape] = backend_util.computeOutAndReduceShapes(x.shape, [axis]);
    return backend.run(shape, 'int32', (out) => backend.native[name](backend.values(x), x.shape, out, shape, axis));
  }),
);
