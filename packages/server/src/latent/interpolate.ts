/**
 * Latent interpolation between two latents z0 and z1 (same length d), for t in [0, 1].
 * The formulas are a public contract (openapi.yaml, `interpolate`); all arithmetic is in double
 * precision on the float32 inputs, and each result is rounded to float32.
 *
 *   lerp:   z(t) = (1 - t) * z0 + t * z1
 *
 *   slerp:  cos_omega = clamp(<z0, z1> / (|z0| |z1|), -1, 1),  omega = acos(cos_omega)
 *           z(t) = sin((1 - t) * omega) / sin(omega) * z0 + sin(t * omega) / sin(omega) * z1
 *           falling back to lerp when |z0| = 0, |z1| = 0 or sin(omega) < 1e-6 (parallel latents).
 *
 * Spherical interpolation keeps the norm of Gaussian latents near sqrt(d), where the generator was
 * trained; linear interpolation passes through shorter latents in the middle (washed-out images).
 * Both give exactly z0 at t = 0 and exactly z1 at t = 1.
 */

export type InterpolationMode = 'lerp' | 'slerp';
export const INTERPOLATION_MODES: readonly InterpolationMode[] = ['lerp', 'slerp'];

/** Below this sin(omega) the latents are treated as parallel and slerp falls back to lerp. */
export const SLERP_EPSILON = 1e-6;

/** Weights (a, b) with z(t) = a * z0 + b * z1. */
export function interpolationWeights(
  z0: ArrayLike<number>,
  z1: ArrayLike<number>,
  t: number,
  mode: InterpolationMode,
): [number, number] {
  if (z0.length !== z1.length) throw new RangeError(`latents differ in length: ${z0.length} vs ${z1.length}`);
  if (!(t >= 0 && t <= 1)) throw new RangeError(`t must be in [0, 1], got ${t}`);
  if (mode === 'slerp') {
    let dot = 0;
    let n0 = 0;
    let n1 = 0;
    for (let i = 0; i < z0.length; i++) {
      dot += z0[i] * z1[i];
      n0 += z0[i] * z0[i];
      n1 += z1[i] * z1[i];
    }
    if (n0 > 0 && n1 > 0) {
      const omega = Math.acos(Math.min(1, Math.max(-1, dot / (Math.sqrt(n0) * Math.sqrt(n1)))));
      const sinOmega = Math.sin(omega);
      if (sinOmega >= SLERP_EPSILON) return [Math.sin((1 - t) * omega) / sinOmega, Math.sin(t * omega) / sinOmega];
    }
  } else if (mode !== 'lerp') {
    throw new RangeError(`unknown interpolation mode ${String(mode)}`);
  }
  return [1 - t, t];
}

/** Writes z(t) into `out` (length d). */
export function interpolateLatent(
  out: Float32Array,
  z0: ArrayLike<number>,
  z1: ArrayLike<number>,
  t: number,
  mode: InterpolationMode,
): Float32Array {
  if (out.length !== z0.length) throw new RangeError(`out has ${out.length} values, latents have ${z0.length}`);
  const [a, b] = interpolationWeights(z0, z1, t, mode);
  for (let i = 0; i < out.length; i++) out[i] = a * z0[i] + b * z1[i];
  return out;
}

/** `steps` latents, row-major [steps, d]: row i is z(i / (steps - 1)). */
export function interpolationPath(
  z0: Float32Array,
  z1: Float32Array,
  steps: number,
  mode: InterpolationMode,
): Float32Array {
  if (!Number.isInteger(steps) || steps < 2) throw new RangeError(`steps must be an integer >= 2, got ${steps}`);
  const d = z0.length;
  const out = new Float32Array(steps * d);
  for (let i = 0; i < steps; i++) interpolateLatent(out.subarray(i * d, (i + 1) * d), z0, z1, i / (steps - 1), mode);
  return out;
}
