/**
 * The statistics every script reports with (benchmarks, overload, soak, training comparisons), so that a
 * "p99" means the same thing in BENCHMARKS.md and RELIABILITY.md: exact quantiles over the recorded
 * samples by linear interpolation between the closest ranks (numpy's default, R's type 7).
 */

export interface LatencySummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** The q-quantile (0..1) of ascending-sorted values, by linear interpolation between closest ranks. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** The p-th percentile (0..100) of unsorted values: quantileSorted of a sorted copy. */
export function percentile(values: readonly number[], p: number): number {
  return quantileSorted(
    [...values].sort((a, b) => a - b),
    p / 100,
  );
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((s, v) => s + v, 0) / values.length;
}

/** Least-squares slope of y over x (units of y per unit of x). */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return Number.NaN;
  const mx = mean(xs.slice(0, n));
  const my = mean(ys.slice(0, n));
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? Number.NaN : num / den;
}

export const MiB = 1024 * 1024;

/** Counts occurrences of each key. */
export class Tally {
  readonly counts = new Map<string, number>();
  add(key: string | number, by = 1): void {
    const k = String(key);
    this.counts.set(k, (this.counts.get(k) ?? 0) + by);
  }
  get(key: string | number): number {
    return this.counts.get(String(key)) ?? 0;
  }
  toObject(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b)));
  }
}

export function summarize(samplesMs: readonly number[]): LatencySummary {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  return {
    count: sorted.length,
    meanMs: mean(sorted),
    p50Ms: quantileSorted(sorted, 0.5),
    p95Ms: quantileSorted(sorted, 0.95),
    p99Ms: quantileSorted(sorted, 0.99),
    maxMs: sorted.length ? sorted[sorted.length - 1] : Number.NaN,
  };
}

/**
 * Piecewise-linear interpolation of y(x) through points sorted by x; outside the range the nearest
 * segment is extended (clamped to the end value when only one point exists).
 */
export function interpolate(points: ReadonlyArray<{ x: number; y: number }>, x: number): number {
  const p = [...points].sort((a, b) => a.x - b.x);
  if (p.length === 0) return Number.NaN;
  if (p.length === 1) return p[0].y;
  let i = p.findIndex((pt) => pt.x >= x);
  if (i <= 0) i = i === 0 ? 1 : p.length - 1;
  const a = p[i - 1];
  const b = p[i];
  return a.y + ((b.y - a.y) * (x - a.x)) / (b.x - a.x);
}

/** Rounds for display/JSON: n significant decimals, keeping NaN as null-friendly NaN. */
export function round(value: number, decimals = 2): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}
