/** Output helpers: markdown-style tables (readable in a terminal, pasteable into BENCHMARKS.md) and JSON files. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InvalidArgumentError } from 'commander';

export type Cell = string | number | undefined;

export function fmt(value: number | undefined, decimals = 1): string {
  if (value === undefined || !Number.isFinite(value)) return '-';
  return value.toFixed(decimals);
}

export function table(headers: string[], rows: Cell[][]): string {
  const text = rows.map((r) => r.map((c) => (c === undefined ? '-' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  const sep = `|${widths.map((w, i) => (i === 0 ? ` ${'-'.repeat(w)} ` : ` ${'-'.repeat(w - 1)}: `)).join('|')}|`;
  return [line(headers), sep, ...text.map(line)].join('\n');
}

export function timestamp(date = new Date()): string {
  return date.toISOString().replace(/[:]/g, '-').replace(/\..*$/, '');
}

/** Writes pretty JSON, creating the directory; NaN/Infinity become null. */
export async function writeJson(file: string, data: unknown): Promise<string> {
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const json = JSON.stringify(data, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2);
  await writeFile(file, `${json}\n`);
  return path.resolve(file);
}

export function intList(value: string): number[] {
  const list = value.split(',').map((v) => Number(v.trim()));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1))
    throw new InvalidArgumentError(`expected a comma-separated list of positive integers, got '${value}'`);
  return list;
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a positive number, got '${value}'`);
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a non-negative integer, got '${value}'`);
  return n;
}

/** Groups pino JSON log lines by level, message and error message: "50 request failed: client closed the connection" -> count. */
export function groupLogLines(lines: readonly string[]): Record<string, number> {
  const groups: Record<string, number> = {};
  for (const line of lines) {
    let key: string;
    try {
      const o = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
      key = `level ${o.level ?? '?'}: ${o.msg ?? ''}${o.err?.message ? `: ${o.err.message}` : ''}`;
    } catch {
      key = `raw: ${line.slice(0, 120)}`;
    }
    groups[key] = (groups[key] ?? 0) + 1;
  }
  return groups;
}
