/**
 * Where the machine's CPU time went during a level (Linux /proc): the server process, this bench
 * process (autocannon + the /healthz prober), and everything else. On a shared 2-core development VM,
 * "other" shows when someone else's work was competing with the measurement.
 */
import { readFileSync } from 'node:fs';
import { sleep } from '../reliability/http-client.js';

/** USER_HZ: /proc reports CPU times in 1/100 s on every mainstream Linux. */
const TICKS_PER_SECOND = 100;

export interface CpuSnapshot {
  atMs: number;
  /** Busy seconds of all CPUs together (everything but idle and iowait). */
  machineBusySeconds: number;
  serverSeconds: number;
  benchSeconds: number;
}

export interface CpuShare {
  /** Average cores busy over the interval. */
  machineCores: number;
  serverCores: number;
  benchCores: number;
  /** Busy cores not accounted for by the server or the bench: other processes. */
  otherCores: number;
}

function machineBusySeconds(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal
    const busy = v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] ?? 0);
    return busy / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

function processSeconds(pid: number): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Undefined where /proc is not available. */
export function cpuSnapshot(serverPid: number | undefined): CpuSnapshot | undefined {
  const machine = machineBusySeconds();
  const server = serverPid === undefined ? 0 : processSeconds(serverPid);
  if (machine === undefined || server === undefined) return undefined;
  const own = process.cpuUsage();
  return {
    atMs: performance.now(),
    machineBusySeconds: machine,
    serverSeconds: server,
    benchSeconds: (own.user + own.system) / 1e6,
  };
}

export function cpuShare(before: CpuSnapshot | undefined, after: CpuSnapshot | undefined): CpuShare | undefined {
  if (!before || !after) return undefined;
  const wall = (after.atMs - before.atMs) / 1000;
  if (wall <= 0) return undefined;
  const machineCores = (after.machineBusySeconds - before.machineBusySeconds) / wall;
  const serverCores = (after.serverSeconds - before.serverSeconds) / wall;
  const benchCores = (after.benchSeconds - before.benchSeconds) / wall;
  return { machineCores, serverCores, benchCores, otherCores: Math.max(0, machineCores - serverCores - benchCores) };
}

/**
 * Waits (up to maxSeconds) until other processes use less than `thresholdCores` over a 1 s window.
 * Returns the last window's "other" cores.
 */
export async function waitForQuiet(
  serverPid: number | undefined,
  maxSeconds: number,
  thresholdCores = 0.25,
): Promise<{ otherCores: number | undefined; waitedSeconds: number }> {
  const t0 = performance.now();
  let other: number | undefined;
  do {
    const before = cpuSnapshot(serverPid);
    await sleep(1000);
    other = cpuShare(before, cpuSnapshot(serverPid))?.otherCores;
    if (other === undefined || other < thresholdCores) break;
  } while (performance.now() - t0 < maxSeconds * 1000);
  return { otherCores: other, waitedSeconds: (performance.now() - t0) / 1000 };
}

export interface QuietOptions {
  serverPid: number | undefined;
  /** Before each attempt, wait up to this long for other processes to calm down (0 = do not wait). */
  quietWaitSeconds: number;
  /** Extra attempts when other processes used more than thresholdCores during a measurement. */
  retries: number;
  thresholdCores?: number;
  log?: (message: string) => void;
}

export interface QuietResult<T> {
  result: T;
  /** Cores other processes used during the kept attempt. */
  otherCores: number | undefined;
  attempts: number;
}

/**
 * Runs `measure` (which reports the other processes' cores during its own window through `otherOf`);
 * when someone else's work competed with it, waits for quiet and measures again, up to `retries`
 * times, keeping the least-disturbed attempt. On a shared development VM this is the difference
 * between a number and noise; every result says how disturbed it was.
 */
export async function measureQuietly<T>(
  measure: () => Promise<T>,
  otherOf: (r: T) => number | undefined,
  o: QuietOptions,
): Promise<QuietResult<T>> {
  const threshold = o.thresholdCores ?? 0.25;
  let best: QuietResult<T> | undefined;
  for (let attempt = 1; attempt <= o.retries + 1; attempt++) {
    if (o.quietWaitSeconds > 0) await waitForQuiet(o.serverPid, o.quietWaitSeconds, threshold);
    const result = await measure();
    const other = otherOf(result);
    if (!best || (other !== undefined && (best.otherCores === undefined || other < best.otherCores)))
      best = { result, otherCores: other, attempts: attempt };
    best.attempts = attempt;
    if (other === undefined || other < threshold) break;
    if (attempt <= o.retries)
      o.log?.(
        `  other processes used ${other.toFixed(2)} cores during that measurement; measuring again (attempt ${attempt + 1} of ${o.retries + 1})`,
      );
  }
  return best!;
}
