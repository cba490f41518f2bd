/**
 * The libtorch addon (build/Release/torch_backend.node, built by scripts/build-native.mjs at install
 * time): its typed interface, the one description of every native function's arguments, and its
 * loader. When it cannot be loaded, the error says why (libtorch not installed, the build failed, or the
 * addon no longer loads) and how to fix it, in one line.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** A tensor's memory as the addon reads and writes it: its dtype's typed array (bool as Uint8Array). */
export type NativeValues = Float32Array | Int32Array | Uint8Array;
export type Shape = readonly number[];

/** A tensor passed by name, in the argument objects of the kernels with long argument lists. */
export interface NativeTensor {
  values: NativeValues;
  shape: Shape;
}

/** Tensors as the list kernels (AddN, Concat) read them: values0, shape0, values1, shape1, ... */
export type NativeTensorList = (NativeValues | Shape)[];

/** Element-wise kernels of two inputs with broadcasting (native/elementwise.cc). */
export type BinaryKernelName =
  | 'Add'
  | 'Sub'
  | 'Multiply'
  | 'RealDiv'
  | 'FloorDiv'
  | 'Mod'
  | 'Maximum'
  | 'Minimum'
  | 'Pow'
  | 'Atan2'
  | 'SquaredDifference'
  | 'Prelu'
  | 'Less'
  | 'LessEqual'
  | 'Greater'
  | 'GreaterEqual'
  | 'Equal'
  | 'NotEqual'
  | 'LogicalAnd'
  | 'LogicalOr'
  | 'LogicalXor';
/** Element-wise kernels of one input and no attribute (native/elementwise.cc). */
export type UnaryKernelName =
  | 'Abs'
  | 'Acos'
  | 'Asin'
  | 'Atan'
  | 'Ceil'
  | 'Cos'
  | 'Cosh'
  | 'Elu'
  | 'Erf'
  | 'Exp'
  | 'Expm1'
  | 'Floor'
  | 'IsNan'
  | 'IsInf'
  | 'Log'
  | 'Log1p'
  | 'LogicalNot'
  | 'Neg'
  | 'Reciprocal'
  | 'Relu'
  | 'Relu6'
  | 'Round'
  | 'Rsqrt'
  | 'Selu'
  | 'Sigmoid'
  | 'Sign'
  | 'Sin'
  | 'Sinh'
  | 'Softplus'
  | 'Sqrt'
  | 'Square'
  | 'Tan'
  | 'Tanh'
  | 'Cast';
/** Reductions over a list of axes (native/reduce.cc). */
export type ReductionKernelName = 'Sum' | 'Mean' | 'Max' | 'Min' | 'Prod' | 'All' | 'Any';
/** Index of the extreme along one axis (native/reduce.cc). */
export type ArgKernelName = 'ArgMax' | 'ArgMin';
/** Pooling windows (native/pool.cc). */
export type PoolKernelName = 'AvgPool' | 'MaxPool';
export type PoolGradKernelName = 'AvgPoolGrad' | 'MaxPoolGrad';

type BinaryKernel = (
  a: NativeValues,
  aShape: Shape,
  b: NativeValues,
  bShape: Shape,
  out: NativeValues,
  outShape: Shape,
) => void;
type UnaryKernel = (x: NativeValues, xShape: Shape, out: NativeValues, outShape: Shape) => void;
type ReductionKernel = (
  x: NativeValues,
  xShape: Shape,
  out: NativeValues,
  outShape: Shape,
  axes: readonly number[],
) => void;
type ArgKernel = (x: NativeValues, xShape: Shape, out: NativeValues, outShape: Shape, axis: number) => void;
/** kernel [kh, kw], stride [sh, sw], padding [top = bottom, left = right] (src/kernels/pool-geometry.ts). */
type PoolKernel = (
  x: NativeValues,
  xShape: Shape,
  out: NativeValues,
  outShape: Shape,
  kernel: readonly number[],
  stride: readonly number[],
  padding: readonly number[],
) => void;
type PoolGradKernel = (
  dy: NativeValues,
  dyShape: Shape,
  x: NativeValues,
  xShape: Shape,
  out: NativeValues,
  outShape: Shape,
  kernel: readonly number[],
  stride: readonly number[],
  padding: readonly number[],
) => void;

/** FusedAdam's arguments (native/optimizer.cc): flat float32 buffers of one length; m and mOut together or neither. */
export interface FusedAdamArgs {
  theta: NativeTensor;
  m: NativeTensor | null;
  v: NativeTensor;
  g: NativeTensor;
  thetaOut: NativeTensor;
  mOut: NativeTensor | null;
  vOut: NativeTensor;
  lrT: number;
  beta1: number;
  beta2: number;
  eps: number;
}

/** ConditionalBatchNorm's arguments (native/batch-norm.cc): x [b, h, w, C], gain and bias rows [b, C] -> y, and mean, variance, rstd [C]. */
export interface ConditionalBatchNormArgs {
  x: NativeTensor;
  gain: NativeTensor;
  bias: NativeTensor;
  y: NativeTensor;
  mean: NativeTensor;
  variance: NativeTensor;
  rstd: NativeTensor;
  epsilon: number;
  relu: boolean;
}

/** ConditionalBatchNormGrad's arguments: dx [b, h, w, C] and the sums over h, w of g and g * xhat [b, C] (g: dy masked by the ReLU). */
export interface ConditionalBatchNormGradArgs {
  dy: NativeTensor;
  x: NativeTensor;
  y: NativeTensor;
  mean: NativeTensor;
  rstd: NativeTensor;
  gain: NativeTensor;
  dx: NativeTensor;
  sumG: NativeTensor;
  sumGXhat: NativeTensor;
  relu: boolean;
}

/** SoftmaxAttention's arguments (native/attention.cc): query [B, N, d], key [B, M, d], value [B, M, e] -> out [B, N, e], weights [B, N, M]. */
export interface SoftmaxAttentionArgs {
  query: NativeTensor;
  key: NativeTensor;
  value: NativeTensor;
  out: NativeTensor;
  weights: NativeTensor;
}

/** SoftmaxAttentionGrad's arguments: dOut [B, N, e] and the forward's weights, query, key, value -> their gradients. */
export interface SoftmaxAttentionGradArgs {
  dOut: NativeTensor;
  weights: NativeTensor;
  query: NativeTensor;
  key: NativeTensor;
  value: NativeTensor;
  dQuery: NativeTensor;
  dKey: NativeTensor;
  dValue: NativeTensor;
}

/**
 * The addon's exports, one entry per native function. Kernels write into outputs the caller allocated
 * (`out`, with its shape); the addon checks every output's shape (and the shapes of inputs it reads
 * through raw pointers) before writing, and throws `torch backend, native <name>: ...` for anything
 * it cannot run. Short fixed signatures are positional; long ones take one object of named fields.
 */
export interface NativeAddon
  extends
    Record<BinaryKernelName, BinaryKernel>,
    Record<UnaryKernelName, UnaryKernel>,
    Record<ReductionKernelName, ReductionKernel>,
    Record<ArgKernelName, ArgKernel>,
    Record<PoolKernelName, PoolKernel>,
    Record<PoolGradKernelName, PoolGradKernel> {
  /** Throws a RangeError unless n is an integer from 1 to MAX_THREADS. */
  setNumThreads(n: number): void;
  /** glibc: serve large blocks from the heap and keep freed memory there (see native/addon.cc); true if set. */
  keepFreedMemory(): boolean;
  info(): {
    torchVersion: string;
    threads: number;
    maxThreads: number;
    parallel: string;
    config: string;
    mkldnn: boolean;
    /** Built with ideep: convolutions write into the output buffers instead of copying there (native/onednn-conv.h). */
    convolutionsIntoOutputs: boolean;
  };
  /** Throws a c10::Error, a std::exception or another C++ value natively, for the tests of the exception guard. */
  _throwForTest(kind: 'c10' | 'std' | 'other'): void;

  /** x > 0 ? 1 : alpha (NaN stays NaN), float32. */
  Step(x: NativeValues, xShape: Shape, out: NativeValues, outShape: Shape, alpha: number): void;
  /** y > 0 ? dy : 0, float32 (the ReLU gradient; y the ReLU's output). */
  ReluGrad(dy: NativeValues, dyShape: Shape, y: NativeValues, yShape: Shape, out: NativeValues, outShape: Shape): void;
  LeakyRelu(x: NativeValues, xShape: Shape, out: NativeValues, outShape: Shape, alpha: number): void;
  ClipByValue(x: NativeValues, xShape: Shape, out: NativeValues, outShape: Shape, min: number, max: number): void;
  Select(
    condition: NativeValues,
    conditionShape: Shape,
    t: NativeValues,
    tShape: Shape,
    e: NativeValues,
    eShape: Shape,
    out: NativeValues,
    outShape: Shape,
  ): void;
  AddN(inputs: NativeTensorList, out: NativeValues, outShape: Shape): void;
  Fill(out: NativeValues, outShape: Shape, value: number): void;

  BatchMatMul(
    a: NativeValues,
    aShape: Shape,
    b: NativeValues,
    bShape: Shape,
    out: NativeValues,
    outShape: Shape,
    transposeA: boolean,
    transposeB: boolean,
  ): void;
  _FusedMatMul(
    a: NativeValues,
    aShape: Shape,
    b: NativeValues,
    bShape: Shape,
    bias: NativeValues | null,
    biasShape: Shape | null,
    preluWeights: NativeValues | null,
    preluWeightsShape: Shape | null,
    out: NativeValues,
    outShape: Shape,
    transposeA: boolean,
    transposeB: boolean,
    activation: string,
    leakyAlpha: number,
  ): void;

  // Convolutions: NHWC activations, HWIO filters; strides [sh, sw], dilations [dh, dw], padding [top, bottom, left, right].
  /** Conv2D is this without bias and activation. */
  FusedConv2D(
    x: NativeValues,
    xShape: Shape,
    filter: NativeValues,
    filterShape: Shape,
    bias: NativeValues | null,
    biasShape: Shape | null,
    preluWeights: NativeValues | null,
    preluWeightsShape: Shape | null,
    out: NativeValues,
    outShape: Shape,
    strides: readonly number[],
    dilations: readonly number[],
    padding: readonly number[],
    activation: string,
    leakyAlpha: number,
  ): void;
  /** dy [b, oh, ow, co], filter [kh, kw, ci, co] -> dx (out, the input's shape). */
  Conv2DBackpropInput(
    dy: NativeValues,
    dyShape: Shape,
    filter: NativeValues,
    filterShape: Shape,
    out: NativeValues,
    outShape: Shape,
    strides: readonly number[],
    dilations: readonly number[],
    padding: readonly number[],
  ): void;
  /** x [b, h, w, ci], dy [b, oh, ow, co] -> dfilter (out, [kh, kw, ci, co]). */
  Conv2DBackpropFilter(
    x: NativeValues,
    xShape: Shape,
    dy: NativeValues,
    dyShape: Shape,
    out: NativeValues,
    outShape: Shape,
    strides: readonly number[],
    dilations: readonly number[],
    padding: readonly number[],
  ): void;

  Softmax(x: NativeValues, xShape: Shape, out: NativeValues, outShape: Shape, dim: number): void;
  SoftmaxGrad(
    dy: NativeValues,
    dyShape: Shape,
    y: NativeValues,
    yShape: Shape,
    out: NativeValues,
    outShape: Shape,
    dim: number,
  ): void;

  Concat(inputs: NativeTensorList, out: NativeValues, outShape: Shape, axis: number): void;
  Transpose(x: NativeValues, xShape: Shape, out: NativeValues, outShape: Shape, perm: readonly number[]): void;
  /** out's shape is x's with `axis` replaced by the number of indices. */
  GatherV2(
    x: NativeValues,
    xShape: Shape,
    indices: NativeValues,
    indicesShape: Shape,
    out: NativeValues,
    outShape: Shape,
    axis: number,
  ): void;
  /** out's shape is the slice's size. */
  Slice(x: NativeValues, xShape: Shape, out: NativeValues, outShape: Shape, begin: readonly number[]): void;
  /** paddings [before0, after0, before1, after1, ...], non-negative. */
  PadV2(
    x: NativeValues,
    xShape: Shape,
    out: NativeValues,
    outShape: Shape,
    paddings: readonly number[],
    value: number,
  ): void;
  Tile(x: NativeValues, xShape: Shape, out: NativeValues, outShape: Shape, reps: readonly number[]): void;
  /** NHWC; out's height and width are the requested size. */
  ResizeNearestNeighbor(x: NativeValues, xShape: Shape, out: NativeValues, outShape: Shape): void;

  FusedAdam(args: FusedAdamArgs): void;
  ConditionalBatchNorm(args: ConditionalBatchNormArgs): void;
  ConditionalBatchNormGrad(args: ConditionalBatchNormGradArgs): void;
  SoftmaxAttention(args: SoftmaxAttentionArgs): void;
  SoftmaxAttentionGrad(args: SoftmaxAttentionGradArgs): void;
}

/**
 * The most libtorch threads the backend accepts (native/addon.cc has the same bound): more than any
 * machine has cores, and small enough that libtorch's thread pools can start.
 */
export const MAX_THREADS = 1024;

export type UnavailableReason = 'libtorch-missing' | 'cmake-missing' | 'build-failed' | 'not-built' | 'load-failed';

/** Thrown when the backend cannot be used on this machine; `reason` is machine-readable. */
export class TorchBackendUnavailableError extends Error {
  constructor(
    readonly reason: UnavailableReason,
    message: string,
  ) {
    super(message);
    this.name = 'TorchBackendUnavailableError';
  }
}

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ADDON_PATH = path.join(packageRoot, 'build', 'Release', 'torch_backend.node');
const STATUS_PATH = path.join(packageRoot, 'build', 'status.json');
const HINTS = JSON.parse(readFileSync(path.join(packageRoot, 'install-hint.json'), 'utf8')) as {
  libtorch: string;
  rebuild: string;
};

const WHY_NOT_BUILT: Record<string, string> = {
  'libtorch-missing': `libtorch is not installed (${HINTS.libtorch})`,
  'cmake-missing': `cmake is missing (apt-get install cmake, then ${HINTS.rebuild})`,
  'build-failed': `building it against the installed libtorch failed (${HINTS.rebuild} shows the compiler output)`,
};

let loaded: NativeAddon | undefined;

export function loadNative(): NativeAddon {
  if (loaded) return loaded;
  if (!existsSync(ADDON_PATH)) {
    let reason = 'not-built';
    try {
      reason = (JSON.parse(readFileSync(STATUS_PATH, 'utf8')) as { reason?: string }).reason ?? reason;
    } catch {
      // no install step ran here (npm ci --ignore-scripts, or a copy without build/)
    }
    const why = WHY_NOT_BUILT[reason] ?? `its install step has not run (${HINTS.libtorch})`;
    throw new TorchBackendUnavailableError(
      (reason in WHY_NOT_BUILT ? reason : 'not-built') as UnavailableReason,
      `the torch backend is not built: ${why}`,
    );
  }
  try {
    loaded = createRequire(import.meta.url)(ADDON_PATH) as NativeAddon;
  } catch (err) {
    throw new TorchBackendUnavailableError(
      'load-failed',
      `the torch backend addon does not load (${(err as Error).message.split('\n')[0]}); was libtorch removed or upgraded? Rebuild: ${HINTS.rebuild}`,
    );
  }
  return loaded;
}
