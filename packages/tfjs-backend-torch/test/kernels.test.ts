/**
 * Every native kernel against the cpu backend on the same inputs (values, and gradients where the
 * kernel is a gradient), with the path each call took: the cases that must run in libtorch do, and
 * the cases the native kernels leave to the cpu backend (NCHW, asymmetric pooling, other resize
 * modes) still give the cpu backend's answer.
 */
import { test } from 'node:test';
import { existsSync } from 'node:fs';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { kernelCounts, loadNative, resetKernelCounts, SOFTMAX_ATTENTION } from '../src/index.js';
import { maxRelDiff, onBoth, torchOrSkip, values } from './helpers.js';

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
const ints = (shape: number[], seed: number, hi: number): tf.Tensor =>
  tf.tensor(
    Array.from(
      values(
        shape.reduce((a, b) => a * b, 1),
        seed,
      ),
      (v) => Math.floor(((v + 1) / 2) * hi),
    ),
    shape,
    'int32',
  );

interface Case {
  name: string;
  f: () => tf.Tensor | tf.Tensor[];
  /** Kernels that must have run natively on torch. */
  native: string[];
  /** Kernels that must have been handed to the cpu backend. */
  cpu?: string[];
  tol?: number;
}

const grads = (f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[]): tf.Tensor[] => {
  const r = t(f(...xs).shape, 99);
  return tf.grads((...args: tf.Tensor[]) => tf.sum(tf.mul(f(...args), r)))(xs);
};

const cases: Case[] = [
  {
    name: 'binary float ops with broadcasting',
    native: ['Add', 'Sub', 'Multiply', 'RealDiv', 'Maximum', 'Minimum', 'SquaredDifference', 'Pow'],
    f: () => {
      const a = t([2, 3, 4], 1);
      const b = t([4], 2);
      const c = t([3, 1], 3);
      return [
        tf.add(a, b),
        tf.sub(a, c),
        tf.mul(a, b),
        tf.div(a, tf.add(tf.abs(b), 1)),
        tf.maximum(a, c),
        tf.minimum(a, b),
        tf.squaredDifference(a, c),
        tf.pow(tf.abs(a), b),
      ];
    },
  },
  {
    name: 'int32 arithmetic and comparisons',
    native: ['Add', 'Multiply', 'FloorDiv', 'Mod', 'Less', 'GreaterEqual', 'Equal', 'NotEqual'],
    f: () => {
      const a = ints([3, 5], 4, 20);
      const b = tf.add(ints([5], 5, 7), 1);
      return [
        tf.add(a, b),
        tf.mul(a, b),
        tf.floorDiv(a, b),
        tf.mod(a, b),
        tf.less(a, b),
        tf.greaterEqual(a, b),
        tf.equal(a, b),
        tf.notEqual(a, b),
      ];
    },
  },
  {
    name: 'logical ops',
    native: ['LogicalAnd', 'LogicalOr', 'LogicalNot', 'Greater'],
    f: () => {
      const a = tf.greater(t([4, 4], 6), 0);
      const b = tf.greater(t([4, 4], 7), 0.3);
      return [tf.logicalAnd(a, b), tf.logicalOr(a, b), tf.logicalNot(a)];
    },
  },
  {
    name: 'unary ops',
    native: [
      'Relu',
      'Relu6',
      'Neg',
      'Square',
      'Sqrt',
      'Rsqrt',
      'Exp',
      'Log',
      'Tanh',
      'Sigmoid',
      'Abs',
      'Reciprocal',
      'Sign',
      'Floor',
      'Ceil',
      'Round',
      'Sin',
      'Cos',
      'Elu',
      'Softplus',
      'LeakyRelu',
      'ClipByValue',
      'Step',
      'Erf',
    ],
    f: () => {
      const x = t([3, 7], 8, 3);
      const p = tf.add(tf.abs(x), 0.5);
      return [
        tf.relu(x),
        tf.relu6(tf.mul(x, 3)),
        tf.neg(x),
        tf.square(x),
        tf.sqrt(p),
        tf.rsqrt(p),
        tf.exp(x),
        tf.log(p),
        tf.tanh(x),
        tf.sigmoid(x),
        tf.abs(x),
        tf.reciprocal(p),
        tf.sign(x),
        tf.floor(x),
        tf.ceil(x),
        tf.round(x),
        tf.sin(x),
        tf.cos(x),
        tf.elu(x),
        tf.softplus(x),
        tf.leakyRelu(x, 0.1),
        tf.clipByValue(x, -1, 2),
        tf.step(x, 0.25),
        tf.erf(x),
      ];
    },
  },
  {
    name: 'step keeps NaN, selu, isNaN',
    native: ['Step', 'Selu', 'IsNan'],
    f: () => {
      const x = tf.tensor([-1, 0, 2, Number.NaN, 3]);
      return [tf.step(x), tf.selu(x), tf.isNaN(x)];
    },
  },
  {
    name: 'casts',
    native: ['Cast'],
    f: () => {
      const x = t([10], 9, 5);
      return [
        tf.cast(x, 'int32'),
        tf.cast(tf.cast(x, 'int32'), 'float32'),
        tf.cast(x, 'bool'),
        tf.cast(tf.greater(x, 0), 'float32'),
      ];
    },
  },
  {
    name: 'reductions',
    native: ['Sum', 'Mean', 'Max', 'Min', 'Prod', 'All', 'Any', 'ArgMax', 'ArgMin'],
    f: () => {
      const x = t([3, 4, 5], 10);
      const b = tf.greater(x, -0.5);
      return [
        tf.sum(x, [0, 2]),
        tf.sum(x, 1, true),
        tf.mean(x, [1]),
        tf.max(x, 2),
        tf.min(x, [0, 1], true),
        tf.prod(tf.add(x, 1.5), [0, 2]),
        tf.all(b, 1),
        tf.any(b, [0, 2]),
        tf.argMax(x, 1),
        tf.argMin(x, 2),
        tf.sum(tf.cast(b, 'int32'), 0),
        tf.sum(x),
      ];
    },
  },
  {
    name: 'matrix products',
    native: ['BatchMatMul', '_FusedMatMul'],
    f: () => {
      const a = t([5, 4], 11);
      const b = t([4, 6], 12);
      const c = t([1, 3, 4], 13);
      const d = t([2, 4, 6], 14);
      return [
        tf.matMul(a, b),
        tf.matMul(b, a, true, true),
        tf.matMul(c, d),
        tf.matMul(d, t([2, 7, 6], 15), false, true),
        tf.fused.matMul({ a, b, bias: t([6], 16), activation: 'relu' }),
        tf.fused.matMul({ a, b, activation: 'prelu', preluActivationWeights: t([6], 17) }),
      ];
    },
  },
  {
    // 512 rows and more run as oneDNN 1x1 convolutions (native/matmul.cc), fewer on BLAS: both sides of the bound
    name: 'tall matrix products: forward, both gradients, batch of one, bias and activation',
    native: ['BatchMatMul', '_FusedMatMul'],
    f: () => {
      const a = t([600, 8], 21);
      const b = t([8, 5], 22);
      const dy = t([600, 5], 23);
      const small = t([511, 8], 24);
      return [
        tf.matMul(a, b),
        tf.matMul(dy, b, false, true),
        tf.matMul(a, dy, true, false),
        tf.matMul(t([1, 600, 8], 25), t([1, 8, 5], 26)),
        tf.matMul(t([1, 600, 8], 27), t([1, 600, 5], 28), true, false),
        tf.matMul(small, b),
        tf.fused.matMul({ a, b, bias: t([5], 29), activation: 'relu' }),
        tf.fused.matMul({ a: dy, b, transposeB: true, bias: t([8], 30) }),
        tf.fused.matMul({ a, b: dy, transposeA: true, bias: t([5], 31) }),
      ];
    },
  },
  {
    name: 'convolutions: same, valid, stride 2 (asymmetric same), dilation, explicit pads, fused bias and activations',
    native: ['Conv2D', 'FusedConv2D'],
    f: () => {
      const x = t([2, 9, 9, 3], 18);
      const w = t([3, 3, 3, 4], 19);
      const w2 = t([2, 2, 3, 4], 20);
      return [
        tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'),
        tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid'),
        tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'same'),
        tf.conv2d(x as tf.Tensor4D, w2 as tf.Tensor4D, 2, 'same'),
        tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same', 'NHWC', 2),
        tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, [
          [0, 0],
          [1, 2],
          [2, 0],
          [0, 0],
        ]),
        tf.fused.conv2d({
          x: x as tf.Tensor4D,
          filter: w as tf.Tensor4D,
          strides: 1,
          pad: 'same',
          bias: t([4], 21),
          activation: 'relu',
        }),
        tf.fused.conv2d({
          x: x as tf.Tensor4D,
          filter: w as tf.Tensor4D,
          strides: 1,
          pad: 'same',
          bias: t([4], 22),
          activation: 'elu',
        }),
        // one channel in and out, and a 1x1 output: layouts whose strides oneDNN may describe otherwise
        tf.conv2d(t([2, 6, 6, 1], 23) as tf.Tensor4D, t([3, 3, 1, 1], 24) as tf.Tensor4D, 1, 'same'),
        tf.fused.conv2d({
          x: t([3, 4, 4, 2], 25) as tf.Tensor4D,
          filter: t([4, 4, 2, 3], 26) as tf.Tensor4D,
          strides: 1,
          pad: 'valid',
          bias: t([3], 27),
          activation: 'relu',
        }),
      ];
    },
  },
  {
    name: 'convolution gradients (input and filter): stride 1 and 2, same and valid, one channel, 1x1 output',
    native: ['Conv2DBackpropInput', 'Conv2DBackpropFilter'],
    tol: 1e-5,
    f: () => {
      const x = t([2, 8, 8, 3], 23);
      const w = t([3, 3, 3, 5], 24);
      return [
        ...grads((a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'), [x, w]),
        ...grads((a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'), [x, w]),
        ...grads((a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'valid'), [x, w]),
        ...grads(
          (a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'),
          [t([2, 5, 5, 1], 26), t([3, 3, 1, 1], 27)],
        ),
        ...grads(
          (a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'valid'),
          [t([2, 3, 3, 2], 28), t([3, 3, 2, 4], 29)],
        ),
      ];
    },
  },
  {
    name: 'pooling and its gradients',
    native: ['AvgPool', 'MaxPool', 'AvgPoolGrad', 'MaxPoolGrad'],
    f: () => {
      const x = t([2, 8, 8, 3], 25);
      return [
        tf.avgPool(x as tf.Tensor4D, 2, 2, 'valid'),
        tf.maxPool(x as tf.Tensor4D, 3, 1, 'same'),
        tf.avgPool(x as tf.Tensor4D, 3, 1, 'same'),
        ...grads((a) => tf.avgPool(a as tf.Tensor4D, 2, 2, 'valid'), [x]),
        ...grads((a) => tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid'), [x]),
        // windows that tile the input and ones that leave a remainder
        ...grads((a) => tf.avgPool(a as tf.Tensor4D, 2, 2, 'same'), [x]),
        ...grads((a) => tf.avgPool(a as tf.Tensor4D, 3, 3, 'valid'), [t([2, 9, 6, 2], 26)]),
        ...grads((a) => tf.avgPool(a as tf.Tensor4D, 2, 2, 'valid'), [t([2, 9, 9, 3], 27)]),
        // (overlapping windows with padding: the next test, the cpu backend's gradient is not the reference there)
      ];
    },
  },
  { name: 'softmax', native: ['Softmax'], f: () => [tf.softmax(t([3, 5, 7], 26, 4))] },
  {
    name: 'data movement: gather, concat, stack, split, transpose, strided slice, pad, tile, nearest resize, where, addN, fill',
    native: [
      'GatherV2',
      'Concat',
      'Pack',
      'SplitV',
      'Transpose',
      'Slice',
      'PadV2',
      'Tile',
      'ResizeNearestNeighbor',
      'Select',
      'AddN',
      'Fill',
    ],
    f: () => {
      const x = t([4, 3, 5], 27);
      const idx = tf.tensor1d([3, 0, 0, 2], 'int32');
      return [
        tf.gather(x, idx),
        tf.gather(
          x,
          tf.tensor2d(
            [
              [1, 2],
              [0, 4],
            ],
            [2, 2],
            'int32',
          ),
          2,
        ),
        tf.concat([x, t([4, 2, 5], 28)], 1),
        tf.concat([x, x, x], 2),
        tf.stack([x, x], 1),
        ...tf.split(x, [1, 3], 0),
        ...tf.split(x, [2, 3], 2),
        tf.transpose(x, [2, 0, 1]),
        tf.slice(x, [1, 1, 1], [2, 2, 3]),
        tf.pad(
          x,
          [
            [1, 0],
            [0, 2],
            [1, 1],
          ],
          0.5,
        ),
        tf.tile(x, [1, 2, 3]),
        tf.image.resizeNearestNeighbor(t([2, 3, 4, 2], 29) as tf.Tensor4D, [6, 8]),
        tf.where(tf.greater(x, 0), x, tf.neg(x)),
        tf.addN([x, x, tf.exp(x)]),
        tf.fill([3, 4], 2.5),
      ];
    },
  },
  {
    name: 'cases left to the cpu backend: NCHW convolution, asymmetric pooling, aligned-corners resize, batched gather',
    native: [],
    cpu: ['Conv2D', 'AvgPool', 'ResizeNearestNeighbor', 'GatherV2'],
    f: () => [
      tf.conv2d(t([1, 2, 5, 5], 30) as tf.Tensor4D, t([3, 3, 2, 3], 31) as tf.Tensor4D, 1, 'same', 'NCHW'),
      tf.avgPool(t([1, 5, 5, 2], 32) as tf.Tensor4D, 2, 2, 'same'),
      tf.image.resizeNearestNeighbor(t([1, 3, 3, 1], 33) as tf.Tensor4D, [5, 5], true),
      tf.gather(
        t([2, 3, 4], 34),
        tf.tensor2d(
          [
            [0, 2],
            [1, 1],
          ],
          [2, 2],
          'int32',
        ),
        1,
        1,
      ),
    ],
  },
];

for (const c of cases) {
  test(`torch vs cpu: ${c.name}`, { skip }, async () => {
    resetKernelCounts();
    const { cpu, torch } = await onBoth(c.f);
    const counts = kernelCounts();
    const diff = maxRelDiff(torch, cpu);
    assert.ok(diff <= (c.tol ?? 2e-6), `max relative difference ${diff.toExponential(2)}`);
    for (const k of c.native)
      assert.ok(
        (counts.native[k] ?? 0) > 0,
        `${k} ran natively (native: ${JSON.stringify(counts.native)}, cpu: ${JSON.stringify(counts.cpu)})`,
      );
    for (const k of c.cpu ?? [])
      assert.ok((counts.cpu[k] ?? 0) > 0, `${k} was handed to the cpu kernel (${JSON.stringify(counts.cpu)})`);
  });
}

test('a kernel that exists nowhere fails with an error naming it', { skip }, async () => {
  await tf.setBackend('torch');
  const x = tf.tensor1d([1, 2]);
  assert.throws(
    () => tf.engine().runKernel('NoSuchKernel', { x }, {}),
    /Kernel 'NoSuchKernel' not registered for backend 'torch'/,
  );
  x.dispose();
});

test(
  'libtorch errors become JavaScript exceptions (out-of-range gather index, mismatched attention shapes)',
  { skip },
  async () => {
    await tf.setBackend('torch');
    const x = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const bad = tf.tensor1d([0, 7], 'int32');
    assert.throws(() => tf.gather(x, bad), /index|out of range|range/i);
    const q = tf.zeros([1, 4, 2]);
    const k = tf.zeros([1, 3, 5]);
    assert.throws(
      () => tf.engine().runKernel(SOFTMAX_ATTENTION, { query: q, key: k, value: k }, {}),
      /^Error: torch backend, SoftmaxAttention: key is float32 \[1, 3, 5\], expected float32 \[B, M, d\] with B = 1, N = 4, d = 2, M = 3$/,
    );
    tf.dispose([x, bad, q, k]);
    // the backend still works afterwards
    assert.deepEqual(await tf.add(tf.scalar(1), tf.scalar(2)).data(), new Float32Array([3]));
  },
);

test('convolutions write straight into their outputs wherever ideep (libideep-dev) is installed', { skip }, () => {
  const ideepInstalled = existsSync('/usr/include/ideep.hpp');
  const intoOutputs = loadNative().info().convolutionsIntoOutputs;
  if (!ideepInstalled) {
    console.log(
      '# /usr/include/ideep.hpp is absent: the addon copies each convolution result into its output (apt-get install libideep-dev, then npm run build:native)',
    );
  }
  // the cases above ran on whichever path this build has; this holds the build to the faster one where it can be had
  if (ideepInstalled) assert.equal(intoOutputs, true, 'ideep is installed but the addon was built without it');
});

test(
  'average pooling with padding: the gradient is the derivative of the forward (where the cpu backend is not)',
  { skip },
  async () => {
    // tfjs's forward AvgPool leaves padded positions out of each window's count; its cpu AvgPoolGrad divides
    // by the full window, so at the borders its gradient is not that of its own forward. The native kernel
    // (libtorch, count_include_pad = false) is checked against central differences instead.
    await tf.setBackend('torch');
    const x = t([1, 4, 4, 1], 40);
    const f = (a: tf.Tensor): tf.Scalar =>
      tf.sum(tf.mul(tf.avgPool(a as tf.Tensor4D, 3, 1, 'same'), t([1, 4, 4, 1], 41)));
    const analytic = await tf.grad(f)(x).data();
    const xs = await x.data();
    const h = 1e-2;
    for (let i = 0; i < xs.length; i++) {
      const plus = Float32Array.from(xs);
      const minus = Float32Array.from(xs);
      plus[i] += h;
      minus[i] -= h;
      const numeric =
        ((await f(tf.tensor(plus, x.shape)).data())[0] - (await f(tf.tensor(minus, x.shape)).data())[0]) / (2 * h);
      assert.ok(Math.abs(analytic[i] - numeric) < 1e-3, `element ${i}: analytic ${analytic[i]}, numeric ${numeric}`);
    }
  },
);
