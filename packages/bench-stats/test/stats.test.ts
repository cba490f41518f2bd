import assert from 'node:assert/strict';
import { test } from 'node:test';
import { interpolate, mean, percentile, quantileSorted, slope, summarize, Tally } from '../src/stats.js';

test('computes exact percentiles by interpolation between ranks', () => {
  assert.equal(quantileSorted([1, 2, 3, 4, 5], 0.5), 3);
  assert.equal(quantileSorted([0, 10], 0.99), 9.9);
  assert.equal(percentile([10, 0, 5], 75), 7.5, 'percentile sorts its input first');
  assert.ok(Number.isNaN(quantileSorted([], 0.5)));
  const s = summarize([5, 1, 4, 2, 3]);
  assert.deepEqual([s.count, s.meanMs, s.p50Ms, s.maxMs], [5, 3, 3, 5]);
});

test('interpolates and extrapolates piecewise-linearly', () => {
  const pts = [
    { x: 1, y: 2 },
    { x: 4, y: 5 },
    { x: 8, y: 13 },
  ];
  assert.equal(interpolate(pts, 2), 3);
  assert.equal(interpolate(pts, 6), 9);
  assert.equal(interpolate(pts, 10), 17);
  assert.equal(interpolate(pts, 0), 1);
});

test('means, least-squares slopes and tallies', () => {
  assert.equal(mean([1, 2, 6]), 3);
  assert.equal(slope([0, 1, 2, 3], [1, 3, 5, 7]), 2);
  assert.ok(Number.isNaN(slope([1, 1], [2, 3])), 'no slope over a single x');
  const tally = new Tally();
  tally.add(503);
  tally.add('200', 2);
  tally.add(503);
  assert.deepEqual(tally.toObject(), { 200: 2, 503: 2 });
  assert.equal(tally.get('404'), 0);
});
