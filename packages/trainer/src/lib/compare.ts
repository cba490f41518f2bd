/** Numeric comparisons used by the export parity check, the backend check and the tests. */

/** Largest |a[i] - b[i]|; Infinity for a length mismatch or any NaN difference. */
export function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

/** max |a - b| relative to max |b| (floored at 1e-12). Arrays must have the same length. */
export function maxRelativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    m = Math.max(m, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return m / Math.max(s, 1e-12);
}
