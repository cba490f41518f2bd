/**
 * The projection discriminator (released SAGAN / BigGAN layout), NHWC:
 *
 *   block 0 ("optimized"): h = avgpool(conv2(relu(conv1(x)))) + conv1x1(avgpool(x))
 *   block i > 0:           h = [avgpool](conv2(relu(conv1(relu(x))))) + shortcut(x)
 *                          shortcut = conv1x1([avgpool](x)) when down-sampling or channels change, else x
 *   self-attention after block attentionBlock
 *   h = sum_{hw} relu(h);  out = linear(h) + <embed[y], h>      (projection)
 *
 * (avg-pooling before the 1x1 shortcut conv equals pooling after it: both are linear, per pixel.)
 * Every conv, the linear layer and the class embedding are spectrally normalised.
 */
import * as tf from '@tensorflow/tfjs';
import { conv, conv1x1, relu, selfAttention, spatialSum } from './layers.js';
import { attentionSpecs } from './generator.js';
import { resolveDiscriminator, type DiscriminatorConfig } from './model-config.js';
import type { ParamSpec } from './params.js';

export function discriminatorParamSpecs(config: DiscriminatorConfig): ParamSpec[] {
  const d = resolveDiscriminator(config);
  const specs: ParamSpec[] = [];
  d.outChannels.forEach((cout, i) => {
    const cin = d.inChannels[i];
    const p = `blocks.${i}`;
    specs.push(
      { name: `${p}.conv1.weight`, shape: [3, 3, cin, cout], kind: 'conv', sn: true },
      { name: `${p}.conv1.bias`, shape: [cout], kind: 'bias', sn: false },
      { name: `${p}.conv2.weight`, shape: [3, 3, cout, cout], kind: 'conv', sn: true },
      { name: `${p}.conv2.bias`, shape: [cout], kind: 'bias', sn: false },
    );
    if (hasLearnableShortcut(d, i)) {
      specs.push(
        { name: `${p}.shortcut.weight`, shape: [1, 1, cin, cout], kind: 'conv', sn: true },
        { name: `${p}.shortcut.bias`, shape: [cout], kind: 'bias', sn: false },
      );
    }
    if (i === d.attentionBlock) specs.push(...attentionSpecs('attention', cout));
  });
  const cl = d.outChannels[d.outChannels.length - 1];
  specs.push(
    { name: 'linear.weight', shape: [cl, 1], kind: 'linear', sn: true },
    { name: 'linear.bias', shape: [1], kind: 'bias', sn: false },
    { name: 'embed.weight', shape: [d.numClasses, cl], kind: 'embed', sn: true },
  );
  return specs;
}

function hasLearnableShortcut(d: ReturnType<typeof resolveDiscriminator>, i: number): boolean {
  return i === 0 || d.downsample[i] || d.inChannels[i] !== d.outChannels[i];
}

const pool = (x: tf.Tensor4D): tf.Tensor4D => tf.avgPool(x, 2, 2, 'valid');

/** D forward: x [b, S, S, 3] in [-1, 1], onehot [b, K] -> logits [b]. */
export function discriminatorForward(
  config: DiscriminatorConfig,
  w: Record<string, tf.Tensor>,
  x: tf.Tensor4D,
  onehot: tf.Tensor2D,
): tf.Tensor1D {
  const d = resolveDiscriminator(config);
  let h = x;
  d.outChannels.forEach((_, i) => {
    const p = `blocks.${i}`;
    const down = d.downsample[i];
    const input = h;
    let r = i === 0 ? input : relu(input);
    r = conv(r, w[`${p}.conv1.weight`], w[`${p}.conv1.bias`], 'relu');
    r = conv(r, w[`${p}.conv2.weight`], w[`${p}.conv2.bias`]);
    if (down) r = pool(r);
    let s = input;
    if (hasLearnableShortcut(d, i))
      s = conv1x1(down ? pool(input) : input, w[`${p}.shortcut.weight`], w[`${p}.shortcut.bias`]);
    h = tf.add(r, s);
    if (i === d.attentionBlock) {
      h = selfAttention(
        h,
        {
          theta: w['attention.theta.weight'],
          phi: w['attention.phi.weight'],
          g: w['attention.g.weight'],
          o: w['attention.o.weight'],
          gamma: w['attention.gamma'],
        },
        d.poolKeys,
      ).out;
    }
  });
  const feat = spatialSum(relu(h)); // [b, C]
  const out = tf.fused.matMul({ a: feat, b: w['linear.weight'], bias: w['linear.bias'] }); // [b, 1]
  const proj = tf.sum(tf.mul(feat, tf.matMul(onehot, w['embed.weight'] as tf.Tensor2D)), 1); // [b]
  return tf.add(tf.reshape(out, [-1]), proj) as tf.Tensor1D;
}
