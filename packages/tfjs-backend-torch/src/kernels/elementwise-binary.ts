/**
 * Element-wise kernels of two inputs (NumPy broadcasting): each is the libtorch function of the same
 * name in native/elementwise.cc; this table says which dtypes run natively and the output dtype.
 */
import {
  Add,
  Atan2,
  backend_util,
  Equal,
  FloorDiv,
  Greater,
  GreaterEqual,
  Less,
  LessEqual,
  LogicalAnd,
  LogicalOr,
  LogicalXor,
  Maximum,
  Minimum,
  Mod,
  Multiply,
  NotEqual,
  Pow,
  Prelu,
  RealDiv,
  SquaredDifference,
  Sub,
  type KernelConfig,
} from '@tensorflow/tfjs-core';
import { isNativeDtype, type NativeDtype } from '../backend.js';
import { nativeKernel } from '../kernel-config.js';
import type { BinaryKernelName } from '../native.js';
import { tableEntries } from './kernel-table.js';

/** 'same': the inputs' dtype (float32 or int32); 'bool': a comparison or logical op. */
const BINARY: Record<BinaryKernelName, { inputs: 'numeric' | 'float' | 'any' | 'bool'; output: 'same' | 'bool' }> = {
  [Add]: { inputs: 'numeric', output: 'same' },
  [Sub]: { inputs: 'numeric', output: 'same' },
  [Multiply]: { inputs: 'numeric', output: 'same' },
  [RealDiv]: { inputs: 'float', output: 'same' },
  [FloorDiv]: { inputs: 'numeric', output: 'same' },
  [Mod]: { inputs: 'numeric', output: 'same' },
  [Maximum]: { inputs: 'numeric', output: 'same' },
  [Minimum]: { inputs: 'numeric', output: 'same' },
  [Pow]: { inputs: 'float', output: 'same' },
  [Atan2]: { inputs: 'float', output: 'same' },
  [SquaredDifference]: { inputs: 'numeric', output: 'same' },
  [Prelu]: { inputs: 'float', output: 'same' },
  [Less]: { inputs: 'any', output: 'bool' },
  [LessEqual]: { inputs: 'any', output: 'bool' },
  [Greater]: { inputs: 'any', output: 'bool' },
  [GreaterEqual]: { inputs: 'any', output: 'bool' },
  [Equal]: { inputs: 'any', output: 'bool' },
  [NotEqual]: { inputs: 'any', output: 'bool' },
  [LogicalAnd]: { inputs: 'bool', output: 'bool' },
  [LogicalOr]: { inputs: 'bool', output: 'bool' },
  [LogicalXor]: { inputs: 'bool', output: 'bool' },
};

function accepts(kind: string, dtype: string): boolean {
  if (kind === 'float') return dtype === 'float32';
  if (kind === 'numeric') return dtype === 'float32' || dtype === 'int32';
  if (kind === 'bool') return dtype === 'bool';
  return true;
}

export const binaryKernels: KernelConfig[] = tableEntries(BINARY).map(([name, rule]) =>
  nativeKernel(name, ({ inputs, backend }) => {
    const a = inputs.a ?? inputs.x;
    const b = inputs.b ?? inputs.alpha;
    if (a.dtype !== b.dtype || !isNativeDtype(a.dtype) || !accepts(rule.inputs, a.dtype)) return undefined;
    const shape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const dtype: NativeDtype = rule.output === 'bool' ? 'bool' : a.dtype;
    return backend.run(shape, dtype, (out) =>
      backend.native[name](backend.values(a), a.shape, backend.values(b), b.shape, out, shape),
    );
  }),
);
