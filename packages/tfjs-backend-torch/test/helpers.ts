/** Test helpers: register the torch backend (or say why it cannot run here) and compare it with the cpu backend. */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
// the union package registers the cpu backend and every op's gradient
import '@tensorflow/tfjs';
import { registerTorchBackend, TorchBackendUnavailableError } from '../src/index.js';

/**
 * Registers the backend. Returns a skip reason only when libtorch itself is not installed (tests are then
 * reported as skipped with that reason); any other failure (libtorch installed but the addon missing or
 * broken) is thrown, so that a machine with libtorch never skips silently.
 */
export function torchOrSkip(): string | undefined {
  try {
    registerTorchBackend({ threads: 2 });
    return undefined;
  } catch (err) {
    if (err instanceof TorchBackendUnavailableError && err.reason === 'libtorch-missing')
      return `torch backend not available here: ${err.message}`;
    throw err;
  }
}

/** A deterministic pseudo-random Float32Array (values in [-scale, scale)). */
export function values(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = (((s >>> 0) / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

/** Runs `f` on the cpu and the torch backends and returns both results as host arrays. */
export async function onBoth(
  f: () => tf.Tensor | tf.Tensor[],
): Promise<{ cpu: ArrayLike<number>[]; torch: ArrayLike<number>[]; shapes: number[][] }> {
  const read = async (backend: string): Promise<{ data: ArrayLike<number>[]; shapes: number[][] }> => {
    await tf.setBackend(backend);
    const out = tf.tidy(f);
    const list = Array.isArray(out) ? out : [out];
    const data = await Promise.all(list.map((t) => t.data() as Promise<ArrayLike<number>>));
    const shapes = list.map((t) => t.shape);
    tf.dispose(list);
    return { data, shapes };
  };
  const cpu = await read('cpu');
  const torch = await read('torch');
  assert.deepEqual(torch.shapes, cpu.shapes, 'output shapes');
  return { cpu: cpu.data, torch: torch.data, shapes: cpu.shapes };
}

/** max |a - b| / max(1, max |b|) over all outputs. */
export function maxRelDiff(a: ArrayLike<number>[], b: ArrayLike<number>[]): number {
  let worst = 0;
  a.forEach((x, k) => {
    const y = b[k];
    assert.equal(x.length, y.length);
    let scale = 1;
    for (let i = 0; i < y.length; i++) if (Number.isFinite(y[i])) scale = Math.max(scale, Math.abs(y[i]));
    for (let i = 0; i < x.length; i++) {
      if (Number.isNaN(x[i]) !== Number.isNaN(y[i])) worst = Infinity;
      else if (!Number.isNaN(x[i])) worst = Math.max(worst, Math.abs(x[i] - y[i]) / scale);
    }
  });
  return worst;
}
