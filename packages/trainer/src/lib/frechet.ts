/**
 * Fréchet distance between two Gaussians fitted to feature sets (the formula behind FID, here over a
 * small classifier's penultimate features, so the numbers are NOT comparable with published FID):
 *
 *   FD = |mu1 - mu2|^2 + Tr(S1) + Tr(S2) - 2 Tr((S1 S2)^(1/2))
 *
 * with Tr((S1 S2)^(1/2)) = sum_i sqrt(lambda_i(S1^(1/2) S2 S1^(1/2))), eigenvalues from a cyclic
 * Jacobi eigensolver in float64.
 */

export interface Gaussian {
  mean: Float64Array;
  cov: Float64Array;
  dim: number;
  count: number;
}

/** Mean and (unbiased) covariance of `count` row-major feature vectors of length dim. */
export function fitGaussian(features: Float32Array | Float64Array, dim: number): Gaussian {
  const count = features.length / dim;
  if (!Number.isInteger(count) || count < 2)
    throw new Error(`need at least 2 feature vectors of length ${dim}, got ${features.length / dim}`);
  const mean = new Float64Array(dim);
  for (let n = 0; n < count; n++) for (let i = 0; i < dim; i++) mean[i] += features[n * dim + i];
  for (let i = 0; i < dim; i++) mean[i] /= count;
  const cov = new Float64Array(dim * dim);
  const centred = new Float64Array(dim);
  for (let n = 0; n < count; n++) {
    for (let i = 0; i < dim; i++) centred[i] = features[n * dim + i] - mean[i];
    for (let i = 0; i < dim; i++) {
      const ci = centred[i];
      if (ci === 0) continue;
      for (let j = i; j < dim; j++) cov[i * dim + j] += ci * centred[j];
    }
  }
  for (let i = 0; i < dim; i++) {
    for (let j = i; j < dim; j++) {
      const v = cov[i * dim + j] / (count - 1);
      cov[i * dim + j] = v;
      cov[j * dim + i] = v;
    }
  }
  return { mean, cov, dim, count };
}

/** Eigen-decomposition of a symmetric matrix (cyclic Jacobi): values and row-major eigenvectors (columns). */
export function symmetricEigen(
  matrix: Float64Array,
  n: number,
  maxSweeps = 100,
): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    let diag = 0;
    for (let i = 0; i < n; i++) {
      diag += a[i * n + i] * a[i * n + i];
      for (let j = i + 1; j < n; j++) off += a[i * n + j] * a[i * n + j];
    }
    if (off <= 1e-30 * Math.max(diag, 1e-300) || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const app = a[p * n + p];
        const aqq = a[q * n + q];
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = a[i * n + i];
  return { values, vectors: v };
}

/** Symmetric PSD square root (negative eigenvalues from rounding clipped to 0). */
function sqrtPsd(m: Float64Array, n: number): Float64Array {
  const { values, vectors } = symmetricEigen(m, n);
  const out = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const s = Math.sqrt(Math.max(values[k], 0));
    if (s === 0) continue;
    for (let i = 0; i < n; i++) {
      const vik = vectors[i * n + k] * s;
      for (let j = 0; j < n; j++) out[i * n + j] += vik * vectors[j * n + k];
    }
  }
  return out;
}

function matmul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k];
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j] += aik * b[k * n + j];
    }
  }
  return out;
}

export function frechetDistance(g1: Gaussian, g2: Gaussian): number {
  const n = g1.dim;
  if (g2.dim !== n) throw new Error('feature dimensions differ');
  let meanTerm = 0;
  for (let i = 0; i < n; i++) meanTerm += (g1.mean[i] - g2.mean[i]) ** 2;
  let tr1 = 0;
  let tr2 = 0;
  for (let i = 0; i < n; i++) {
    tr1 += g1.cov[i * n + i];
    tr2 += g2.cov[i * n + i];
  }
  const s1h = sqrtPsd(g1.cov, n);
  const inner = matmul(matmul(s1h, g2.cov, n), s1h, n);
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const v = (inner[i * n + j] + inner[j * n + i]) / 2;
      inner[i * n + j] = v;
      inner[j * n + i] = v;
    }
  const { values } = symmetricEigen(inner, n);
  let trSqrt = 0;
  for (const v of values) trSqrt += Math.sqrt(Math.max(v, 0));
  return Math.max(0, meanTerm + tr1 + tr2 - 2 * trSqrt);
}
