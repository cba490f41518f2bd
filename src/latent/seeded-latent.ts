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

export const MAX_SEED = 2 ** 32 - 1;
/** Truncated values are redrawn past this magnitude (before scaling by psi). */
export const TRUNCATION_BOUND = 2;

/**
 * SplitMix64 in two unsigned 32-bit halves (hi, lo). Same numbers as the BigInt formulation in the
 * header; BigInt allocated about a thousand heap objects per latent, which showed up as GC pauses on a
 * busy server. Products mod 2^64 are formed from 16-bit limbs so every partial product is exact in a double.
 */
class SplitMix64 {
  private hi = 0;
  private lo: number;
  constructor(seed: number) {
    this.lo = seed >>> 0;
  }

  /** The next output as a double in [0, 2^53): its top 53 bits. */
  nextTop53(): number {
    // state += 0x9e3779b97f4a7c15
    const lo = (this.lo + 0x7f4a7c15) >>> 0;
    this.hi = (this.hi + 0x9e3779b9 + (lo < this.lo ? 1 : 0)) >>> 0;
    this.lo = lo;
    let hi = this.hi;
    let lo2 = lo;
    // z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
    [hi, lo2] = mul64(hi, (lo2 ^ ((lo2 >>> 30) | (hi << 2))) >>> 0, 0xbf58476d, 0x1ce4e5b9, hi >>> 30);
    // z = (z ^ (z >> 27)) * 0x94d049bb133111eb
    [hi, lo2] = mul64(hi, (lo2 ^ ((lo2 >>> 27) | (hi << 5))) >>> 0, 0x94d049bb, 0x133111eb, hi >>> 27);
    // z ^= z >> 31, then keep the top 53 bits: z >> 11
    const zLo = (lo2 ^ ((lo2 >>> 31) | (hi << 1))) >>> 0;
    const zHi = (hi ^ (hi >>> 31)) >>> 0;
    return zHi * 2 ** 21 + (zLo >>> 11);
  }

  /** A double in [0, 1) from the top 53 bits. */
  nextUniform(): number {
    return this.nextTop53() * 2 ** -53;
  }
}

/**
 * ((aHi ^ aHiXor) : aLo) * (bHi : bLo) mod 2^64 as [hi, lo]; aHiXor folds in the high half of the
 * preceding xor-shift so callers need no temporary.
 */
function mul64(aHiIn: number, aLo: number, bHi: number, bLo: number, aHiXor: number): [number, number] {
  const aHi = (aHiIn ^ aHiXor) >>> 0;
  const a48 = aHi >>> 16, a32 = aHi & 0xffff, a16 = aLo >>> 16, a00 = aLo & 0xffff;
  const b48 = bHi >>> 16, b32 = bHi & 0xffff, b16 = bLo >>> 16, b00 = bLo & 0xffff;
  let c00 = a00 * b00;
  let c16 = c00 >>> 16;
  c00 &= 0xffff;
  c16 += a16 * b00;
  let c32 = c16 >>> 16;
  c16 &= 0xffff;
  c16 += a00 * b16;
  c32 += c16 >>> 16;
  c16 &= 0xffff;
  c32 += a32 * b00;
  let c48 = c32 >>> 16;
  c32 &= 0xffff;
  c32 += a16 * b16;
  c48 += c32 >>> 16;
  c32 &= 0xffff;
  c32 += a00 * b32;
  c48 += c32 >>> 16;
  c32 &= 0xffff;
  c48 += a48 * b00 + a32 * b16 + a16 * b32 + a00 * b48;
  c48 &= 0xffff;
  return [((c48 << 16) | c32) >>> 0, ((c16 << 16) | c00) >>> 0];
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
