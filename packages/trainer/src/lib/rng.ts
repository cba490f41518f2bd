/**
 * Seeded, serialisable random numbers for the trainer (data order, flips, z, classes, DiffAugment).
 * Every random draw of a training step comes from here, on the JavaScript side, so a checkpoint that
 * stores `state()` resumes the exact same stream (tfjs's own random ops keep no exportable state).
 *
 * xoshiro128** (Blackman & Vigna) over four 32-bit words, seeded through splitmix32.
 */

export type RngState = [number, number, number, number];

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Mixes several integers into one 32-bit seed (for derived streams, e.g. seed x epoch). */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    const next = splitmix32((h ^ (p >>> 0)) >>> 0);
    h = next();
    h = Math.imul(h ^ (p >>> 0), 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export class Rng {
  private s: Uint32Array;

  constructor(seed: number | RngState) {
    this.s = new Uint32Array(4);
    if (Array.isArray(seed)) {
      this.s.set(seed.map((v) => v >>> 0));
    } else {
      const sm = splitmix32(seed);
      for (let i = 0; i < 4; i++) this.s[i] = sm();
    }
    if (this.s[0] === 0 && this.s[1] === 0 && this.s[2] === 0 && this.s[3] === 0) this.s[0] = 1;
  }

  state(): RngState {
    return [this.s[0], this.s[1], this.s[2], this.s[3]];
  }

  /** Next 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Fills `out` with N(mean, std^2) values (Box-Muller, pairs). */
  fillNormal(out: Float32Array, mean = 0, std = 1): Float32Array {
    for (let i = 0; i < out.length; i += 2) {
      const r = Math.sqrt(-2 * Math.log(1 - this.uniform()));
      const theta = 2 * Math.PI * this.uniform();
      out[i] = mean + std * r * Math.cos(theta);
      if (i + 1 < out.length) out[i + 1] = mean + std * r * Math.sin(theta);
    }
    return out;
  }

  normal(count: number, mean = 0, std = 1): Float32Array {
    return this.fillNormal(new Float32Array(count), mean, std);
  }

  /** Fills with U(lo, hi). */
  fillUniform(out: Float32Array, lo = 0, hi = 1): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = lo + (hi - lo) * this.uniform();
    return out;
  }

  /** In-place Fisher-Yates shuffle. */
  shuffle<T>(items: T[] | Int32Array | Uint32Array): void {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** A permutation of 0..n-1 that depends only on (seed, epoch). */
export function epochPermutation(n: number, seed: number, epoch: number): Int32Array {
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  new Rng(mixSeed(seed, epoch, 0x5eed)).shuffle(perm);
  return perm;
}
