/**
 * Background-thread priority. The HTTP thread answers /healthz, admits or refuses requests and writes
 * responses; inference and rendering are throughput work that can wait a few milliseconds. When they
 * share too few cores (a 2-core box runs ORT's threads, the render threads and the event loop), the
 * kernel splits the CPU evenly between runnable threads and the event loop waits its turn. Raising the
 * nice value of the compute threads makes the scheduler run the HTTP thread first whenever it is
 * runnable; they still get every cycle it leaves.
 *
 * Linux only: there, setpriority(PRIO_PROCESS, 0) changes the calling thread alone, and threads the
 * caller creates afterwards (ONNX Runtime's intra-op pool) inherit it. Elsewhere it would renice the
 * whole process, so it does nothing.
 *
 * Not covered: libuv's threadpool, where sharp's pipelines (resizing, JPEG, WebP, large PNG; not the
 * default PNG, which a render thread writes itself) actually run. Node creates it while loading the
 * ES modules, from the main thread, before this code can run. Creating it from a niced thread first (a
 * CommonJS preload) was measured: /healthz p99 about 1 ms lower, 64-client throughput about 7% lower
 * (BENCHMARKS.md, "second pass"); not kept.
 */
import { getPriority, setPriority } from 'node:os';

/** Nice values run from -20 (first) to 19 (last). */
const LOWEST_PRIORITY = 19;

/**
 * Adds `increment` (0-19) to the calling thread's nice value; returns the nice value now in effect,
 * or undefined where thread priorities are not supported or the kernel refused.
 */
export function lowerThisThreadPriority(increment: number): number | undefined {
  if (process.platform !== 'linux' || increment <= 0) return undefined;
  try {
    setPriority(0, Math.min(LOWEST_PRIORITY, getPriority(0) + increment));
    return getPriority(0);
  } catch {
    return undefined;
  }
}
