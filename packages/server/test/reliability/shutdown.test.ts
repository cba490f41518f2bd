/**
 * Graceful shutdown of the real CLI (child process): SIGTERM under load. Requests in flight and queued
 * finish with 200 within SHUTDOWN_GRACE_MS; the listening socket closes at once so new connections are
 * refused; every request gets an answer; the process exits 0. With a grace period too short for the
 * queue, what is still queued is answered 503 SHUTTING_DOWN (with Retry-After) instead of being dropped.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { rm } from 'node:fs/promises';
import { startChildServer, type ChildServer } from '../../scripts/reliability/child-server.js';
import { json, send, waitFor, type RawResponse } from '../../scripts/reliability/http-client.js';
import { makeModelsDir, TINY_CLASSES } from '../helpers/test-server.js';

function connectOutcome(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

/** Each request on its own connection, as separate clients would. */
function load(server: ChildServer, count: number, n: number): Array<Promise<RawResponse | Error>> {
  return Array.from({ length: count }, (_, i) =>
    send(server.base, { method: 'GET', path: `/generate?class=${i % 4}&seed=${i}&n=${n}`, timeoutMs: 30_000 }).catch(
      (err: Error) => err,
    ),
  );
}

describe('shutdown (real CLI, SIGTERM under load)', () => {
  let modelsDir: string;
  before(async () => {
    modelsDir = await makeModelsDir([
      {
        name: 'dogs',
        classes: TINY_CLASSES,
        imageSize: 64,
        width: 8,
        batching: { maxBatchSize: 8, maxQueueDelayMs: 2 },
      },
    ]);
  });
  after(() => rm(modelsDir, { recursive: true, force: true }));

  test(
    'in-flight and queued requests finish with 200, new connections are refused, exit code 0',
    { timeout: 60_000 },
    async () => {
      const server = await startChildServer({
        env: {
          MODELS_DIR: modelsDir,
          EXECUTION_PROVIDERS: 'cpu',
          INTRA_OP_THREADS: '1',
          SHUTDOWN_GRACE_MS: '20000',
          LOG_LEVEL: 'info',
        },
      });
      try {
        const responses = load(server, 24, 8);
        await waitFor(
          'work to queue up',
          async () => {
            const model = json<{ queue_depth: number }>(
              await send(server.base, { method: 'GET', path: '/v1/models/dogs' }),
            );
            return model.queue_depth >= 16;
          },
          10_000,
          5,
        );
        server.proc.kill('SIGTERM');
        await waitFor(
          'the server to start draining',
          () => server.logs.some((l) => String(l.msg).startsWith('shutting down')),
          5000,
          5,
        );
        assert.equal(await connectOutcome(server.port), 'ECONNREFUSED', 'the listening socket is closed');
        const results = await Promise.all(responses);
        const statuses = results.map((r) =>
          r instanceof Error ? `${(r as NodeJS.ErrnoException).code ?? r.message}` : r.status,
        );
        assert.deepEqual(statuses, new Array(24).fill(200), 'every request answered 200');
        for (const r of results as RawResponse[]) assert.equal(r.headers['content-type'], 'image/png');
        assert.equal(await server.exited, 0);
        assert.ok(server.logs.some((l) => l.msg === 'shutdown complete'));
      } finally {
        await server.stop(5000);
      }
    },
  );

  test(
    'a grace period shorter than the queue: queued requests get 503 SHUTTING_DOWN with Retry-After, none is dropped, exit 0',
    { timeout: 60_000 },
    async () => {
      const server = await startChildServer({
        env: {
          MODELS_DIR: modelsDir,
          EXECUTION_PROVIDERS: 'cpu',
          INTRA_OP_THREADS: '1',
          SHUTDOWN_GRACE_MS: '50',
          LOG_LEVEL: 'info',
        },
      });
      try {
        const responses = load(server, 40, 8);
        await waitFor(
          'work to queue up',
          async () => {
            const model = json<{ queue_depth: number }>(
              await send(server.base, { method: 'GET', path: '/v1/models/dogs' }),
            );
            return model.queue_depth >= 64;
          },
          10_000,
          5,
        );
        server.proc.kill('SIGTERM');
        const results = await Promise.all(responses);
        const errors = results.filter((r): r is Error => r instanceof Error);
        assert.deepEqual(
          errors.map((e) => (e as NodeJS.ErrnoException).code ?? e.message),
          [],
          'every request got an HTTP answer',
        );
        const answered = results as RawResponse[];
        const ok = answered.filter((r) => r.status === 200);
        const refused = answered.filter((r) => r.status === 503);
        assert.equal(ok.length + refused.length, 40, JSON.stringify(answered.map((r) => r.status)));
        assert.ok(refused.length > 0, 'the grace period ran out with work queued');
        for (const r of refused) {
          assert.equal(json<{ error: { code: string } }>(r).error.code, 'SHUTTING_DOWN');
          assert.ok(r.headers['retry-after'], 'Retry-After');
        }
        assert.equal(await server.exited, 0);
      } finally {
        await server.stop(5000);
      }
    },
  );
});
