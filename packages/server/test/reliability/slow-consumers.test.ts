/**
 * Pipelines and slow consumers on the real CLI (child process): a samples stream next to a burst that
 * fills the queue, SIGTERM while a stream is read at full speed, and clients that stop reading (a stream,
 * a large v2 response) against the write-idle deadline, unload and shutdown. Each of these once ended
 * the process (an unhandled rejection), hung an unload for as long as the client stayed, or kept SIGTERM
 * from exiting.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { startChildServer, type ChildServer } from '../../scripts/reliability/child-server.js';
import { json, send, sleep, waitFor, type RawResponse } from '../../scripts/reliability/http-client.js';
import { readSamplesStream, stalledClient } from '../../scripts/reliability/stream-clients.js';
import { metricValue } from '../../scripts/shared/metrics-text.js';
import { makeModelsDir, TINY_CLASSES } from '../helpers/test-server.js';

const BASE_ENV = { EXECUTION_PROVIDERS: 'cpu', INTRA_OP_THREADS: '1', RENDER_THREADS: '1', LOG_LEVEL: 'info' };

async function cutCount(server: ChildServer, reason: string): Promise<number> {
  const res = await send(server.base, { method: 'GET', path: '/metrics' });
  return metricValue(res.body.toString('utf8'), 'sagan_responses_cut_total', { reason });
}

/** Ms from SIGTERM to the process's exit, and its exit code. */
async function timedSigterm(server: ChildServer): Promise<{ code: number | string; ms: number }> {
  const sentAt = performance.now();
  server.proc.kill('SIGTERM');
  const code = await server.exited;
  return { code, ms: performance.now() - sentAt };
}

describe('slow consumers and long streams (real CLI)', () => {
  let modelsDir: string;
  before(async () => {
    // 64x64 output (a sample line is about 16 KB) from a narrow generator, so streams are cheap to make
    // but large enough to fill the socket buffers of a client that stops reading.
    modelsDir = await makeModelsDir([
      { name: 'dogs', classes: TINY_CLASSES, imageSize: 64, width: 4, batching: { maxBatchSize: 16 } },
    ]);
  });
  after(() => rm(modelsDir, { recursive: true, force: true }));

  test(
    'a samples stream beside a burst that fills the queue: the server stays up, the stream completes, exit 0',
    { timeout: 120_000 },
    async () => {
      const server = await startChildServer({ env: { ...BASE_ENV, MODELS_DIR: modelsDir, MAX_QUEUE_SIZE: '32' } });
      try {
        const stream = readSamplesStream(server.base, '/v1/models/dogs/samples', {
          class: 0,
          count: 3000,
          format: 'png',
        });
        await sleep(300);
        // A burst of clients, each on its own connection: most are shed (503), and meanwhile the stream's
        // next chunk meets a full queue again and again.
        const burst = await Promise.all(
          Array.from({ length: 300 }, (_, i) =>
            send(server.base, {
              method: 'GET',
              path: `/v1/models/dogs/generate?class=1&seed=${i}&n=4`,
              timeoutMs: 60_000,
            }).then(
              (r) => r.status,
              (err: NodeJS.ErrnoException) => err.code ?? err.message,
            ),
          ),
        );
        const result = await stream;
        assert.equal(server.proc.exitCode, null, 'the server is still running');
        assert.equal(result.status, 200);
        assert.equal(result.ended, 'end');
        assert.equal(
          result.samples,
          3000,
          `every sample arrived (last line ${JSON.stringify(result.lastLine)?.slice(0, 300)})`,
        );
        assert.equal(result.lastLine?.index, 2999);
        const statuses = new Set(burst);
        assert.ok(
          [...statuses].every((s) => s === 200 || s === 503),
          `burst answered 200 or 503: ${[...statuses].join(', ')}`,
        );
        assert.ok(statuses.has(503), 'the burst filled the queue');
        assert.equal(await server.stop(10_000), 0);
      } finally {
        await server.stop(5000);
      }
    },
  );

  test(
    'SIGTERM while a stream is read at full speed: exit 0, and the stream ends complete or with an error line saying where to resume',
    { timeout: 60_000 },
    async () => {
      const server = await startChildServer({ env: { ...BASE_ENV, MODELS_DIR: modelsDir, SHUTDOWN_GRACE_MS: '2000' } });
      try {
        let signalled = false;
        const stream = readSamplesStream(
          server.base,
          '/v1/models/dogs/samples',
          { class: 0, count: 10_000, format: 'png' },
          (index) => {
            if (index >= 200 && !signalled) {
              signalled = true;
              server.proc.kill('SIGTERM');
            }
          },
        );
        const result = await stream;
        assert.ok(signalled, 'SIGTERM was sent mid-stream');
        assert.equal(await server.exited, 0, 'exit status 0');
        assert.equal(result.ended, 'end', 'the stream was ended by the server, not cut');
        if (result.samples < 10_000) {
          const error = result.lastLine as { error?: { code: string }; next_index?: number };
          assert.equal(
            error.error?.code,
            'SHUTTING_DOWN',
            `last line: ${JSON.stringify(result.lastLine)?.slice(0, 300)}`,
          );
          assert.equal(error.next_index, result.samples, 'next_index is the first sample not delivered');
        }
      } finally {
        await server.stop(5000);
      }
    },
  );

  test(
    'a client that stops reading a stream or a large v2 response (JSON or binary) is cut after WRITE_IDLE_TIMEOUT_MS, and its work released',
    { timeout: 60_000 },
    async (t) => {
      const server = await startChildServer({
        env: {
          ...BASE_ENV,
          MODELS_DIR: modelsDir,
          WRITE_IDLE_TIMEOUT_MS: '1000',
          MAX_SAMPLES_PER_IMAGE: '256',
          MAX_INFER_RESPONSE_BYTES: '134217728',
        },
      });
      try {
        const sentAt = performance.now();
        const stalled = stalledClient(server.port, '/v1/models/dogs/samples', {
          class: 0,
          count: 10_000,
          format: 'png',
        });
        await waitFor(
          'the stalled stream to be cut',
          async () => (await cutCount(server, 'write_idle')) === 1,
          20_000,
          100,
        );
        t.diagnostic(
          `WRITE_IDLE_TIMEOUT_MS=1000: the stalled stream was cut ${(performance.now() - sentAt).toFixed(0)} ms after its request`,
        );
        stalled.destroy();
        // 256 rows of 3x64x64 values: about 60 MB of JSON, far more than the socket buffers hold.
        const z = Array.from({ length: 256 * 16 }, (_, i) => Math.sin(i));
        const stalledInfer = stalledClient(server.port, '/v2/models/dogs/infer', {
          inputs: [
            { name: 'z', shape: [256, 16], datatype: 'FP32', data: z },
            { name: 'y', shape: [256], datatype: 'INT64', data: new Array(256).fill(1) },
          ],
          outputs: [{ name: 'image' }],
        });
        await waitFor(
          'the stalled v2 response to be cut',
          async () => (await cutCount(server, 'write_idle')) === 2,
          20_000,
          100,
        );
        stalledInfer.destroy();
        // The same rows as binary data (binary_data_output): about 12 MB, written from the result's own memory.
        const stalledBinary = stalledClient(server.port, '/v2/models/dogs/infer', {
          parameters: { binary_data_output: true },
          inputs: [
            { name: 'z', shape: [256, 16], datatype: 'FP32', data: z },
            { name: 'y', shape: [256], datatype: 'INT64', data: new Array(256).fill(1) },
          ],
          outputs: [{ name: 'image' }],
        });
        await waitFor(
          'the stalled binary v2 response to be cut',
          async () => (await cutCount(server, 'write_idle')) === 3,
          20_000,
          100,
        );
        stalledBinary.destroy();
        // The server still serves, and its queue holds nothing of the clients that left.
        const model = json<{ queue_depth: number; status: string }>(
          await send(server.base, { method: 'GET', path: '/v1/models/dogs' }),
        );
        assert.equal(model.status, 'ready');
        assert.equal(model.queue_depth, 0);
        assert.equal(
          (await send(server.base, { method: 'GET', path: '/v1/models/dogs/generate?class=0&seed=1' })).status,
          200,
        );
        assert.equal(await server.stop(10_000), 0);
      } finally {
        await server.stop(5000);
      }
    },
  );

  test(
    'with a stalled stream open: unload answers within RELEASE_TIMEOUT_MS and releases the version; SIGTERM exits 0 in time',
    { timeout: 60_000 },
    async (t) => {
      const server = await startChildServer({
        env: {
          ...BASE_ENV,
          MODELS_DIR: modelsDir,
          MODEL_CONTROL: 'explicit',
          WRITE_IDLE_TIMEOUT_MS: '600000',
          RELEASE_TIMEOUT_MS: '1500',
          SHUTDOWN_GRACE_MS: '1000',
        },
      });
      try {
        const stalled = stalledClient(server.port, '/v1/models/dogs/samples', {
          class: 0,
          count: 10_000,
          format: 'png',
        });
        await sleep(1500);
        const unloadStarted = performance.now();
        const unload = await send(server.base, {
          method: 'POST',
          path: '/v1/repository/models/dogs/unload',
          headers: { 'content-type': 'application/json' },
          body: '{}',
          timeoutMs: 20_000,
        });
        const unloadMs = performance.now() - unloadStarted;
        assert.equal(unload.status, 200, unload.body.toString('utf8'));
        t.diagnostic(`RELEASE_TIMEOUT_MS=1500 with a stalled stream: unload answered in ${unloadMs.toFixed(0)} ms`);
        assert.ok(unloadMs < 1500 + 3000, `unload answered in ${unloadMs.toFixed(0)} ms`);
        await waitFor(
          'the version to be released',
          () => server.logs.some((l) => l.msg === 'model version released'),
          5000,
        );
        assert.equal(await cutCount(server, 'release_timeout'), 1);
        stalled.destroy();
        const { code, ms } = await timedSigterm(server);
        t.diagnostic(`SHUTDOWN_GRACE_MS=1000, after the unload: exit ${code} ${ms.toFixed(0)} ms after SIGTERM`);
        assert.equal(code, 0);
        assert.ok(ms < 1000 + 5000, `exited ${ms.toFixed(0)} ms after SIGTERM`);
      } finally {
        await server.stop(5000);
      }
    },
  );

  test(
    'SIGTERM while an unload waits for a stalled stream: the unload answers and the process exits 0 within SHUTDOWN_GRACE_MS + 5 s',
    { timeout: 60_000 },
    async (t) => {
      const server = await startChildServer({
        env: {
          ...BASE_ENV,
          MODELS_DIR: modelsDir,
          MODEL_CONTROL: 'explicit',
          WRITE_IDLE_TIMEOUT_MS: '600000',
          RELEASE_TIMEOUT_MS: '600000',
          SHUTDOWN_GRACE_MS: '1000',
        },
      });
      const stalled = stalledClient(server.port, '/v1/models/dogs/samples', { class: 0, count: 10_000, format: 'png' });
      try {
        await sleep(1500);
        const unload = send(server.base, {
          method: 'POST',
          path: '/v1/repository/models/dogs/unload',
          headers: { 'content-type': 'application/json' },
          body: '{}',
          timeoutMs: 20_000,
        }).then(
          (r: RawResponse) => r.status,
          (err: NodeJS.ErrnoException) => err.code ?? err.message,
        );
        await sleep(500);
        const { code, ms } = await timedSigterm(server);
        t.diagnostic(
          `SHUTDOWN_GRACE_MS=1000, unload pending behind a stalled stream: exit ${code} ${ms.toFixed(0)} ms after SIGTERM`,
        );
        assert.equal(code, 0);
        assert.ok(ms < 1000 + 5000, `exited ${ms.toFixed(0)} ms after SIGTERM`);
        assert.equal(await unload, 200, 'the pending unload was answered');
      } finally {
        stalled.destroy();
        await server.stop(5000);
      }
    },
  );
});
