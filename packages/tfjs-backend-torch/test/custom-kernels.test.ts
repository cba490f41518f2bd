/**
 * The kernels only this backend has (FusedAdam, SoftmaxGrad, SoftmaxAttention(+Grad),
 * ConditionalBatchNorm(+Grad)) against the tfjs compositions they replace, computed on the same backend,
 * and what a wrong call to them gets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import {
  CONDITIONAL_BATCH_NORM,
  CONDITIONAL_BATCH_NORM_GRAD,
  FUSED_ADAM,
  SOFTMAX_ATTENTION,
  SOFTMAX_ATTENTION_GRAD,
  SOFTMAX_GRAD,
  RELU_GRAD,
  type TorchBackend,
} from '../src/index.js';
import { maxRelDiff, torchOrSkip, values } from './helpers.js';

const skip = torchOrSkip();

const t = (shape: number[], seed: number, scale = 1): tf.Tensor =>
  tf.tensor(
    values(
      shape.reduce((a, b) => a * b, 1),
      seed,
      scale,
    ),
    shape,
  );
const run = (name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown> = {}): tf.Tensor[] =>
  tf.engine().runKernel(name, inputs, attrs as never) as tf.Tensor[];
const data = async (ts: tf.Tensor[]): Promise<Float32Array[]> =>
  Promise.all(ts.map(async (x) => Float32Array.from(await x.data())));

test('FusedAdam equals the composed Adam update bit for bit (with and without a first moment)', { skip }, async () => {
  await tf.setBackend('torch');
  const n = 50_001;
  const theta = t([n], 1);
  const v = tf.abs(t([n], 2, 1e-3));
  const m = t([n], 3, 1e-2);
  const g = t([n], 4, 1e-1);
  for (const beta1 of [0, 0.5]) {
    const lrT = (1e-4 * Math.sqrt(1 - 0.9 ** 7)) / (1 - beta1 ** 7);
    const inputs: Record<string, tf.Tensor> = { theta, v, g };
    if (beta1 !== 0) inputs.m = m;
    const fused = await data(run(FUSED_ADAM, inputs, { lrT, beta1, beta2: 0.9, eps: 1e-8 }));
    const composed = await data(
      tf.tidy(() => {
        const v2 = tf.add(tf.mul(v, 0.9), tf.mul(tf.square(g), 1 - 0.9));
        const m2 = beta1 === 0 ? g : tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1));
        const out = [tf.sub(theta, tf.mul(tf.div(m2, tf.add(tf.sqrt(v2), 1e-8)), lrT)), v2];
        if (beta1 !== 0) out.push(m2);
        return out;
      }),
    );
    assert.equal(fused.length, composed.length);
    fused.forEach((f, i) => assert.deepEqual(f, composed[i], `output ${i} (beta1 ${beta1})`));
  }
});

test('SoftmaxGrad equals the gradient tfjs derives for softmax', { skip }, async () => {
  await tf.setBackend('torch');
  const x = t([3, 6, 9], 5, 3);
  const dy = t([3, 6, 9], 6);
  const [want] = tf.grads((a: tf.Tensor) => tf.sum(tf.mul(tf.softmax(a), dy)))([x]);
  const got = tf.engine().runKernel(SOFTMAX_GRAD, { dy, y: tf.softmax(x) }, { dim: -1 }) as tf.Tensor;
  assert.ok(maxRelDiff(await data([got]), await data([want])) < 1e-6);
});

test('ReluGrad equals the gradient tfjs derives for relu, also where y is 0 or NaN', { skip }, async () => {
  await tf.setBackend('torch');
  const x = tf.concat([t([3, 6, 9], 7, 3).reshape([-1]), tf.tensor1d([0, -0, NaN, 1e-30, -1e-30])]);
  const dy = t([x.size], 8);
  const [want] = tf.grads((a: tf.Tensor) => tf.sum(tf.mul(tf.relu(a), dy)))([x]);
  const got = tf.engine().runKernel(RELU_GRAD, { dy, y: tf.relu(x) }, {}) as tf.Tensor;
  const [g, w] = [await got.data(), await want.data()];
  // tfjs's Step keeps NaN (NaN * dy); libtorch's mask drops it: only the NaN element may differ
  // (=== : tfjs's 0 * negative dy is -0, libtorch's mask writes 0)
  for (let i = 0; i < g.length; i++)
    if (!Number.isNaN(w[i])) assert.ok(g[i] === w[i], `element ${i}: ${g[i]} vs ${w[i]}`);
});

for (const [B, N, M, d, e] of [
  [2, 16, 4, 1, 4],
  [3, 64, 16, 2, 8],
  [2, 20, 13, 3, 5],
]) {
  test(
    `SoftmaxAttention and its gradient equal softmax(Q K^T) V composed (B ${B}, N ${N}, M ${M}, d ${d}, e ${e})`,
    { skip },
    async () => {
      await tf.setBackend('torch');
      const q = t([B, N, d], 7, 2);
      const k = t([B, M, d], 8, 2);
      const v = t([B, M, e], 9);
      const dOut = t([B, N, e], 10);
      const [out, weights] = run(SOFTMAX_ATTENTION, { query: q, key: k, value: v });
      const composedWeights = tf.softmax(tf.matMul(q, k, false, true));
      assert.ok(
        maxRelDiff(await data([out, weights]), await data([tf.matMul(composedWeights, v), composedWeights])) < 1e-5,
      );
      const fused = run(SOFTMAX_ATTENTION_GRAD, { dOut, weights, query: q, key: k, value: v });
      const composed = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
        tf.sum(tf.mul(tf.matMul(tf.softmax(tf.matMul(a, b, false, true)), c), dOut)),
      )([q, k, v]);
      assert.ok(maxRelDiff(await data(fused), await data(composed)) < 1e-5);
    },
  );
}

for (const relu of [false, true]) {
  test(`ConditionalBatchNorm and its gradient equal the batch-norm formulas (relu ${relu})`, { skip }, async () => {
    await tf.setBackend('torch');
    const [b, h, w, c] = [4, 5, 3, 6];
    const x = tf.add(t([b, h, w, c], 11, 2), 0.7);
    const gy = tf.add(t([b, c], 12, 0.5), 1);
    const by = t([b, c], 13);
    const dy = t([b, h, w, c], 14);
    const [y, mean, variance, rstd] = run(CONDITIONAL_BATCH_NORM, { x, gain: gy, bias: by }, { epsilon: 1e-5, relu });
    const moments = tf.moments(x, [0, 1, 2]);
    const ref = (xIn: tf.Tensor, g: tf.Tensor, bb: tf.Tensor): tf.Tensor => {
      const m = tf.moments(xIn, [0, 1, 2]);
      const out = tf.add(
        tf.mul(tf.div(tf.sub(xIn, m.mean), tf.sqrt(tf.add(m.variance, 1e-5))), tf.reshape(g, [b, 1, 1, c])),
        tf.reshape(bb, [b, 1, 1, c]),
      );
      return relu ? tf.relu(out) : out;
    };
    assert.ok(
      maxRelDiff(
        await data([y, mean, variance, rstd]),
        await data([ref(x, gy, by), moments.mean, moments.variance, tf.rsqrt(tf.add(moments.variance, 1e-5))]),
      ) < 1e-5,
    );
    const [dx, sg, sgx] = run(CONDITIONAL_BATCH_NORM_GRAD, { dy, x, y, mean, rstd, gain: gy }, { relu });
    const [rdx, rdg, rdb] = tf.grads((a: tf.Tensor, g: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(ref(a, g, bb), dy)))([
      x,
      gy,
      by,
    ]);
    // the gain and bias rows' gradients are sum(g * xhat) and sum(g) over each sample's positions
    assert.ok(maxRelDiff(await data([dx, sgx, sg]), await data([rdx, rdg, rdb])) < 1e-5);
  });
}

test(
  'a custom kernel called with wrong shapes or dtypes gets an error naming the input and what was expected, and allocates nothing',
  { skip },
  async () => {
    await tf.setBackend('torch');
    const backend = tf.backend() as TorchBackend;
    const f32 = (shape: number[]) => tf.zeros(shape);
    const cases: [string, Record<string, tf.Tensor>, Record<string, unknown>, RegExp][] = [
      [
        FUSED_ADAM,
        { theta: f32([10]), v: f32([10]), g: f32([9]) },
        { lrT: 1e-3, beta1: 0, beta2: 0.9, eps: 1e-8 },
        /^Error: torch backend, FusedAdam: g is float32 \[9\], expected float32 \[n\] with n = 10$/,
      ],
      [
        FUSED_ADAM,
        { theta: f32([10]), v: tf.zeros([10], 'int32'), g: f32([10]) },
        { lrT: 1e-3, beta1: 0, beta2: 0.9, eps: 1e-8 },
        /^Error: torch backend, FusedAdam: v is int32 \[10\], expected float32 \[n\] with n = 10$/,
      ],
      [
        FUSED_ADAM,
        { theta: f32([10]), m: f32([10, 1]), v: f32([10]), g: f32([10]) },
        { lrT: 1e-3, beta1: 0.5, beta2: 0.9, eps: 1e-8 },
        /^Error: torch backend, FusedAdam: m is float32 \[10, 1\], expected float32 \[n\] with n = 10$/,
      ],
      [
        FUSED_ADAM,
        { theta: f32([10]), v: f32([10]) },
        { lrT: 1e-3, beta1: 0, beta2: 0.9, eps: 1e-8 },
        /^Error: torch backend, FusedAdam: input g is missing$/,
      ],
      [
        SOFTMAX_GRAD,
        { dy: f32([2, 4]), y: f32([2, 5]) },
        {},
        /^Error: torch backend, SoftmaxGrad: dy is float32 \[2, 4\], expected float32 \[2, 5\] \(y's shape\)$/,
      ],
      [
        RELU_GRAD,
        { dy: f32([2, 4]), y: f32([2, 5]) },
        {},
        /^Error: torch backend, ReluGrad: dy is float32 \[2, 4\], expected float32 \[2, 5\] \(y's shape\)$/,
      ],
      [
        SOFTMAX_ATTENTION,
        { query: f32([1, 4, 2]), key: f32([1, 3, 2]), value: f32([2, 3, 5]) },
        {},
        /^Error: torch backend, SoftmaxAttention: value is float32 \[2, 3, 5\], expected float32 \[B, M, e\] with B = 1, N = 4, d = 2, M = 3$/,
      ],
      [
        SOFTMAX_ATTENTION_GRAD,
        {
          query: f32([1, 4, 2]),
          key: f32([1, 3, 2]),
          value: f32([1, 3, 5]),
          dOut: f32([1, 4, 5]),
          weights: f32([1, 3, 4]),
        },
        {},
        /^Error: torch backend, SoftmaxAttentionGrad: weights is float32 \[1, 3, 4\], expected float32 \[B, N, M\] with B = 1, N = 4, d = 2, M = 3, e = 5$/,
      ],
      [
        CONDITIONAL_BATCH_NORM,
        { x: f32([2, 3, 3, 4]), gain: f32([3, 4]), bias: f32([2, 4]) },
        { epsilon: 1e-5, relu: true },
        /^Error: torch backend, ConditionalBatchNorm: gain is float32 \[3, 4\], expected float32 \[b, C\] with b = 2, h = 3, w = 3, C = 4$/,
      ],
      [
        CONDITIONAL_BATCH_NORM_GRAD,
        { x: f32([2, 9, 4]), dy: f32([2, 9, 4]), y: f32([2, 9, 4]), mean: f32([4]), rstd: f32([4]), gain: f32([2, 4]) },
        { relu: false },
        /^Error: torch backend, ConditionalBatchNormGrad: x is float32 \[2, 9, 4\], expected float32 \[b, h, w, C\]$/,
      ],
    ];
    for (const [name, inputs, attrs, expected] of cases) {
      const before = { tensors: tf.memory().numTensors, buffers: backend.pool.stats().buffersInUse };
      assert.throws(
        () => run(name, inputs, attrs),
        expected,
        `${name} with ${Object.entries(inputs)
          .map(([k, v]) => `${k} ${v.dtype} [${v.shape}]`)
          .join(', ')}`,
      );
      assert.deepEqual(
        { tensors: tf.memory().numTensors, buffers: backend.pool.stats().buffersInUse },
        before,
        `${name}: a refused call leaves no tensor behind`,
      );
      tf.dispose(Object.values(inputs));
    }
    // the backend still works afterwards
    assert.deepEqual(
      await data(
        run(FUSED_ADAM, { theta: f32([3]), v: f32([3]), g: tf.ones([3]) }, { lrT: 1, beta1: 0, beta2: 0, eps: 1 }),
      ),
      [new Float32Array([-0.5, -0.5, -0.5]), new Float32Array([1, 1, 1])],
    );
  },
);
