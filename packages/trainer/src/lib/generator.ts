/**
 * The generator in TensorFlow.js (NHWC), laid out exactly like the model contract's sagan-graph.ts so export is
 * a direct mapping of names (conv kernels HWIO -> OIHW; the linear layer's columns are already in
 * the graph's NCHW order: column j = c*16 + h*4 + w, reshaped to [b, C0, 4, 4] and transposed here).
 *
 *   z -> SN linear -> [b, 4, 4, C0]
 *   block i: h = conv2(relu(cbn2(conv1(up(relu(cbn1(x))))))) ; x = h + up(shortcut(x))
 *            (shortcut 1x1 conv before the upsampling: identical to after it, 4x cheaper)
 *   self-attention after block attentionBlock
 *   tanh(out_conv(relu(bn(x))))
 *
 * Training mode uses batch statistics (and can report them for the running averages); inference
 * mode uses running statistics, as the ONNX graph does.
 */
import * as tf from '@tensorflow/tfjs';
import type { SaganGeneratorConfig } from '@sagan-serve/model-contract/sagan-graph';
import {
  condBatchNorm,
  condBatchNormInference,
  conv,
  conv1x1,
  filled,
  selfAttention,
  upsample2x,
  type BatchStats,
} from './layers.js';
import { resolveGenerator } from './model-config.js';
import { ParamLayout, type ParamSpec } from './params.js';

export function generatorParamSpecs(config: SaganGeneratorConfig): ParamSpec[] {
  const c = resolveGenerator(config);
  const K = c.numClasses;
  const specs: ParamSpec[] = [
    { name: 'linear.weight', shape: [c.zDim, 16 * c.channels[0]], kind: 'linear', sn: true },
    { name: 'linear.bias', shape: [16 * c.channels[0]], kind: 'bias', sn: false },
  ];
  for (let i = 0; i < c.blockCount; i++) {
    const cin = c.channels[i];
    const cout = c.channels[i + 1];
    const p = `blocks.${i}`;
    specs.push(
      { name: `${p}.bn1.gamma`, shape: [K, cin], kind: 'bn_gain', sn: false },
      { name: `${p}.bn1.beta`, shape: [K, cin], kind: 'bn_bias', sn: false },
      { name: `${p}.conv1.weight`, shape: [3, 3, cin, cout], kind: 'conv', sn: true },
      { name: `${p}.conv1.bias`, shape: [cout], kind: 'bias', sn: false },
      { name: `${p}.bn2.gamma`, shape: [K, cout], kind: 'bn_gain', sn: false },
      { name: `${p}.bn2.beta`, shape: [K, cout], kind: 'bn_bias', sn: false },
      { name: `${p}.conv2.weight`, shape: [3, 3, cout, cout], kind: 'conv', sn: true },
      { name: `${p}.conv2.bias`, shape: [cout], kind: 'bias', sn: false },
      { name: `${p}.shortcut.weight`, shape: [1, 1, cin, cout], kind: 'conv', sn: true },
      { name: `${p}.shortcut.bias`, shape: [cout], kind: 'bias', sn: false },
    );
  }
  if (c.attentionBlock >= 0) specs.push(...attentionSpecs('attention', c.attentionChannels));
  const cl = c.channels[c.channels.length - 1];
  specs.push(
    { name: 'out_bn.gamma', shape: [cl], kind: 'bn_gain', sn: false },
    { name: 'out_bn.beta', shape: [cl], kind: 'bn_bias', sn: false },
    { name: 'out_conv.weight', shape: [3, 3, cl, 3], kind: 'conv', sn: true },
    { name: 'out_conv.bias', shape: [3], kind: 'bias', sn: false },
  );
  return specs;
}

export function attentionSpecs(prefix: string, ca: number): ParamSpec[] {
  return [
    { name: `${prefix}.theta.weight`, shape: [1, 1, ca, ca / 8], kind: 'conv', sn: true },
    { name: `${prefix}.phi.weight`, shape: [1, 1, ca, ca / 8], kind: 'conv', sn: true },
    { name: `${prefix}.g.weight`, shape: [1, 1, ca, ca / 2], kind: 'conv', sn: true },
    { name: `${prefix}.o.weight`, shape: [1, 1, ca / 2, ca], kind: 'conv', sn: true },
    { name: `${prefix}.gamma`, shape: [1], kind: 'attn_gamma', sn: false },
  ];
}

/** The BN layers of G, in forward order: name prefix and channel count. */
export function generatorBatchNorms(config: SaganGeneratorConfig): { prefix: string; channels: number }[] {
  const c = resolveGenerator(config);
  const out: { prefix: string; channels: number }[] = [];
  for (let i = 0; i < c.blockCount; i++) {
    out.push(
      { prefix: `blocks.${i}.bn1`, channels: c.channels[i] },
      { prefix: `blocks.${i}.bn2`, channels: c.channels[i + 1] },
    );
  }
  out.push({ prefix: 'out_bn', channels: c.channels[c.channels.length - 1] });
  return out;
}

/**
 * Running statistics buffer layout: for each BN layer in forward order, mean [C] then var [C]
 * (a ParamLayout of 'bias' kinds, so views and checkpoints work the same way).
 */
export function statsLayout(config: SaganGeneratorConfig): ParamLayout {
  const specs: ParamSpec[] = [];
  for (const bn of generatorBatchNorms(config)) {
    specs.push({ name: `${bn.prefix}.mean`, shape: [bn.channels], kind: 'bias', sn: false });
    specs.push({ name: `${bn.prefix}.var`, shape: [bn.channels], kind: 'bn_gain', sn: false });
  }
  return new ParamLayout(specs);
}

export type GeneratorMode =
  { training: true; stats?: BatchStats[] } | { training: false; running: Record<string, tf.Tensor> };

export interface GeneratorOutput {
  image: tf.Tensor4D; // [b, S, S, 3], tanh
  attention?: tf.Tensor3D;
}

/** G forward. `w` = named (already normalised) weights; onehot [b, K]. */
export function generatorForward(
  config: SaganGeneratorConfig,
  w: Record<string, tf.Tensor>,
  z: tf.Tensor2D,
  onehot: tf.Tensor2D,
  mode: GeneratorMode,
): GeneratorOutput {
  const c = resolveGenerator(config);
  const b = z.shape[0];
  const eps = c.bnEpsilon;
  const bn = (x: tf.Tensor4D, prefix: string, table: tf.Tensor2D, relu: boolean): tf.Tensor4D => {
    if (mode.training) return condBatchNorm(x, table, w[`${prefix}.gamma`], w[`${prefix}.beta`], eps, relu, mode.stats);
    return condBatchNormInference(
      x,
      table,
      w[`${prefix}.gamma`],
      w[`${prefix}.beta`],
      mode.running[`${prefix}.mean`],
      mode.running[`${prefix}.var`],
      eps,
      relu,
    );
  };
  const lin = tf.fused.matMul({ a: z, b: w['linear.weight'], bias: w['linear.bias'] });
  let x = tf.transpose(tf.reshape(lin, [b, c.channels[0], 4, 4]), [0, 2, 3, 1]) as tf.Tensor4D;
  let attention: tf.Tensor3D | undefined;
  for (let i = 0; i < c.blockCount; i++) {
    const p = `blocks.${i}`;
    let h = bn(x, `${p}.bn1`, onehot, true);
    h = conv(upsample2x(h), w[`${p}.conv1.weight`], w[`${p}.conv1.bias`]);
    h = bn(h, `${p}.bn2`, onehot, true);
    h = conv(h, w[`${p}.conv2.weight`], w[`${p}.conv2.bias`]);
    const s = upsample2x(conv1x1(x, w[`${p}.shortcut.weight`], w[`${p}.shortcut.bias`]));
    x = tf.add(h, s);
    if (i === c.attentionBlock) {
      const a = selfAttention(
        x,
        {
          theta: w['attention.theta.weight'],
          phi: w['attention.phi.weight'],
          g: w['attention.g.weight'],
          o: w['attention.o.weight'],
          gamma: w['attention.gamma'],
        },
        c.poolKeys,
        !mode.training,
      );
      x = a.out;
      attention = a.attention;
    }
  }
  const ones = filled([b, 1], 1) as tf.Tensor2D;
  const h = bn(x, 'out_bn', ones, true);
  const image = tf.tanh(conv(h, w['out_conv.weight'], w['out_conv.bias'])) as tf.Tensor4D;
  return { image, attention };
}
