/**
 * The real server as a child process (`node dist/src/cli.js`), serving one model from a temporary
 * models directory, on a free local port. Used by bench.ts and bench-healthz.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { readModelManifest } from '@sagan-serve/model-contract/manifest-file';
import { sleep } from '../reliability/http-client.js';
import { CLI_PATH, nodeFlagsForServer } from '../reliability/child-server.js';

export interface ServerProcessOptions {
  /** A model directory (model.json + its ONNX file). */
  modelDir: string;
  /** EXECUTION_PROVIDERS, e.g. "cpu" or "webgpu,cpu". */
  providers: string;
  /** Extra environment for the server (MAX_BATCH_SIZE, PNG_COMPRESSION_LEVEL, UV_THREADPOOL_SIZE, ...). */
  env?: Record<string, string | undefined>;
  /** How long to wait for /readyz 200, in ms. */
  readyTimeoutMs?: number;
}

export interface ServerExit {
  code: number | null;
  signal: string | null;
  /** Time from SIGTERM to exit in ms. */
  shutdownMs: number;
  /** True when it did not exit in time and was SIGKILLed. */
  killed: boolean;
}

export interface ServerProcess {
  url: string;
  pid: number | undefined;
  port: number;
  /** The model's name (manifest.name). */
  model: string;
  classes: string[];
  imageSize: number;
  /** Seconds from spawn to /readyz 200. */
  startSeconds: number;
  /** Log lines at warn level or above seen so far (the server runs with LOG_LEVEL=warn). */
  warnings(): string[];
  /** Last lines of the child's output, for error messages. */
  logTail(): string;
  /** SIGTERM, wait for exit (SIGKILL after timeoutMs), remove the temporary models directory. */
  stop(timeoutMs?: number): Promise<ServerExit>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A models directory holding only `modelDir` (its files symlinked), named like the original. */
async function singleModelDir(modelDir: string): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'sagan-bench-models-'));
  const source = path.resolve(modelDir);
  const target = path.join(root, path.basename(source));
  await mkdir(target);
  for (const entry of await readdir(source)) await symlink(path.join(source, entry), path.join(target, entry));
  return root;
}

export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const manifest = await readModelManifest(options.modelDir);
  const modelsDir = await singleModelDir(options.modelDir);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    MODELS_DIR: modelsDir,
    EXECUTION_PROVIDERS: options.providers,
    LOG_LEVEL: 'warn',
  };
  for (const [k, v] of Object.entries(options.env ?? {})) if (v !== undefined) env[k] = v;
  const started = performance.now();
  const child: ChildProcess = spawn(
    process.execPath,
    [...nodeFlagsForServer(), CLI_PATH, '--port', String(port), '--host', '127.0.0.1'],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const lines: string[] = [];
  const warnings: string[] = [];
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      lines.push(line);
      if (lines.length > 200) lines.shift();
      let level = 50;
      try {
        level = (JSON.parse(line) as { level?: number }).level ?? 50;
      } catch {
        // not pino JSON (e.g. a native library's stderr): count it as a warning
      }
      if (level >= 40) warnings.push(line);
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  let exited: { code: number | null; signal: string | null } | undefined;
  const exitPromise = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
  });
  // Never leave the server behind if the bench dies.
  const killOnExit = () => {
    if (!exited) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const logTail = () => lines.slice(-30).join('\n');

  const cleanup = () => rm(modelsDir, { recursive: true, force: true });
  const deadline = performance.now() + (options.readyTimeoutMs ?? 180_000);
  for (;;) {
    if (exited) {
      await cleanup();
      throw new Error(
        `server exited (code ${exited.code}, signal ${exited.signal}) before it was ready:\n${logTail()}`,
      );
    }
    const ready = await fetch(`${url}/readyz`).then(
      async (res) => ({ status: res.status, body: (await res.json()) as { models?: Record<string, string> } }),
      () => undefined, // not listening yet
    );
    if (ready?.status === 200) break;
    if (ready?.body.models && Object.values(ready.body.models).includes('unavailable')) {
      child.kill('SIGKILL');
      await cleanup();
      throw new Error(`model unavailable: ${JSON.stringify(ready.body)}\n${logTail()}`);
    }
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      await cleanup();
      throw new Error(`server not ready after ${options.readyTimeoutMs ?? 180_000} ms:\n${logTail()}`);
    }
    await sleep(100);
  }
  const startSeconds = (performance.now() - started) / 1000;

  return {
    url,
    pid: child.pid,
    port,
    model: manifest.name,
    classes: manifest.classes,
    imageSize: manifest.image.size,
    startSeconds,
    warnings: () => [...warnings],
    logTail,
    async stop(timeoutMs = 30_000): Promise<ServerExit> {
      const t0 = performance.now();
      let killed = false;
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => {
          killed = true;
          child.kill('SIGKILL');
        }, timeoutMs);
        await exitPromise;
        clearTimeout(timer);
      }
      process.off('exit', killOnExit);
      await cleanup();
      const result = await exitPromise;
      return { code: result.code, signal: result.signal, shutdownMs: performance.now() - t0, killed };
    },
  };
}
