/**
 * Element-wise kernels of one input: each is the libtorch function of the same name in
 * native/elementwise.cc (Step, LeakyRelu and ClipByValue also take their attributes).
 */
import {
  Abs,
  Acos,
  Asin,
  Atan,
  Ceil,
  ClipByValue,
  Cos,
  Cosh,
  Elu,
  Erf,
  Exp,
  Expm1,
  Floor,
  IsInf,
  IsNan,
  LeakyRelu,
  Log,
  Log1p,
  LogicalNot,
  Neg,
  Reciprocal,
  Relu,
  Relu6,
  Round,
  Rsqrt,
  Selu,
  Sigmoid,
  Sign,
  Sin,
  Sinh,
  Softplus,
  Sqrt,
  Square,
  Step,
  Tan,
  Tanh,
  type KernelConfig,
  type NamedAttrMap,
} from '@tensorflow/tfjs-core';
import type { NativeDtype } from '../backend.js';
import { nativeKernel } from '../kernel-config.js';
import type { NativeAddon, NativeValues, Shape, UnaryKernelName } from '../native.js';
import { tableEntries } from './kernel-table.js';

/** Input dtypes that run natively; output 'bool' for predicates, else the input's dtype. */
interface Rule {
  inputs: readonly string[];
  output?: 'bool';
}
type Call = (native: NativeAddon, x: NativeValues, shape: Shape, out: NativeValues, attrs: NamedAttrMap) => void;

const FLOAT = ['float32'];
const NUMERIC = ['float32', 'int32'];

/** The kernels without attributes (Cast, also of this signature, has its own file). */
type PlainUnary = Exclude<UnaryKernelName, 'Cast'>;

const UNARY: Record<PlainUnary, Rule> = {
  [Abs]: { inputs: NUMERIC },
  [Acos]: { inputs: FLOAT },
  [Asin]: { inputs: FLOAT },
  [Atan]: { inputs: FLOAT },
  [Ceil]: { inputs: FLOAT },
  [Cos]: { inputs: FLOAT },
  [Cosh]: { inputs: FLOAT },
  [Elu]: { inputs: FLOAT },
  [Erf]: { inputs: FLOAT },
  [Exp]: { inputs: FLOAT },
  [Expm1]: { inputs: FLOAT },
  [Floor]: { inputs: FLOAT },
  [IsNan]: { inputs: FLOAT, output: 'bool' },
  [IsInf]: { inputs: FLOAT, output: 'bool' },
  [Log]: { inputs: FLOAT },
  [Log1p]: { inputs: FLOAT },
  [LogicalNot]: { inputs: ['bool'], output: 'bool' },
  [Neg]: { inputs: NUMERIC },
  [Reciprocal]: { inputs: FLOAT },
  [Relu]: { inputs: NUMERIC },
  [Relu6]: { inputs: NUMERIC },
  [Round]: { inputs: FLOAT },
  [Rsqrt]: { inputs: FLOAT },
  [Selu]: { inputs: FLOAT },
  [Sigmoid]: { inputs: FLOAT },
  [Sign]: { inputs: NUMERIC },
  [Sin]: { inputs: FLOAT },
  [Sinh]: { inputs: FLOAT },
  [Softplus]: { inputs: FLOAT },
  [Sqrt]: { inputs: FLOAT },
  [Square]: { inputs: NUMERIC },
  [Tan]: { inputs: FLOAT },
  [Tanh]: { inputs: FLOAT },
};

function unaryKernel(name: string, rule: Rule, call: Call): KernelConfig {
  return nativeKernel(name, ({ inputs, backend, attrs }) => {
    const x = inputs.x;
    if (!rule.inputs.includes(x.dtype)) return undefined;
    const dtype = (rule.output ?? x.dtype) as NativeDtype;
    return backend.run(x.shape, dtype, (out) => call(backend.native, backend.values(x), x.shape, out, attrs));
  });
}

export const unaryKernels: KernelConfig[] = [
  ...tableEntries(UNARY).map(([name, rule]) =>
    unaryKernel(name, rule, (native, x, shape, out) => native[name](x, shape, out, shape)),
  ),
  unaryKernel(Step, { inputs: FLOAT }, (native, x, shape, out, attrs) =>
    native.Step(x, shape, out, shape, attrs.alpha as number),
  ),
  unaryKernel(LeakyRelu, { inputs: FLOAT }, (native, x, shape, out, attrs) =>
    native.LeakyRelu(x, shape, out, shape, attrs.alpha as number),
  ),
  unaryKernel(ClipByValue, { inputs: NUMERIC }, (native, x, shape, out, attrs) =>
    native.ClipByValue(x, shape, out, shape, attrs.clipValueMin as number, attrs.clipValueMax as number),
  ),
];
