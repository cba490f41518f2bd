import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { latentForSeed, MAX_SEED, sampleSeed, TRUNCATION_BOUND } from '../src/seeded-latent.js';

const REFERENCE = fileURLToPath(new URL('../../reference/latent.py', import.meta.url));

function pythonLatent(seed: number, dim: number, truncation?: number): number[] {
  const args = [REFERENCE, String(seed), String(dim), ...(truncation === undefined ? [] : [String(truncation)])];
  return JSON.parse(execFileSync('python3', args, { encoding: 'utf8' })) as number[];
}

test('the documented algorithm, implemented independently in Python, gives the same z', () => {
  for (const [seed, truncation] of [
    [0, undefined],
    [7, undefined],
    [MAX_SEED, undefined],
    [123456, 0.5],
    [42, 1],
  ] as const) {
    const ours = latentForSeed(seed, 128, truncation);
    const theirs = pythonLatent(seed, 128, truncation);
    assert.equal(theirs.length, 128);
    for (let i = 0; i < 128; i++)
      assert.ok(
        Math.abs(ours[i] - theirs[i]) <= 1e-6 * Math.max(1, Math.abs(theirs[i])),
        `seed ${seed} z[${i}]: ${ours[i]} vs ${theirs[i]}`,
      );
  }
});

test('same seed gives identical bytes; different seeds differ; values look standard normal', () => {
  assert.deepEqual(latentForSeed(99, 128), latentForSeed(99, 128));
  assert.notDeepEqual(latentForSeed(99, 128), latentForSeed(100, 128));
  const many = latentForSeed(5, 100_000);
  const mean = many.reduce((s, v) => s + v, 0) / many.length;
  const variance = many.reduce((s, v) => s + (v - mean) ** 2, 0) / many.length;
  assert.ok(Math.abs(mean) < 0.02, `mean ${mean}`);
  assert.ok(Math.abs(variance - 1) < 0.03, `variance ${variance}`);
});

test('truncation bounds every value by 2 psi and is deterministic', () => {
  const z = latentForSeed(3, 50_000, 0.7);
  for (const v of z) assert.ok(Math.abs(v) <= TRUNCATION_BOUND * 0.7 + 1e-6);
  assert.ok(
    z.some((v) => Math.abs(v) > 1.3),
    'values near the bound still occur',
  );
  assert.deepEqual(latentForSeed(3, 64, 0.7), latentForSeed(3, 64, 0.7));
});

test('seeds out of range or non-integers are refused; sample seeds wrap at 2^32', () => {
  assert.throws(() => latentForSeed(-1, 4), RangeError);
  assert.throws(() => latentForSeed(MAX_SEED + 1, 4), RangeError);
  assert.throws(() => latentForSeed(1.5, 4), RangeError);
  assert.throws(() => latentForSeed(1, 4, 0), RangeError);
  assert.equal(sampleSeed(MAX_SEED, 1), 0);
  assert.equal(sampleSeed(10, 3), 13);
});

/** The README's SplitMix64 / Box-Muller / truncation steps written directly with BigInt: the oracle. */
function bigintLatent(seed: number, dim: number, truncation?: number): Float32Array {
  const mask = (1n << 64n) - 1n;
  let state = BigInt(seed);
  const uniform = (): number => {
    state = (state + 0x9e3779b97f4a7c15n) & mask;
    let z = state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & mask;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & mask;
    z ^= z >> 31n;
    return Number(z >> 11n) * 2 ** -53;
  };
  let spare: number | undefined;
  const normal = (): number => {
    if (spare !== undefined) {
      const v = spare;
      spare = undefined;
      return v;
    }
    const u1 = uniform();
    const u2 = uniform();
    const r = Math.sqrt(-2 * Math.log(1 - u1));
    spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  };
  const out = new Float32Array(dim);
  for (let i = 0; i < dim; i++) {
    let v = normal();
    if (truncation !== undefined) {
      while (Math.abs(v) > TRUNCATION_BOUND) v = normal();
      v *= truncation;
    }
    out[i] = v;
  }
  return out;
}

test('the 32-bit SplitMix64 gives bit-identical latents to 64-bit BigInt arithmetic', () => {
  const seeds = [0, 1, 2, 0x7fffffff, 0x80000000, 0xdeadbeef, MAX_SEED - 1, MAX_SEED];
  let x = 12345;
  for (let i = 0; i < 3000; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    seeds.push(x);
  }
  for (const seed of seeds) {
    for (const truncation of [undefined, 0.5]) {
      assert.deepEqual(
        latentForSeed(seed, 64, truncation),
        bigintLatent(seed, 64, truncation),
        `seed ${seed}, truncation ${truncation}`,
      );
    }
  }
});
