/**
 * Starts the real CLI (dist/src/cli.js) as a child process on a free port of 127.0.0.1 and waits for
 * its "listening" log line, so scripts and tests exercise exactly what `sagan-serve` runs in production:
 * signals, process exit codes, process metrics.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const CLI_PATH = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

export interface ChildServer {
  proc: ChildProcess;
  port: number;
  base: string;
  /** Every JSON log line the server printed so far. */
  logs: Array<Record<string, unknown>>;
  /** Resolves with the exit code (or the signal name) when the process ends. */
  exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after killAfterMs if it has not exited. */
  stop(killAfterMs?: number): Promise<number | string>;
}

export interface ChildServerOptions {
  /** Environment variables for the server (PORT, HOST and LOG_LEVEL are filled in unless given). */
  env?: Record<string, string>;
  /** Longest wait for the listening line, ms. */
  startTimeoutMs?: number;
  /** Print the server's stderr here (default: inherit nothing). */
  onStderr?: (line: string) => void;
}

export async function startChildServer(options: ChildServerOptions = {}): Promise<ChildServer> {
  const env: NodeJS.ProcessEnv = {
    ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...options.env,
  };
  const proc = spawn(process.execPath, [CLI_PATH], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Array<Record<string, unknown>> = [];
  const exited = new Promise<number | string>((resolve) => {
    proc.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  const stderr: string[] = [];
  createInterface({ input: proc.stderr! }).on('line', (line) => {
    stderr.push(line);
    options.onStderr?.(line);
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within ${options.startTimeoutMs ?? 60_000} ms; stderr: ${stderr.join('\n').slice(-2000)}`)), options.startTimeoutMs ?? 60_000);
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      logs.push(entry);
      if (entry.msg === 'sagan-serve listening' && typeof entry.port === 'number') {
        clearTimeout(timer);
        resolve(entry.port);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening; stderr: ${stderr.join('\n').slice(-2000)}`));
    });
  });
  const stop = async (killAfterMs = 20_000): Promise<number | string> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), killAfterMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  return { proc, port, base: `http://127.0.0.1:${port}`, logs, exited, stop };
}
