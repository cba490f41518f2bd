/** Eval helpers: Fréchet distance against closed forms, the stratified split, argmax. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { argmaxRows, stratifiedSplit } from '../src/lib/classifier.js';
import { fitGaussian, frechetDistance, symmetricEigen, type Gaussian } from '../src/lib/frechet.js';
import { Rng } from '../src/lib/rng.js';

function diag(mean: number[], variances: number[]): Gaussian {
  const n = mean.length;
  const cov = new Float64Array(n * n);
  variances.forEach((v, i) => {
    cov[i * n + i] = v;
  });
  return { mean: Float64Array.from(mean), cov, dim: n, count: 100 };
}

test('Fréchet distance matches closed forms', () => {
  // diagonal covariances: |mu1 - mu2|^2 + sum (sqrt(a) - sqrt(b))^2
  const a = diag([0, 1, 2], [1, 4, 9]);
  const b = diag([1, 1, 0], [4, 4, 1]);
  const want = 1 + 0 + 4 + (1 - 2) ** 2 + 0 + (3 - 1) ** 2;
  assert.ok(Math.abs(frechetDistance(a, b) - want) < 1e-9);
  assert.ok(frechetDistance(a, a) < 1e-9);
  // rotation invariance: the same Gaussians in a rotated basis give the same distance
  const c = Math.cos(0.7);
  const s = Math.sin(0.7);
  const rot = (g: Gaussian): Gaussian => {
    const R = [c, -s, 0, s, c, 0, 0, 0, 1];
    const m = [0, 1, 2].map((i) => [0, 1, 2].reduce((acc, k) => acc + R[i * 3 + k] * g.mean[k], 0));
    const cov = new Float64Array(9);
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++)
        for (let k = 0; k < 3; k++) cov[i * 3 + j] += R[i * 3 + k] * g.cov[k * 3 + k] * R[j * 3 + k];
    return { mean: Float64Array.from(m), cov, dim: 3, count: 100 };
  };
  assert.ok(Math.abs(frechetDistance(rot(a), rot(b)) - want) < 1e-8);
});

test('fitGaussian and the eigen solver', () => {
  const rng = new Rng(1);
  const n = 20000;
  const x = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const [u, v] = rng.normal(2);
    x[2 * i] = 1 + 2 * u;
    x[2 * i + 1] = -1 + u + v;
  }
  const g = fitGaussian(x, 2);
  assert.ok(Math.abs(g.mean[0] - 1) < 0.05 && Math.abs(g.mean[1] + 1) < 0.05);
  assert.ok(Math.abs(g.cov[0] - 4) < 0.15 && Math.abs(g.cov[1] - 2) < 0.1 && Math.abs(g.cov[3] - 2) < 0.1);
  const { values } = symmetricEigen(Float64Array.from([2, 1, 1, 2]), 2);
  assert.deepEqual(
    Array.from(values)
      .map((v) => Math.round(v * 1e9) / 1e9)
      .sort(),
    [1, 3],
  );
});

test('stratified split holds out a fraction of every class; argmax per row', () => {
  const labels = Int32Array.from([0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2]);
  const { train, heldOut } = stratifiedSplit(labels, 3, 0.2, 5);
  assert.equal(train.length + heldOut.length, labels.length);
  assert.equal(new Set([...train, ...heldOut]).size, labels.length);
  const held = (k: number) => Array.from(heldOut).filter((i) => labels[i] === k).length;
  assert.deepEqual([held(0), held(1), held(2)], [1, 2, 0]);
  assert.deepEqual(stratifiedSplit(labels, 3, 0.2, 5), { train, heldOut }, 'deterministic');
  assert.deepEqual(Array.from(argmaxRows(Float32Array.from([0.1, 0.9, 0.0, 3, 2, 1]), 3)), [1, 0]);
});
