/**
 * The timing loops the raw measurements share: back to back (bench/raw.ts in the bench's thread,
 * bench/raw-instance.ts in each instance's, bench-png.ts) and with several calls in flight (the PNG
 * ceilings of bench/raw.ts and bench-png.ts).
 */

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
export async function timeRuns(
  run: () => Promise<unknown>,
  options: { seconds: number; warmupRuns: number; pauseMs?: number },
): Promise<TimedRuns> {
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

/**
 * Keeps `concurrency` calls of `run` in flight until about `seconds` have passed (no call starts after
 * that); call numbers are 0, 1, 2, ... across all of them. Returns how many calls finished and the wall
 * seconds from the first start to the last finish.
 */
export async function timeConcurrently(
  run: (call: number) => Promise<unknown>,
  options: { seconds: number; concurrency: number },
): Promise<{ calls: number; wallSeconds: number }> {
  let calls = 0;
  const t0 = performance.now();
  const deadline = t0 + options.seconds * 1000;
  const lane = async (k: number): Promise<void> => {
    for (let call = k; performance.now() < deadline; call += options.concurrency) {
      await run(call);
      calls++;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, k) => lane(k)));
  return { calls, wallSeconds: (performance.now() - t0) / 1000 };
}
