/**
 * The evaluation classifier: a small CNN trained on the real images (held-out split), used to score
 * generated samples (accuracy per class) and as the feature extractor of the Fréchet distance
 * (its penultimate layer). Parameters live in one flat buffer (params.ts) with the fused Adam.
 *
 *   [conv3x3 -> ReLU -> conv3x3 -> ReLU -> avgpool 2] x levels (channels 32, 64, 128, ...)
 *   -> global average -> dense `featureDim` + ReLU (features) -> dense K (logits)
 */
import * as tf from '@tensorflow/tfjs';
import { FlatAdam } from './adam.js';
import { conv, filled, oneHot, spatialSum } from './layers.js';
import { flatVariable, ParamLayout, type ParamSpec } from './params.js';
import { Rng, mixSeed, epochPermutation } from './rng.js';
import { applyAugment, drawAugment } from './diffaugment.js';

export interface ClassifierConfig {
  imageSize: number;
  numClasses: number;
  width: number;
  levels: number;
  featureDim: number;
}

export function defaultClassifierConfig(imageSize: number, numClasses: number): ClassifierConfig {
  const levels = Math.max(1, Math.min(4, Math.log2(imageSize / 4)));
  return { imageSize, numClasses, width: 32, levels, featureDim: 64 };
}

export function classifierSpecs(c: ClassifierConfig): ParamSpec[] {
  const specs: ParamSpec[] = [];
  let cin = 3;
  for (let l = 0; l < c.levels; l++) {
    const cout = c.width * 2 ** l;
    specs.push(
      { name: `conv${l}a.weight`, shape: [3, 3, cin, cout], kind: 'conv', sn: false },
      { name: `conv${l}a.bias`, shape: [cout], kind: 'bias', sn: false },
      { name: `conv${l}b.weight`, shape: [3, 3, cout, cout], kind: 'conv', sn: false },
      { name: `conv${l}b.bias`, shape: [cout], kind: 'bias', sn: false },
    );
    cin = cout;
  }
  specs.push(
    { name: 'fc.weight', shape: [cin, c.featureDim], kind: 'linear', sn: false },
    { name: 'fc.bias', shape: [c.featureDim], kind: 'bias', sn: false },
    { name: 'out.weight', shape: [c.featureDim, c.numClasses], kind: 'linear', sn: false },
    { name: 'out.bias', shape: [c.numClasses], kind: 'bias', sn: false },
  );
  return specs;
}

export class Classifier {
  readonly layout: ParamLayout;
  readonly theta: tf.Variable;

  constructor(
    readonly config: ClassifierConfig,
    seed: number,
    weights?: Float32Array,
  ) {
    this.layout = new ParamLayout(classifierSpecs(config));
    const init = weights ?? this.layout.initialValues('xavier', new Rng(mixSeed(seed, 0xc1a5)));
    if (init.length !== this.layout.total)
      throw new Error(`classifier weights have ${init.length} values, expected ${this.layout.total}`);
    this.theta = flatVariable(init);
  }

  /** x [b, S, S, 3] in [-1, 1] -> features [b, F] and logits [b, K]. */
  forward(theta: tf.Tensor, x: tf.Tensor4D): { features: tf.Tensor2D; logits: tf.Tensor2D } {
    const w = this.layout.split(theta);
    let h = x;
    for (let l = 0; l < this.config.levels; l++) {
      h = conv(h, w[`conv${l}a.weight`], w[`conv${l}a.bias`], 'relu');
      h = conv(h, w[`conv${l}b.weight`], w[`conv${l}b.bias`], 'relu');
      h = tf.avgPool(h, 2, 2, 'valid');
    }
    const [, hh, ww] = h.shape;
    const pooled = tf.mul(spatialSum(h), filled([], 1 / (hh * ww))) as tf.Tensor2D;
    const features = tf.relu(tf.fused.matMul({ a: pooled, b: w['fc.weight'], bias: w['fc.bias'] })) as tf.Tensor2D;
    const logits = tf.fused.matMul({ a: features, b: w['out.weight'], bias: w['out.bias'] }) as tf.Tensor2D;
    return { features, logits };
  }

  async weights(): Promise<Float32Array> {
    return Float32Array.from(await this.theta.data());
  }

  /** Logits and features for NHWC float images, in chunks. */
  async predict(
    images: Float32Array,
    count: number,
    chunk = 64,
  ): Promise<{ logits: Float32Array; features: Float32Array }> {
    const S = this.config.imageSize;
    const plane = S * S * 3;
    const logits = new Float32Array(count * this.config.numClasses);
    const features = new Float32Array(count * this.config.featureDim);
    for (let start = 0; start < count; start += chunk) {
      const n = Math.min(chunk, count - start);
      const out = tf.tidy(() =>
        this.forward(this.theta, tf.tensor4d(images.subarray(start * plane, (start + n) * plane), [n, S, S, 3])),
      );
      logits.set(await out.logits.data(), start * this.config.numClasses);
      features.set(await out.features.data(), start * this.config.featureDim);
      tf.dispose([out.logits, out.features]);
    }
    return { logits, features };
  }

  /**
   * Trains on uint8 HWC images (indices into `pixels`) with random flips and translations;
   * softmax cross-entropy, Adam. Returns the last epoch's mean loss.
   */
  async train(
    pixels: Uint8Array,
    labels: Int32Array,
    indices: Int32Array,
    opts: { epochs: number; batch: number; lr: number; seed: number; onEpoch?: (epoch: number, loss: number) => void },
  ): Promise<number> {
    const S = this.config.imageSize;
    const plane = S * S * 3;
    const adam = new FlatAdam(this.layout.total, { lr: opts.lr, beta1: 0.9, beta2: 0.999, eps: 1e-7 });
    const rng = new Rng(mixSeed(opts.seed, 0x7ea));
    let last = NaN;
    try {
      for (let epoch = 0; epoch < opts.epochs; epoch++) {
        const perm = epochPermutation(indices.length, opts.seed, epoch);
        let sum = 0;
        let batches = 0;
        for (let start = 0; start + Math.min(opts.batch, indices.length) <= indices.length; start += opts.batch) {
          const n = Math.min(opts.batch, indices.length - start);
          const x = new Float32Array(n * plane);
          const y = new Int32Array(n);
          for (let b = 0; b < n; b++) {
            const idx = indices[perm[start + b]];
            y[b] = labels[idx];
            const flip = rng.uniform() < 0.5;
            for (let r = 0; r < S; r++) {
              for (let c = 0; c < S; c++) {
                const s = (idx * S * S + r * S + (flip ? S - 1 - c : c)) * 3;
                const d = (b * S * S + r * S + c) * 3;
                x[d] = pixels[s] / 127.5 - 1;
                x[d + 1] = pixels[s + 1] / 127.5 - 1;
                x[d + 2] = pixels[s + 2] / 127.5 - 1;
              }
            }
          }
          const aug = drawAugment(['translation'], n, S, rng);
          const loss = tf.tidy(() => {
            const xt = applyAugment(tf.tensor4d(x, [n, S, S, 3]), aug);
            const target = oneHot(y, this.config.numClasses);
            const { value, grads } = tf.valueAndGrads(
              (t: tf.Tensor) => tf.losses.softmaxCrossEntropy(target, this.forward(t, xt).logits) as tf.Scalar,
            )([this.theta]);
            adam.apply(this.theta, grads[0]);
            return value;
          });
          sum += (await loss.data())[0];
          loss.dispose();
          batches += 1;
        }
        last = sum / Math.max(1, batches);
        opts.onEpoch?.(epoch, last);
      }
    } finally {
      adam.dispose();
    }
    return last;
  }

  dispose(): void {
    this.theta.dispose();
  }
}

export function argmaxRows(logits: Float32Array, k: number): Int32Array {
  const n = logits.length / k;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (logits[i * k + j] > logits[i * k + best]) best = j;
    out[i] = best;
  }
  return out;
}

/** Stratified split: `fraction` of each class held out (at least one when the class has >= 2). */
export function stratifiedSplit(
  labels: Int32Array,
  numClasses: number,
  fraction: number,
  seed: number,
): { train: Int32Array; heldOut: Int32Array } {
  const train: number[] = [];
  const held: number[] = [];
  for (let k = 0; k < numClasses; k++) {
    const members: number[] = [];
    labels.forEach((l, i) => {
      if (l === k) members.push(i);
    });
    new Rng(mixSeed(seed, k, 0x5917)).shuffle(members);
    const h = members.length >= 2 ? Math.max(1, Math.round(members.length * fraction)) : 0;
    held.push(...members.slice(0, h));
    train.push(...members.slice(h));
  }
  return { train: Int32Array.from(train.sort((a, b) => a - b)), heldOut: Int32Array.from(held.sort((a, b) => a - b)) };
}
