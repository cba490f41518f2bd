/**
 * Element-wise kernels of one input: each is the libtorch function of the same name in
 * native/elementwise.cc (Step, LeakyRelu and ClipByValue take their attribute as a last argument).
 */
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import type { NativeDtype } from '../backend.js';
import { nativeKernel } from '../kernel-config.js';

type Unary = (x: unknown, xShape: number[], out: unknown, outShape: number[], ...attrs: number[]) => void;

const FLOAT = ['float32'];
const NUMERIC = ['float32', 'int32'];

/** input dtypes that run natively; output 'bool' for predicates, else the input's dtype. */
const UNARY: Record<string, { inputs: string[]; output?: 'bool'; attrs?: (attrs: Record<string, unknown>) => number[] }> = {
  Abs: { inputs: NUMERIC }, Acos: { inputs: FLOAT }, Asin: { inputs: FLOAT }, Atan: { inputs: FLOAT },
  Ceil: { inputs: FLOAT }, Cos: { inputs: FLOAT }, Cosh: { inputs: FLOAT }, Elu: { inputs: FLOAT },
  Erf: { inputs: FLOAT }, Exp: { inputs: FLOAT }, Expm1: { inputs: FLOAT }, Floor: { inputs: FLOAT },
  IsNan: { inputs: FLOAT, output: 'bool' }, IsInf: { inputs: FLOAT, output: 'bool' }, Log: { inputs: FLOAT },
  Log1p: { inputs: FLOAT }, LogicalNot: { inputs: ['bool'], output: 'bool' }, Neg: { inputs: NUMERIC },
  Reciprocal: { inputs: FLOAT }, Relu: { inputs: NUMERIC }, Relu6: { inputs: NUMERIC }, Round: { inputs: FLOAT },
  Rsqrt: { inputs: FLOAT }, Selu: { inputs: FLOAT }, Sigmoid: { inputs: FLOAT }, Sign: { inputs: NUMERIC },
  Sin: { inputs: FLOAT }, Sinh: { inputs: FLOAT }, Softplus: { inputs: FLOAT }, Sqrt: { inputs: FLOAT },
  Square: { inputs: NUMERIC }, Tan: { inputs: FLOAT }, Tanh: { inputs: FLOAT },
  Step: { inputs: FLOAT, attrs: (a) => [a.alpha as number] },
  LeakyRelu: { inputs: FLOAT, attrs: (a) => [a.alpha as number] },
  ClipByValue: { inputs: NUMERIC, attrs: (a) => [a.clipValueMin as number, a.clipValueMax as number] },
};

export const unaryKernels: KernelConfig[] = Object.entries(UNARY).map(([name, rule]) => nativeKernel(name, ({ inputs, backend, attrs }) => {
  const x = inputs.x as TensorInfo;
  if (!rule.inputs.includes(x.dtype)) return undefined;
  const dtype = (rule.output ?? x.dtype) as NativeDtype;
  const extra = rule.attrs?.(attrs as Record<string, unknown>) ?? [];
  return backend.run(x.shape, dtype, (out) => backend.kernel<Unary>(name)(backend.values(x), x.shape, out, x.shape, ...extra));
}));
