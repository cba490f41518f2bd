/**
 * Seed -> latent z: a public contract (README "Seeds"), reproduced by scripts/reference/latent.py.
 *
 * 1. SplitMix64 over a 64-bit state initialised to the seed (an integer 0..2^32-1).
 * 2. Uniform doubles: u = (next() >> 11) * 2^-53, in [0, 1).
 * 3. Normals by Box-Muller, two per pair of uniforms (u1 then u2):
 *    r = sqrt(-2 ln(1 - u1)), n0 = r cos(2 pi u2), n1 = r sin(2 pi u2); n0 is used first.
 * 4. Truncation psi (optional, 0 < psi <= 1): BigGAN's truncation trick. Each value with |v| > 2 is
 *    replaced by the next normal from the stream until |v| <= 2, then every value is multiplied by psi.
 *    Without psi, the plain normals are used.
 * 5. The values are rounded to float32.
 * The latent depends only on the seed and truncation, not on the class, so one seed across classes
 * shows the same "pose" in every class.
 */

const MASK64 = (1n << 64n) - 1n;
const GOLDEN_GAMMA = 0x9e3779b97f4a7c15n;
export const MAX_SEED = 2 ** 32 - 1;
/** Truncated values are redrawn past this magnitude (before scaling by psi). */
export const TRUNCATION_BOUND = 2;

class SplitMix64 {
  private state: bigint;
  constructor(seed: number) {
    this.state = BigInt(seed) & MASK64;
  }
  nextUint64(): bigint {
    this.state = (this.state + GOLDEN_GAMMA) & MASK64;
    let z = this.state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
    return z ^ (z >> 31n);
  }
  /** A double in [0, 1) from the top 53 bits. */
  nextUniform(): number {
    return Number(this.nextUint64() >> 11n) * 2 ** -53;
  }
}

class NormalStream {
  private readonly rng: SplitMix64;
  private spare: number | undefined;
  constructor(seed: number) {
    this.rng = new SplitMix64(seed);
  }
  next(): number {
    if (this.spare !== undefined) {
      const v = this.spare;
      this.spare = undefined;
      return v;
    }
    const u1 = this.rng.nextUniform();
    const u2 = this.rng.nextUniform();
    const r = Math.sqrt(-2 * Math.log(1 - u1));
    this.spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }
}

export function isValidSeed(seed: number): boolean {
  return Number.isInteger(seed) && seed >= 0 && seed <= MAX_SEED;
}

/**
 * Writes the latent for `seed` into `out` (length = latent dim). `truncation` undefined means none.
 * Throws RangeError on an invalid seed or truncation (callers validate first; this is a guard).
 */
export function fillLatent(out: Float32Array, seed: number, truncation?: number): Float32Array {
  if (!isValidSeed(seed)) throw new RangeError(`seed must be an integer in 0..${MAX_SEED}, got ${seed}`);
  if (truncation !== undefined && !(truncation > 0 && truncation <= 1)) throw new RangeError(`truncation must be in (0, 1], got ${truncation}`);
  const normals = new NormalStream(seed);
  for (let i = 0; i < out.length; i++) {
    let v = normals.next();
    if (truncation !== undefined) {
      while (Math.abs(v) > TRUNCATION_BOUND) v = normals.next();
      v *= truncation;
    }
    out[i] = v;
  }
  return out;
}

export function latentForSeed(seed: number, dim: number, truncation?: number): Float32Array {
  return fillLatent(new Float32Array(dim), seed, truncation);
}

/** The seed of sample i of a request for n samples starting at `seed` (wraps at 2^32). */
export function sampleSeed(seed: number, index: number): number {
  return (seed + index) % (MAX_SEED + 1);
}

/** A random seed for requests that give none (returned to the client in X-Seed). */
export function randomSeed(): number {
  return Math.floor(Math.random() * (MAX_SEED + 1));
}
