/** The timing loop every raw measurement shares (bench/raw.ts in the bench's thread, bench/raw-instance.ts in each instance's). */

export interface TimedRuns {
  /** ms of each timed call. */
  times: number[];
  /** From the first timed call to the end of the last, pauses included. */
  wallSeconds: number;
}

/**
 * Calls `run` `warmupRuns` times untimed, then times it back to back for about `seconds` (at least 3
 * calls). With `pauseMs`, sleeps that long before each timed call; the sleep is not in `times`.
 */
export async function timeRuns(run: () => Promise<unknown>, options: { seconds: number; warmupRuns: number; pauseMs?: number }): Promise<TimedRuns> {
  for (let i = 0; i < options.warmupRuns; i++) await run();
  const times: number[] = [];
  const t0 = performance.now();
  while (times.length < 3 || performance.now() - t0 < options.seconds * 1000) {
    if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
    const s = performance.now();
    await run();
    times.push(performance.now() - s);
  }
  return { times, wallSeconds: (performance.now() - t0) / 1000 };
}
