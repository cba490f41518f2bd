/**
 * The SAGAN generator as an ONNX graph: configuration, weight-set layout, deterministic random
 * weights, parameter / FLOP counts, and `buildSaganGenerator` which writes the ONNX ModelProto.
 *
 * Graph contract (the server's manifest contract):
 *   inputs   z          float32 [batch, zDim]
 *            y          int64   [batch]                 class index, 0..numClasses-1
 *   outputs  image      float32 [batch, 3, S, S]        tanh, in [-1, 1]
 *            attention  float32 [batch, g*g, k*k]       only when attentionResolution is set:
 *                       g = attentionResolution, k = g/2 with poolKeys else g; one row per query
 *                       position (row-major over the g x g map), a softmax over key positions
 *                       (row-major over the k x k map), so every row sums to 1.
 *   `batch` is symbolic; no reshape depends on it.
 *
 * Structure (NCHW throughout):
 *   z -> Gemm (linear) -> Reshape [batch, C0, 4, 4]
 *   for each up-block i (resolution r -> 2r, channels Cin -> Cout):
 *     h = conv2( relu( cbn2( conv1( up( relu( cbn1(x) ) ) ) ) ) )     3x3 convs, pad 1
 *     x = h + shortcut( up(x) )                                         1x1 conv
 *   where cbn is class-conditional batch norm in inference form: the running statistics are folded
 *   into per-class tables, scale[c] = gamma[y, c] / sqrt(var[c] + eps), shift[c] = beta[y, c] -
 *   mean[c] * scale[c], stored as [numClasses, C, 1, 1] so that one Gather by y gives [batch, C, 1, 1];
 *   up is nearest 2x upsampling (Resize, asymmetric/floor, i.e. out[i] = in[floor(i/2)]).
 *   self-attention after the block whose output side equals attentionResolution (see selfAttention);
 *   out = tanh( out_conv( relu( bn(x) ) ) )                                3x3 conv to 3 channels
 *
 * Weight names and shapes (SaganGeneratorWeights; spectral normalisation already folded in, every
 * tensor float32, conv kernels OIHW as ONNX wants them). C_r = width * channelMultipliers[r] is the
 * channel count at resolution index r (r = 0 is 4x4); block i maps Cin = C_i to Cout = C_{i+1};
 * Ca = channels at the attention resolution; Cl = channels at the last resolution; K = numClasses.
 *
 *   name                          shape                   notes
 *   linear.weight                 [zDim, 16*C_0]          column j = c*16 + h*4 + w (NCHW order; a TF
 *                                                         exporter whose reshape is NHWC must permute)
 *   linear.bias                   [16*C_0]
 *   blocks.{i}.bn1.gamma          [K, Cin]                class-conditional gain (the full gain, not gain-1)
 *   blocks.{i}.bn1.beta           [K, Cin]                class-conditional bias
 *   blocks.{i}.bn1.mean           [Cin]                   running mean
 *   blocks.{i}.bn1.var            [Cin]                   running variance
 *   blocks.{i}.conv1.weight       [Cout, Cin, 3, 3]
 *   blocks.{i}.conv1.bias         [Cout]
 *   blocks.{i}.bn2.gamma          [K, Cout]
 *   blocks.{i}.bn2.beta           [K, Cout]
 *   blocks.{i}.bn2.mean           [Cout]
 *   blocks.{i}.bn2.var            [Cout]
 *   blocks.{i}.conv2.weight       [Cout, Cout, 3, 3]
 *   blocks.{i}.conv2.bias         [Cout]
 *   blocks.{i}.shortcut.weight    [Cout, Cin, 1, 1]
 *   blocks.{i}.shortcut.bias      [Cout]
 *   attention.theta.weight        [Ca/8, Ca, 1, 1]        no biases in the attention 1x1 convs,
 *   attention.phi.weight          [Ca/8, Ca, 1, 1]        as in the released SAGAN code
 *   attention.g.weight            [Ca/2, Ca, 1, 1]
 *   attention.o.weight            [Ca, Ca/2, 1, 1]
 *   attention.gamma               [1]                     residual scale (sigma in the paper's code)
 *   out_bn.gamma                  [Cl]                    plain (unconditional) batch norm
 *   out_bn.beta                   [Cl]
 *   out_bn.mean                   [Cl]
 *   out_bn.var                    [Cl]
 *   out_conv.weight               [3, Cl, 3, 3]
 *   out_conv.bias                 [3]
 */
import {
  encodeModel,
  floatTensor,
  int64Tensor,
  makeNode,
  valueInfo,
  type AttrValue,
  type NodeProto,
  type TensorProto,
} from './onnx-model.js';

export interface SaganGeneratorConfig {
  /** Output side: a power of 2, >= 8 (32, 64, 128 have default channel layouts). */
  imageSize: number;
  zDim: number;
  /** Base channel count ('ch' / gf_dim). */
  width: number;
  numClasses: number;
  /** Channel multiplier per resolution from 4x4 upward; length log2(imageSize/4) + 1. */
  channelMultipliers?: number[];
  /** Feature-map side at which self-attention sits (8..imageSize), or null for none. */
  attentionResolution: number | null;
  /** Keys and values 2x2 max-pooled, as in the released SAGAN code. */
  poolKeys: boolean;
  /** Batch-norm epsilon; default 1e-5. */
  bnEpsilon?: number;
}

export interface WeightTensor {
  shape: number[];
  data: Float32Array;
}
/** Named weights; see the table at the top of this file. */
export type SaganGeneratorWeights = Record<string, WeightTensor>;

export interface BuildOptions {
  /** Default-domain opset, 13..21; default 17. */
  opset?: number;
  /** Graph name; default 'sagan_generator'. */
  name?: string;
  /** Initializer storage; 'float16' halves the file, Cast nodes turn weights back to float32 (ORT folds them at load). Default 'float32'. */
  weightType?: 'float32' | 'float16';
  /** Extra metadata_props; the resolved config is always written as 'sagan.config'. */
  metadata?: Record<string, string>;
}

export const DEFAULT_BN_EPSILON = 1e-5;
export const DEFAULT_OPSET = 17;

/** Released SAGAN / BigGAN layouts (keyed by image side); 8 and 16 are small layouts for tests. */
const DEFAULT_MULTIPLIERS: Readonly<Record<number, readonly number[]>> = {
  8: [4, 4],
  16: [4, 4, 4],
  32: [4, 4, 4, 4],
  64: [16, 8, 4, 2, 1],
  128: [16, 16, 8, 4, 2, 1],
  256: [16, 16, 8, 8, 4, 2, 1],
};

export interface ResolvedSaganConfig extends Required<Omit<SaganGeneratorConfig, 'attentionResolution'>> {
  attentionResolution: number | null;
  /** Channels per resolution index (4x4 first). */
  channels: number[];
  /** Sides per resolution index: 4, 8, ..., imageSize. */
  resolutions: number[];
  blockCount: number;
  /** Index of the block after which attention sits, or -1. */
  attentionBlock: number;
  /** Channels at the attention resolution (0 without attention). */
  attentionChannels: number;
  /** Side of the key grid (g/2 when pooled, else g; 0 without attention). */
  keyGrid: number;
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

function positiveInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new Error(`SAGAN config: ${name} must be a positive integer, got ${v}`);
}

/** Fills defaults and checks the config; throws with the offending field. */
export function resolveConfig(config: SaganGeneratorConfig): ResolvedSaganConfig {
  const { imageSize, zDim, width, numClasses, attentionResolution, poolKeys } = config;
  if (!isPowerOfTwo(imageSize) || imageSize < 8)
    throw new Error(`SAGAN config: imageSize must be a power of 2 >= 8, got ${imageSize}`);
  positiveInt('zDim', zDim);
  positiveInt('width', width);
  positiveInt('numClasses', numClasses);
  const levels = Math.log2(imageSize / 4) + 1;
  const multipliers = config.channelMultipliers
    ? [...config.channelMultipliers]
    : DEFAULT_MULTIPLIERS[imageSize]
      ? [...DEFAULT_MULTIPLIERS[imageSize]]
      : undefined;
  if (!multipliers)
    throw new Error(`SAGAN config: no default channelMultipliers for imageSize ${imageSize}; give ${levels} of them`);
  if (multipliers.length !== levels)
    throw new Error(
      `SAGAN config: channelMultipliers needs ${levels} entries for imageSize ${imageSize} (4x4 up to ${imageSize}x${imageSize}), got ${multipliers.length}`,
    );
  multipliers.forEach((m, i) => positiveInt(`channelMultipliers[${i}]`, m));
  const bnEpsilon = config.bnEpsilon ?? DEFAULT_BN_EPSILON;
  if (!(bnEpsilon > 0)) throw new Error(`SAGAN config: bnEpsilon must be > 0, got ${bnEpsilon}`);
  const channels = multipliers.map((m) => m * width);
  const resolutions = multipliers.map((_, i) => 4 * 2 ** i);
  let attentionBlock = -1;
  let attentionChannels = 0;
  let keyGrid = 0;
  if (attentionResolution !== null) {
    const level = resolutions.indexOf(attentionResolution);
    if (level < 1)
      throw new Error(
        `SAGAN config: attentionResolution must be one of ${resolutions.slice(1).join(', ')} (a block's output side) or null, got ${attentionResolution}`,
      );
    attentionBlock = level - 1;
    attentionChannels = channels[level];
    if (attentionChannels % 8 !== 0)
      throw new Error(
        `SAGAN config: attention needs channels divisible by 8 at ${attentionResolution}x${attentionResolution}, got ${attentionChannels}`,
      );
    keyGrid = poolKeys ? attentionResolution / 2 : attentionResolution;
  }
  return {
    imageSize,
    zDim,
    width,
    numClasses,
    channelMultipliers: multipliers,
    attentionResolution,
    poolKeys: Boolean(poolKeys),
    bnEpsilon,
    channels,
    resolutions,
    blockCount: levels - 1,
    attentionBlock,
    attentionChannels,
    keyGrid,
  };
}

// ---------------------------------------------------------------------------------------------
// weight layout, counts

/** Every weight name and shape, in a fixed order (the table at the top of this file). */
export function weightShapes(config: SaganGeneratorConfig): Record<string, number[]> {
  const c = resolveConfig(config);
  const K = c.numClasses;
  const shapes: Record<string, number[]> = {
    'linear.weight': [c.zDim, 16 * c.channels[0]],
    'linear.bias': [16 * c.channels[0]],
  };
  for (let i = 0; i < c.blockCount; i++) {
    const cin = c.channels[i];
    const cout = c.channels[i + 1];
    const p = `blocks.${i}`;
    Object.assign(shapes, {
      [`${p}.bn1.gamma`]: [K, cin],
      [`${p}.bn1.beta`]: [K, cin],
      [`${p}.bn1.mean`]: [cin],
      [`${p}.bn1.var`]: [cin],
      [`${p}.conv1.weight`]: [cout, cin, 3, 3],
      [`${p}.conv1.bias`]: [cout],
      [`${p}.bn2.gamma`]: [K, cout],
      [`${p}.bn2.beta`]: [K, cout],
      [`${p}.bn2.mean`]: [cout],
      [`${p}.bn2.var`]: [cout],
      [`${p}.conv2.weight`]: [cout, cout, 3, 3],
      [`${p}.conv2.bias`]: [cout],
      [`${p}.shortcut.weight`]: [cout, cin, 1, 1],
      [`${p}.shortcut.bias`]: [cout],
    });
  }
  if (c.attentionBlock >= 0) {
    const ca = c.attentionChannels;
    Object.assign(shapes, {
      'attention.theta.weight': [ca / 8, ca, 1, 1],
      'attention.phi.weight': [ca / 8, ca, 1, 1],
      'attention.g.weight': [ca / 2, ca, 1, 1],
      'attention.o.weight': [ca, ca / 2, 1, 1],
      'attention.gamma': [1],
    });
  }
  const cl = c.channels[c.channels.length - 1];
  Object.assign(shapes, {
    'out_bn.gamma': [cl],
    'out_bn.beta': [cl],
    'out_bn.mean': [cl],
    'out_bn.var': [cl],
    'out_conv.weight': [3, cl, 3, 3],
    'out_conv.bias': [3],
  });
  return shapes;
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Number of stored values (all weights, BN running statistics included) for a config or a weight set. */
export function countParameters(configOrWeights: SaganGeneratorConfig | SaganGeneratorWeights): number {
  const shapes: number[][] =
    'imageSize' in configOrWeights && typeof configOrWeights.imageSize === 'number'
      ? Object.values(weightShapes(configOrWeights as SaganGeneratorConfig))
      : Object.values(configOrWeights as SaganGeneratorWeights).map((t) => t.shape);
  return shapes.reduce((sum, s) => sum + size(s), 0);
}

/**
 * FLOPs per image, counted as 2 x multiply-accumulates of the linear layer, convolutions and the
 * attention matrix products (element-wise ops, BN, softmax and upsampling are left out).
 */
export function estimateFlops(config: SaganGeneratorConfig): number {
  const c = resolveConfig(config);
  let macs = c.zDim * 16 * c.channels[0];
  for (let i = 0; i < c.blockCount; i++) {
    const cin = c.channels[i];
    const cout = c.channels[i + 1];
    const pixels = c.resolutions[i + 1] ** 2;
    macs += pixels * (cin * cout * 9 + cout * cout * 9 + cin * cout);
  }
  if (c.attentionBlock >= 0) {
    const ca = c.attentionChannels;
    const n = c.attentionResolution! ** 2;
    const m = c.keyGrid ** 2;
    const convs = n * ca * (ca / 8) * 2 + n * ca * (ca / 2) + n * (ca / 2) * ca;
    macs += convs + n * m * (ca / 8) + n * m * (ca / 2);
  }
  const last = c.channels.length - 1;
  macs += c.resolutions[last] ** 2 * c.channels[last] * 3 * 9;
  return 2 * macs;
}

/** Throws unless `weights` has exactly the names and shapes the config needs, with matching data lengths. */
export function validateWeights(config: SaganGeneratorConfig, weights: SaganGeneratorWeights): void {
  const shapes = weightShapes(config);
  const problems: string[] = [];
  for (const [name, shape] of Object.entries(shapes)) {
    const t = weights[name];
    if (!t) {
      problems.push(`missing '${name}' [${shape.join(', ')}]`);
      continue;
    }
    if (t.shape.join(',') !== shape.join(','))
      problems.push(`'${name}' has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
    else if (t.data.length !== size(shape))
      problems.push(`'${name}' has ${t.data.length} values, shape [${shape.join(', ')}] needs ${size(shape)}`);
  }
  for (const name of Object.keys(weights)) if (!(name in shapes)) problems.push(`unexpected weight '${name}'`);
  if (problems.length > 0) throw new Error(`SAGAN weights do not match the config: ${problems.join('; ')}`);
}

// ---------------------------------------------------------------------------------------------
// random weights

/** mulberry32: a small, fast 32-bit PRNG; good enough for initialisation. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a of the name mixed with the seed, so each tensor's stream does not depend on the others. */
function streamSeed(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ Math.imul(seed >>> 0, 0x9e3779b1)) >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function normals(seed: number, name: string, count: number, mean: number, std: number): Float32Array {
  const next = mulberry32(streamSeed(seed, name));
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - next()));
    const theta = 2 * Math.PI * next();
    out[i] = mean + std * r * Math.cos(theta);
    if (i + 1 < count) out[i + 1] = mean + std * r * Math.sin(theta);
  }
  return out;
}

/**
 * Deterministic random weights for a config (placeholder models and tests). Convolutions and the
 * linear layer are N(0, 1/fan_in) (LeCun normal), out_conv N(0, 0.25/fan_in) so that the tanh is
 * not saturated (image std ~0.3-0.5 for the default layouts); biases N(0, 0.05^2);
 * class gains N(1, 0.2^2), class biases N(0, 0.2^2); running mean 0, variance 1; attention gamma 0.5.
 */
export function randomWeights(config: SaganGeneratorConfig, seed = 0): SaganGeneratorWeights {
  const shapes = weightShapes(config);
  const weights: SaganGeneratorWeights = {};
  for (const [name, shape] of Object.entries(shapes)) {
    const n = size(shape);
    const fanIn = shape.length === 4 ? shape[1] * shape[2] * shape[3] : shape[0];
    let data: Float32Array;
    if (name === 'attention.gamma') data = Float32Array.of(0.5);
    else if (name.endsWith('.mean')) data = new Float32Array(n);
    else if (name.endsWith('.var')) data = new Float32Array(n).fill(1);
    else if (name.endsWith('bn1.gamma') || name.endsWith('bn2.gamma')) data = normals(seed, name, n, 1, 0.2);
    else if (name.endsWith('bn1.beta') || name.endsWith('bn2.beta')) data = normals(seed, name, n, 0, 0.2);
    else if (name === 'out_bn.gamma') data = normals(seed, name, n, 1, 0.1);
    else if (name === 'out_bn.beta') data = normals(seed, name, n, 0, 0.1);
    else if (name.endsWith('.bias')) data = normals(seed, name, n, 0, 0.05);
    else if (name === 'linear.weight') data = normals(seed, name, n, 0, Math.sqrt(1 / shape[0]));
    else {
      // conv kernels [O, I, kh, kw]
      const gain = name === 'out_conv.weight' ? 0.5 : 1;
      data = normals(seed, name, n, 0, gain * Math.sqrt(1 / fanIn));
    }
    weights[name] = { shape: [...shape], data };
  }
  return weights;
}

// ---------------------------------------------------------------------------------------------
// graph building: one small function per layer kind

class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly used = new Set<string>();
  /** Names kept for one specific op output (graph outputs); fresh names avoid them. */
  private readonly reserved = new Set<string>();

  constructor(private readonly weightType: 'float32' | 'float16') {}

  /** A fresh value name based on `base`. */
  name(base: string): string {
    let candidate = base;
    for (let i = 1; this.used.has(candidate) || this.reserved.has(candidate); i++) candidate = `${base}_${i}`;
    this.used.add(candidate);
    return candidate;
  }

  /** Keeps `name` for the op that later asks for exactly it. */
  reserve(name: string): void {
    this.reserved.add(name);
  }

  /** A float weight; stored as float16 (+ Cast) when asked. Returns the float32 value's name. */
  weight(name: string, dims: readonly number[], data: Float32Array): string {
    if (this.weightType === 'float16') {
      const stored = this.name(`${name}.fp16`);
      this.initializers.push(floatTensor(stored, dims, data, 'float16'));
      return this.op('Cast', [stored], { to: 1 /* FLOAT */ }, name);
    }
    const out = this.name(name);
    this.initializers.push(floatTensor(out, dims, data));
    return out;
  }

  /** An int64 constant (shapes, scales are float). */
  ints(name: string, values: readonly number[]): string {
    const out = this.name(name);
    this.initializers.push(int64Tensor(out, [values.length], values));
    return out;
  }

  /** A float32 constant kept in float32 whatever the weight type (Resize scales). */
  floats(name: string, values: readonly number[]): string {
    const out = this.name(name);
    this.initializers.push(floatTensor(out, [values.length], values));
    return out;
  }

  /** Adds a node with one output; returns the output's name. */
  op(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, outName?: string): string {
    let out: string;
    if (outName !== undefined && this.reserved.has(outName)) {
      this.reserved.delete(outName);
      this.used.add(outName);
      out = outName;
    } else {
      out = this.name(outName ?? opType.toLowerCase());
    }
    this.nodes.push(makeNode(opType, inputs, [out], attrs, out));
    return out;
  }
}

function tensorOf(weights: SaganGeneratorWeights, name: string): WeightTensor {
  const t = weights[name];
  if (!t) throw new Error(`missing weight '${name}'`);
  return t;
}

/** z [b, zDim] -> [b, C0, 4, 4]. */
function linearLayer(g: GraphBuilder, z: string, w: SaganGeneratorWeights, c0: number): string {
  const weight = tensorOf(w, 'linear.weight');
  const bias = tensorOf(w, 'linear.bias');
  const h = g.op(
    'Gemm',
    [z, g.weight('linear.weight', weight.shape, weight.data), g.weight('linear.bias', bias.shape, bias.data)],
    {},
    'linear',
  );
  return g.op('Reshape', [h, g.ints('linear.shape', [0, c0, 4, 4])], {}, 'linear.reshape');
}

/** Per-channel scale and shift of inference-mode BN: gamma / sqrt(var + eps) and beta - mean * scale. */
function foldBatchNorm(
  gamma: Float32Array,
  beta: Float32Array,
  mean: Float32Array,
  variance: Float32Array,
  eps: number,
  rows: number,
  cols: number,
): { scale: Float32Array; shift: Float32Array } {
  const scale = new Float32Array(rows * cols);
  const shift = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const s = gamma[r * cols + c] / Math.sqrt(variance[c] + eps);
      scale[r * cols + c] = s;
      shift[r * cols + c] = beta[r * cols + c] - mean[c] * s;
    }
  }
  return { scale, shift };
}

/** Class-conditional BN: Gather the folded [K, C, 1, 1] tables by y -> [b, C, 1, 1]; x * scale + shift. */
function conditionalBatchNorm(
  g: GraphBuilder,
  x: string,
  y: string,
  prefix: string,
  w: SaganGeneratorWeights,
  eps: number,
): string {
  const gamma = tensorOf(w, `${prefix}.gamma`);
  const [rows, cols] = gamma.shape;
  const { scale, shift } = foldBatchNorm(
    gamma.data,
    tensorOf(w, `${prefix}.beta`).data,
    tensorOf(w, `${prefix}.mean`).data,
    tensorOf(w, `${prefix}.var`).data,
    eps,
    rows,
    cols,
  );
  const scaleTable = g.weight(`${prefix}.scale_table`, [rows, cols, 1, 1], scale);
  const shiftTable = g.weight(`${prefix}.shift_table`, [rows, cols, 1, 1], shift);
  const s = g.op('Gather', [scaleTable, y], { axis: 0 }, `${prefix}.scale`);
  const t = g.op('Gather', [shiftTable, y], { axis: 0 }, `${prefix}.shift`);
  return g.op('Add', [g.op('Mul', [x, s], {}, `${prefix}.mul`), t], {}, prefix);
}

/** Plain inference BN folded to constants [C, 1, 1]. */
function batchNorm(g: GraphBuilder, x: string, prefix: string, w: SaganGeneratorWeights, eps: number): string {
  const gamma = tensorOf(w, `${prefix}.gamma`);
  const cols = gamma.shape[0];
  const { scale, shift } = foldBatchNorm(
    gamma.data,
    tensorOf(w, `${prefix}.beta`).data,
    tensorOf(w, `${prefix}.mean`).data,
    tensorOf(w, `${prefix}.var`).data,
    eps,
    1,
    cols,
  );
  const s = g.weight(`${prefix}.scale`, [cols, 1, 1], scale);
  const t = g.weight(`${prefix}.shift`, [cols, 1, 1], shift);
  return g.op('Add', [g.op('Mul', [x, s], {}, `${prefix}.mul`), t], {}, prefix);
}

function relu(g: GraphBuilder, x: string, name: string): string {
  return g.op('Relu', [x], {}, name);
}

/** Nearest-neighbour 2x upsampling: out[i, j] = in[floor(i/2), floor(j/2)]. */
function upsample2x(g: GraphBuilder, x: string, name: string): string {
  const scales = g.floats(`${name}.scales`, [1, 1, 2, 2]);
  return g.op(
    'Resize',
    [x, '', scales],
    { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' },
    name,
  );
}

/** Convolution with 'same' padding from the named weight (and bias, when given). */
function conv(g: GraphBuilder, x: string, w: SaganGeneratorWeights, prefix: string, withBias = true): string {
  const weight = tensorOf(w, `${prefix}.weight`);
  const k = weight.shape[2];
  const pad = (k - 1) / 2;
  const inputs = [x, g.weight(`${prefix}.weight`, weight.shape, weight.data)];
  if (withBias) {
    const bias = tensorOf(w, `${prefix}.bias`);
    inputs.push(g.weight(`${prefix}.bias`, bias.shape, bias.data));
  }
  return g.op('Conv', inputs, { kernel_shape: [k, k], pads: [pad, pad, pad, pad], strides: [1, 1] }, prefix);
}

function maxPool2x2(g: GraphBuilder, x: string, name: string): string {
  return g.op('MaxPool', [x], { kernel_shape: [2, 2], strides: [2, 2] }, name);
}

/** One up-block: conv2(relu(cbn2(conv1(up(relu(cbn1(x))))))) + shortcut(up(x)). */
function generatorBlock(
  g: GraphBuilder,
  x: string,
  y: string,
  i: number,
  w: SaganGeneratorWeights,
  eps: number,
): string {
  const p = `blocks.${i}`;
  let h = relu(g, conditionalBatchNorm(g, x, y, `${p}.bn1`, w, eps), `${p}.relu1`);
  h = upsample2x(g, h, `${p}.up`);
  h = conv(g, h, w, `${p}.conv1`);
  h = relu(g, conditionalBatchNorm(g, h, y, `${p}.bn2`, w, eps), `${p}.relu2`);
  h = conv(g, h, w, `${p}.conv2`);
  const s = conv(g, upsample2x(g, x, `${p}.shortcut_up`), w, `${p}.shortcut`);
  return g.op('Add', [h, s], {}, p);
}

/**
 * Self-attention (SAGAN, non-local block) on x [b, C, r, r] with N = r*r queries and M keys:
 *   theta = conv1x1(x) -> [b, C/8, N];  phi = [maxpool](conv1x1(x)) -> [b, C/8, M]
 *   attn = softmax_M(theta^T phi) [b, N, M]  (graph output 'attention')
 *   gv = [maxpool](conv1x1(x)) -> [b, C/2, M];  o = gv attn^T -> [b, C/2, r, r]
 *   out = x + gamma * conv1x1(o)
 */
function selfAttention(
  g: GraphBuilder,
  x: string,
  w: SaganGeneratorWeights,
  side: number,
  channels: number,
  poolKeys: boolean,
): { out: string; attention: string } {
  const c8 = channels / 8;
  const c2 = channels / 2;
  const flat = (v: string, c: number, name: string): string =>
    g.op('Reshape', [v, g.ints(`${name}.shape`, [0, c, -1])], {}, name);
  const keyPath = (v: string, name: string): string => (poolKeys ? maxPool2x2(g, v, `${name}.pool`) : v);

  const theta = flat(conv(g, x, w, 'attention.theta', false), c8, 'attention.theta.flat');
  const thetaT = g.op('Transpose', [theta], { perm: [0, 2, 1] }, 'attention.theta.t');
  const phi = flat(keyPath(conv(g, x, w, 'attention.phi', false), 'attention.phi'), c8, 'attention.phi.flat');
  const logits = g.op('MatMul', [thetaT, phi], {}, 'attention.logits');
  const attention = g.op('Softmax', [logits], { axis: -1 }, 'attention');
  const value = flat(keyPath(conv(g, x, w, 'attention.g', false), 'attention.g'), c2, 'attention.g.flat');
  const attnT = g.op('Transpose', [attention], { perm: [0, 2, 1] }, 'attention.t');
  const o = g.op(
    'Reshape',
    [g.op('MatMul', [value, attnT], {}, 'attention.weighted'), g.ints('attention.o.shape', [0, c2, side, side])],
    {},
    'attention.o.in',
  );
  const projected = conv(g, o, w, 'attention.o', false);
  const gamma = tensorOf(w, 'attention.gamma');
  const scaled = g.op('Mul', [projected, g.weight('attention.gamma', gamma.shape, gamma.data)], {}, 'attention.scaled');
  return { out: g.op('Add', [x, scaled], {}, 'attention.out'), attention };
}

/** tanh(out_conv(relu(bn(x)))) -> 'image'. */
function outputLayer(g: GraphBuilder, x: string, w: SaganGeneratorWeights, eps: number): string {
  const h = relu(g, batchNorm(g, x, 'out_bn', w, eps), 'out_relu');
  return g.op('Tanh', [conv(g, h, w, 'out_conv')], {}, 'image');
}

/** Builds and serializes the generator (contract at the top of this file). */
export function buildSaganGenerator(
  config: SaganGeneratorConfig,
  weights: SaganGeneratorWeights,
  opts: BuildOptions = {},
): Uint8Array {
  const c = resolveConfig(config);
  validateWeights(config, weights);
  const opset = opts.opset ?? DEFAULT_OPSET;
  if (!Number.isInteger(opset) || opset < 13 || opset > 21) throw new Error(`opset must be 13..21, got ${opset}`);
  const g = new GraphBuilder(opts.weightType ?? 'float32');
  const z = g.name('z');
  const y = g.name('y');
  g.reserve('image');
  if (c.attentionBlock >= 0) g.reserve('attention');

  let x = linearLayer(g, z, weights, c.channels[0]);
  let attention: string | undefined;
  for (let i = 0; i < c.blockCount; i++) {
    x = generatorBlock(g, x, y, i, weights, c.bnEpsilon);
    if (i === c.attentionBlock) {
      const a = selfAttention(g, x, weights, c.resolutions[i + 1], c.attentionChannels, c.poolKeys);
      x = a.out;
      attention = a.attention;
    }
  }
  // 'image' and 'attention' were reserved above so the layer functions get exactly those names.
  const image = outputLayer(g, x, weights, c.bnEpsilon);
  if (image !== 'image' || (c.attentionBlock >= 0 && attention !== 'attention'))
    throw new Error('internal: output names were not kept');

  const outputs = [valueInfo('image', 'float32', ['batch', 3, c.imageSize, c.imageSize])];
  if (attention)
    outputs.push(valueInfo('attention', 'float32', ['batch', c.attentionResolution! ** 2, c.keyGrid ** 2]));
  const plain: Required<SaganGeneratorConfig> = {
    imageSize: c.imageSize,
    zDim: c.zDim,
    width: c.width,
    numClasses: c.numClasses,
    channelMultipliers: c.channelMultipliers,
    attentionResolution: c.attentionResolution,
    poolKeys: c.poolKeys,
    bnEpsilon: c.bnEpsilon,
  };
  return encodeModel({
    graphName: opts.name ?? 'sagan_generator',
    nodes: g.nodes,
    inputs: [valueInfo('z', 'float32', ['batch', c.zDim]), valueInfo('y', 'int64', ['batch'])],
    outputs,
    initializers: g.initializers,
    opset,
    docString:
      'SAGAN generator: z [batch, zDim] float32, y [batch] int64 -> image [batch, 3, S, S] in [-1, 1]' +
      (attention ? ', attention [batch, g*g, k*k] (softmax over keys)' : ''),
    metadata: { 'sagan.config': JSON.stringify(plain), ...(opts.metadata ?? {}) },
  });
}
