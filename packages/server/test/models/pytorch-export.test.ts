/**
 * A generator exported by PyTorch (test/fixtures/pytorch-export, see its README) serves images matching
 * PyTorch's own output within 2/255, by explicit z and by seed: the manifest contract holds for graphs
 * this project did not write. Also: a model directory reached through a symlink is served.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { cp, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareWithPytorch, readPytorchReference, type PytorchReference } from '../../scripts/pytorch/parity.js';
import { histogramTotals, listenLocally, startTestServer, type TestServer } from '../helpers/test-server.js';

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/pytorch-export', import.meta.url));

describe('a generator exported by torch.onnx.export', () => {
  let ts: TestServer;
  let server: Server;
  let base: string;
  let reference: PytorchReference;
  let copy: string;

  before(async () => {
    reference = await readPytorchReference(FIXTURE);
    // The test server deletes its models directory on close, so it gets a copy, reached by a symlink.
    const modelsDir = await mkdtemp(path.join(tmpdir(), 'sagan-pytorch-'));
    copy = await mkdtemp(path.join(tmpdir(), 'sagan-pytorch-model-'));
    await cp(FIXTURE, copy, { recursive: true });
    await symlink(copy, path.join(modelsDir, 'torch'));
    // A queue delay so that requests sent together share batches even on a slow machine.
    ts = await startTestServer(modelsDir, { maxBatchSize: 4, maxQueueDelayMs: 20 });
    ({ server, base } = await listenLocally(ts.app));
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await ts.close();
    // ts.close() removes the models directory, which holds only the symlink to the copy.
    await rm(copy, { recursive: true, force: true });
  });

  test('the symlinked model directory loads and is ready', () => {
    const [entry] = ts.registry.list();
    assert.equal(entry?.name, 'pytorch-export', 'named by its manifest');
    assert.equal(entry?.status, 'ready', entry?.reason);
  });

  test('served images match PyTorch within 2/255, by z and by seed', async () => {
    const results = await compareWithPytorch(base, 'pytorch-export', reference);
    assert.equal(results.length, reference.samples.length);
    assert.ok(results.length >= 5);
    for (const r of results) {
      assert.ok(r.maxDiffByZ <= 2, `seed ${r.seed}: ${r.maxDiffByZ}/255 by z`);
      assert.ok(r.maxDiffBySeed <= 2, `seed ${r.seed}: ${r.maxDiffBySeed}/255 by seed`);
    }
  });

  test('in shared batches too: all requests at once form batches larger than 1 and still match', async () => {
    const before = await histogramTotals(ts.metrics, 'sagan_batch_size');
    const results = await compareWithPytorch(base, 'pytorch-export', reference, { concurrent: true });
    const after = await histogramTotals(ts.metrics, 'sagan_batch_size');
    const batches = after.count - before.count;
    const rows = after.sum - before.sum;
    assert.equal(rows, 2 * reference.samples.length, 'one row per request');
    assert.ok(batches < rows, `${rows} rows in ${batches} batches: expected some batch larger than 1`);
    for (const r of results) {
      assert.ok(r.maxDiffByZ <= 2, `seed ${r.seed}: ${r.maxDiffByZ}/255 by z`);
      assert.ok(r.maxDiffBySeed <= 2, `seed ${r.seed}: ${r.maxDiffBySeed}/255 by seed`);
    }
  });

  test('the comparison can fail: another class differs from PyTorch by far more than 2/255', async () => {
    const wrongClass: PytorchReference = {
      ...reference,
      samples: reference.samples.map((s) => ({ ...s, class: (s.class + 1) % 4 })),
    };
    const results = await compareWithPytorch(base, 'pytorch-export', wrongClass);
    assert.ok(
      results.some((r) => r.maxDiffByZ > 2),
      JSON.stringify(results),
    );
  });
});
