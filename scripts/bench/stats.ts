/** Small statistics helpers for the benchmark scripts (exact percentiles over recorded samples). */

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

export function summarize(samplesMs: readonly number[]): LatencySummary {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const sum = sorted.reduce((s, v) => s + v, 0);
  return {
    count: sorted.length,
    meanMs: sorted.length ? sum / sorted.length : Number.NaN,
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

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
