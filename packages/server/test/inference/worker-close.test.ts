/**
 * Closing a model's instances (shutdown after the grace period) lets runs already sent to the worker
 * finish: the worker releases its session only after them. Before, 'release' was handled while
 * session.run was awaited, and the run failed with WORKER_FAILED although nothing had crashed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isReady } from '../../src/models/model-version.js';
import { makeModelsDir, startTestServer, TINY_CLASSES } from '../helpers/test-server.js';
import { hangWorkers } from '../helpers/faults.js';

test(
  'close() waits for runs in flight: they resolve with images; runs after close get SHUTTING_DOWN',
  { timeout: 30_000 },
  async () => {
    const ts = await startTestServer(
      await makeModelsDir([{ name: 'tiny', classes: TINY_CLASSES, imageSize: 64, width: 8 }]),
    );
    try {
      const entry = ts.registry.get('tiny');
      assert.ok(entry && isReady(entry));
      const latentDim = entry.manifest.latent.dim;
      const batch = (rows: number) => ({
        rows,
        fetchAttention: false,
        z: Float32Array.from({ length: rows * latentDim }, (_, i) => Math.sin(i)),
        classes: BigInt64Array.from({ length: rows }, (_, i) => BigInt(i % TINY_CLASSES.length)),
      });
      // Blocking the worker first queues the runs and the release behind it, so the release is handled
      // while those runs are inside session.run, whatever this machine's speed.
      hangWorkers(entry.instances, 200);
      const runs = [batch(8), batch(8), batch(1)].map((b) => entry.instances.run(b));
      // run() posts after awaiting the loaded worker (a microtask); the batcher's runs are long posted by
      // the time a shutdown closes the instances.
      await new Promise((resolve) => setImmediate(resolve));
      await entry.instances.close();
      const outputs = await Promise.all(runs);
      for (const [i, out] of outputs.entries()) {
        const rows = i < 2 ? 8 : 1;
        assert.equal(out.image.length, rows * 3 * 64 * 64);
        assert.ok(out.image.every(Number.isFinite) && out.image.some((v) => v !== 0), `run ${i} returned a real image`);
      }
      await assert.rejects(
        entry.instances.run(batch(1)),
        (err: Error & { code?: string }) => err.code === 'SHUTTING_DOWN',
      );
    } finally {
      await ts.close();
    }
  },
);
