/**
 * Memory: output buffers are reused through the pool, but never while any tensor (or a view into it,
 * or a value read out of it) still needs them; tensor counts stay flat.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { TorchBackend } from '../src/index.js';
import { torchOrSkip } from './helpers.js';

const skip = torchOrSkip();

const pool = (): ReturnType<TorchBackend['pool']['stats']> => (tf.backend() as TorchBackend).pool.stats();

test('a disposed output buffer is reused for the next output of its size', { skip }, async () => {
  await tf.setBackend('torch');
  const x = tf.ones([256, 256]);
  tf.dispose(tf.add(x, x));
  const before = pool();
  tf.dispose(tf.add(x, x));
  const after = pool();
  assert.equal(after.misses, before.misses, 'no new buffer');
  assert.equal(after.hits, before.hits + 1, 'one pooled buffer taken');
  x.dispose();
});

test(
  'values read out of a tensor are copies: a later output in the reused buffer does not change them',
  { skip },
  async () => {
    await tf.setBackend('torch');
    const x = tf.fill([128, 256], 3);
    const y = tf.add(x, x); // a pooled buffer (128 KiB)
    const read = y.dataSync();
    const asyncRead = await y.data();
    y.dispose();
    const z = tf.add(tf.fill([128, 256], 5), tf.fill([128, 256], 5)); // takes y's buffer
    assert.equal(read[0], 6);
    assert.equal(asyncRead[asyncRead.length - 1], 6);
    tf.dispose([x, z]);
  },
);

test('a slice view keeps its parent buffer out of the pool until the view is disposed', { skip }, async () => {
  await tf.setBackend('torch');
  const x = tf.fill([64, 1024], 2);
  const parent = tf.mul(x, x); // pooled, 256 KiB, all 4
  const view = tf.slice(parent, [0, 0], [8, 1024]); // contiguous: a subarray of parent's buffer
  parent.dispose();
  const other = tf.mul(tf.fill([64, 1024], 3), tf.fill([64, 1024], 3)); // must not land in parent's buffer
  assert.deepEqual([...(await view.data()).slice(0, 4)], [4, 4, 4, 4]);
  view.dispose();
  const reuse = pool().hits;
  const again = tf.mul(x, x);
  assert.equal(pool().hits, reuse + 1, 'free again once the view is gone');
  tf.dispose([x, other, again]);
});

test('repeated work leaves the tensor count and the pool flat', { skip }, async () => {
  await tf.setBackend('torch');
  const w = tf.variable(tf.randomNormal([3, 3, 4, 4]));
  const step = (): void => {
    tf.tidy(() => {
      const x = tf.randomNormal([2, 8, 8, 4]) as tf.Tensor4D;
      const [gw] = tf.grads((ww: tf.Tensor) => tf.sum(tf.square(tf.relu(tf.conv2d(x, ww as tf.Tensor4D, 1, 'same')))))([
        w,
      ]);
      w.assign(tf.sub(w, tf.mul(gw, 1e-3)) as tf.Tensor4D);
    });
  };
  for (let i = 0; i < 3; i++) step();
  const tensors = tf.memory().numTensors;
  const inUse = pool().buffersInUse;
  for (let i = 0; i < 20; i++) step();
  assert.equal(tf.memory().numTensors, tensors);
  assert.equal(pool().buffersInUse, inUse);
  w.dispose();
});
