/** Reads values out of Prometheus text exposition (what GET /metrics returns): the one parser the scripts and tests use. */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

/** Sum of every sample of `name` whose labels include `labels` (0 when there is none). */
export function metricValue(text: string | Sample[], name: string, labels: Record<string, string> = {}): number {
  const samples = typeof text === 'string' ? parseMetrics(text) : text;
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

/** Sums of every sample of `name` grouped by the value of `label` (e.g. rejections by reason). */
export function valuesByLabel(text: string | Sample[], name: string, label: string): Record<string, number> {
  const samples = typeof text === 'string' ? parseMetrics(text) : text;
  const out: Record<string, number> = {};
  for (const s of samples) {
    if (s.name !== name) continue;
    const key = s.labels[label] ?? '';
    out[key] = (out[key] ?? 0) + s.value;
  }
  return out;
}

/** Cumulative bucket counts of histogram `name` (summed over label sets matching `labels`), by upper bound. */
export function histogramBuckets(
  text: string | Sample[],
  name: string,
  labels: Record<string, string> = {},
): Array<{ le: number; count: number }> {
  const samples = typeof text === 'string' ? parseMetrics(text) : text;
  const byLe = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== `${name}_bucket` || !Object.entries(labels).every(([k, v]) => s.labels[k] === v)) continue;
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  return [...byLe].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
}

/** The smallest bucket bound holding at least fraction q of the observations (an upper bound on the quantile). */
export function histogramQuantileBound(buckets: Array<{ le: number; count: number }>, q: number): number {
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return NaN;
  return buckets.find((b) => b.count >= q * total)?.le ?? Infinity;
}
