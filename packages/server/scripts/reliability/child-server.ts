/**
 * Starts the real CLI (dist/src/cli.js) as a child process on 127.0.0.1 and waits until it answers
 * /healthz, so scripts and tests exercise exactly what `sagan-serve` runs in production: signals, exit
 * codes, process metrics. The port is picked here (a free one) so any LOG_LEVEL works.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { SERVER_NODE_FLAGS } from '../../src/node-flags.js';
import { send, sleep } from './http-client.js';

export const CLI_PATH = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

export interface ChildServer {
  proc: ChildProcess;
  port: number;
  base: string;
  /** Every JSON log line the server printed so far (at most the last 10,000). */
  logs: Array<Record<string, unknown>>;
  /** Resolves with the exit code (or the signal name) when the process ends. */
  exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after killAfterMs if it has not exited. */
  stop(killAfterMs?: number): Promise<number | string>;
}

export interface ChildServerOptions {
  /** Environment variables for the server (PORT, HOST and LOG_LEVEL are filled in unless given). */
  env?: Record<string, string>;
  /** Longest wait for /healthz to answer, ms. */
  startTimeoutMs?: number;
  /** Called with each stderr line. */
  onStderr?: (line: string) => void;
  /** Called with each JSON log line. */
  onLog?: (entry: Record<string, unknown>) => void;
  /** Parse and keep stdout log lines (default true); load scripts send them to /dev/null instead. */
  captureLogs?: boolean;
  /**
   * A server that exits with a non-zero status or a signal on its own (not through stop()) after it
   * answered /healthz has crashed: by default that is thrown as an uncaught error in this process, so a
   * test run fails even when the test at hand was not looking at the server (a crash from an unhandled
   * rejection once passed unnoticed that way). Default true.
   */
  crashIsFatal?: boolean;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Node flags for a server the scripts start: the server's own (src/node-flags.ts), then any from
 * BENCH_NODE_FLAGS (space-separated; a later flag wins), e.g. `BENCH_NODE_FLAGS=--cpu-prof npm run
 * overload` to profile the server under the script's load.
 */
export function nodeFlagsForServer(): string[] {
  return [...SERVER_NODE_FLAGS, ...(process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean)];
}

export async function startChildServer(options: ChildServerOptions = {}): Promise<ChildServer> {
  const port = options.env?.PORT ? Number(options.env.PORT) : await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    ...options.env,
    PORT: String(port),
  };
  // Without capture, stdout goes to /dev/null: a pipe that the (busy) load generator drains late would
  // block the server's synchronous log writes and measure the harness instead of the server.
  const capture = options.captureLogs !== false;
  const proc = spawn(process.execPath, [...nodeFlagsForServer(), CLI_PATH], {
    env,
    stdio: ['ignore', capture ? 'pipe' : 'ignore', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  let exitedWith: number | string | undefined;
  let started = false;
  let stopping = false;
  const stderr: string[] = [];
  const exited = new Promise<number | string>((resolve) => {
    proc.once('exit', (code, signal) => {
      exitedWith = code ?? signal ?? 'unknown';
      resolve(exitedWith);
      if (started && !stopping && exitedWith !== 0 && options.crashIsFatal !== false) {
        const crash = new Error(
          `the server (pid ${proc.pid}) exited on its own with ${String(exitedWith)}; stderr: ${stderr.join('\n').slice(-2000)}`,
        );
        process.nextTick(() => {
          throw crash;
        });
      }
    });
  });
  createInterface({ input: proc.stderr! }).on('line', (line) => {
    stderr.push(line);
    if (stderr.length > 200) stderr.shift();
    options.onStderr?.(line);
  });
  if (capture)
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      logs.push(entry);
      if (logs.length > 10_000) logs.shift();
      options.onLog?.(entry);
    });
  const base = `http://127.0.0.1:${port}`;
  const deadline = performance.now() + (options.startTimeoutMs ?? 60_000);
  for (;;) {
    if (exitedWith !== undefined)
      throw new Error(`server exited (${exitedWith}) before answering; stderr: ${stderr.join('\n').slice(-2000)}`);
    const ok = await send(base, { method: 'GET', path: '/healthz', timeoutMs: 1000 }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (performance.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(
        `server did not answer /healthz within ${options.startTimeoutMs ?? 60_000} ms; stderr: ${stderr.join('\n').slice(-2000)}`,
      );
    }
    await sleep(50);
  }
  started = true;
  const stop = async (killAfterMs = 20_000): Promise<number | string> => {
    stopping = true;
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), killAfterMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  return { proc, port, base, logs, exited, stop };
}
