/**
 * Seed -> latent z: a public contract (README "Seeds"), reproduced by reference/latent.py.
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
 * SplitMix64 in two unsigned 32-bit halves: words[0] is the high half of the state, words[1] the low;
 * words[2..3] hold the last product. Same numbers as 64-bit BigInt arithmetic (a test checks them bit for
 * bit), without its heap garbage: BigInt allocated about a thousand objects per latent, and so do doubles
 * kept in object fields or returned from calls that are not inlined, which is why the state lives in a
 * Uint32Array and the result goes into `uniform[0]`. Products mod 2^64 are formed from
 * 16-bit limbs so every partial product is exact in a double.
 */
function nextUniform(words: Uint32Array, uniform: Float64Array): void {
  // state += 0x9e3779b97f4a7c15
  const previousLo = words[1];
  const lo = (previousLo + 0x7f4a7c15) >>> 0;
  const hi = (words[0] + 0x9e3779b9 + (lo < previousLo ? 1 : 0)) >>> 0;
  words[0] = hi;
  words[1] = lo;
  // z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
  mul64(words, hi ^ (hi >>> 30), lo ^ ((lo >>> 30) | (hi << 2)), 0xbf58476d | 0, 0x1ce4e5b9);
  let zHi = words[2];
  let zLo = words[3];
  // z = (z ^ (z >> 27)) * 0x94d049bb133111eb
  mul64(words, zHi ^ (zHi >>> 27), zLo ^ ((zLo >>> 27) | (zHi << 5)), 0x94d049bb | 0, 0x133111eb);
  zHi = words[2];
  zLo = words[3];
  // z ^= z >> 31; u = (z >> 11) * 2^-53
  const outLo = (zLo ^ ((zLo >>> 31) | (zHi << 1))) >>> 0;
  const outHi = (zHi ^ (zHi >>> 31)) >>> 0;
  uniform[0] = (outHi * 2 ** 21 + (outLo >>> 11)) * 2 ** -53;
}

/**
 * (aHi:aLo) * (bHi:bLo) mod 2^64 into out[2] (high word), out[3] (low), from 16-bit limbs. The words are
 * passed as int32 (the same 32 bits): values of 2^31 and above would be passed as boxed doubles.
 */
function mul64(out: Uint32Array, aHi: number, aLo: number, bHi: number, bLo: number): void {
  const a48 = aHi >>> 16,
    a32 = aHi & 0xffff,
    a16 = aLo >>> 16,
    a00 = aLo & 0xffff;
  const b48 = bHi >>> 16,
    b32 = bHi & 0xffff,
    b16 = bLo >>> 16,
    b00 = bLo & 0xffff;
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
  out[2] = (c48 << 16) | c32;
  out[3] = (c16 << 16) | c00;
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
  if (truncation !== undefined && !(truncation > 0 && truncation <= 1))
    throw new RangeError(`truncation must be in (0, 1], got ${truncation}`);
  const words = new Uint32Array(4);
  words[1] = seed;
  const uniform = new Float64Array(1);
  // Box-Muller gives normals in pairs; the second (sine) one is used next.
  let spare = 0;
  let hasSpare = false;
  let i = 0;
  while (i < out.length) {
    let v: number;
    if (hasSpare) {
      v = spare;
      hasSpare = false;
    } else {
      nextUniform(words, uniform);
      const u1 = uniform[0];
      nextUniform(words, uniform);
      const u2 = uniform[0];
      const r = Math.sqrt(-2 * Math.log(1 - u1));
      spare = r * Math.sin(2 * Math.PI * u2);
      hasSpare = true;
      v = r * Math.cos(2 * Math.PI * u2);
    }
    if (truncation !== undefined) {
      // Redraw: the value is replaced by the next normal from the stream.
      if (Math.abs(v) > TRUNCATION_BOUND) continue;
      v *= truncation;
    }
    out[i++] = v;
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
