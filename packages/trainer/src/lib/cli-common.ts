/** Option parsers and small formatting helpers shared by the trainer's command-line scripts. */
import { InvalidArgumentError, Option } from 'commander';
import { BACKEND_CHOICES, type BackendChoice } from './backend.js';

export function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`not an integer: '${value}'`);
  return n;
}

export function positiveInt(value: string): number {
  const n = integer(value);
  if (n < 1) throw new InvalidArgumentError(`must be >= 1: '${value}'`);
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = integer(value);
  if (n < 0) throw new InvalidArgumentError(`must be >= 0: '${value}'`);
  return n;
}

export function float(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`not a number: '${value}'`);
  return n;
}

export function side(value: string): number | null {
  if (value === 'none') return null;
  return positiveInt(value);
}

export function intList(value: string): number[] {
  return value.split(',').map((v) => positiveInt(v.trim()));
}

export function backendChoice(value: string): BackendChoice {
  if (!(BACKEND_CHOICES as readonly string[]).includes(value))
    throw new InvalidArgumentError(`backend must be one of ${BACKEND_CHOICES.join(', ')}`);
  return value as BackendChoice;
}

/** --backend, with the choices and what `auto` picks. */
export function backendOption(what: string, defaultChoice: BackendChoice): Option {
  return new Option(
    '--backend <name>',
    `${what}: auto (webgpu on a GPU, else torch, else cpu), torch, webgpu, tensorflow (needs @tensorflow/tfjs-node), cpu`,
  )
    .argParser(backendChoice)
    .default(defaultChoice);
}

/**
 * The most threads --threads takes: the torch backend's MAX_THREADS (its addon refuses more; libtorch
 * starts its thread pools at the requested size). Repeated here so that the option is checked while the
 * command line is parsed, before any backend loads; test/cli.test.ts checks that the two agree.
 */
export const MAX_THREADS = 1024;

export function threadCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_THREADS)
    throw new InvalidArgumentError(`must be an integer from 1 to ${MAX_THREADS}: '${value}'`);
  return n;
}

/** --threads: the torch backend's libtorch threads. */
export function threadsOption(): Option {
  return new Option(
    '--threads <n>',
    `torch backend: libtorch threads, 1 to ${MAX_THREADS} (default: every core)`,
  ).argParser(threadCount);
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** Runs main, printing errors as one line (stack with DEBUG=1) and setting the exit code. */
export function runMain(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    const e = err instanceof Error ? err : new Error(String(err));
    console.error(`error: ${process.env.DEBUG ? e.stack : e.message}`);
    process.exitCode = 1;
  });
}
