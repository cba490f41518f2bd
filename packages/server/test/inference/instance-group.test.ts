import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rename } from 'node:fs/promises';
import path from 'node:path';
import { autoInstanceCount, intraOpThreadsPerInstance } from '../../src/inference/instance-group.js';
import { isReady } from '../../src/models/model-version.js';
import { waitFor } from '../../scripts/reliability/http-client.js';
import {
  listenLocally,
  makeModelsDir,
  startTestServer,
  TINY_CLASSES,
  type TestServer,
} from '../helpers/test-server.js';
import { crashWorkers, hangWorkers } from '../helpers/faults.js';

test('intra-op threads per instance: the configured value, else ORT default for one instance, else cores shared out', () => {
  assert.equal(intraOpThreadsPerInstance(3, 2, 16), 3);
  assert.equal(intraOpThreadsPerInstance(0, 1, 16), 0);
  assert.equal(intraOpThreadsPerInstance(0, 2, 16), 8);
  assert.equal(intraOpThreadsPerInstance(0, 3, 2), 1);
  assert.equal(intraOpThreadsPerInstance(0, 0, 16), 8, 'automatic: sized for 2 instances');
});

test('automatic instance count: 2 on the CPU provider with 2+ cores, 1 on one core or a GPU provider', () => {
  assert.equal(autoInstanceCount('cpu', 2), 2);
  assert.equal(autoInstanceCount('cpu', 64), 2);
  assert.equal(autoInstanceCount('cpu', 1), 1);
  assert.equal(autoInstanceCount('webgpu', 16), 1);
  assert.equal(autoInstanceCount('cuda', 16), 1);
});

async function imagesFor(ts: TestServer, seeds: number[]): Promise<{ bytes: Buffer[]; close: () => void }> {
  const { server, base } = await listenLocally(ts.app);
  const bytes = await Promise.all(
    seeds.map(async (seed) => {
      const res = await fetch(`${base}/v1/models/tiny/generate?class=${seed % 4}&seed=${seed}`);
      assert.equal(res.status, 200);
      return Buffer.from(await res.arrayBuffer());
    }),
  );
  return { bytes, close: () => server.close() };
}

test(
  'MODEL_INSTANCES=0 (automatic) settles on the provider; two sessions serve at once, a stuck one does not hold up the other, bytes match one instance',
  { timeout: 60_000 },
  async (t) => {
    const seeds = Array.from({ length: 24 }, (_, i) => 100 + i);
    const batching = { maxBatchSize: 4, maxQueueDelayMs: 2 };
    // The manifest's batching.instances wins over MODEL_INSTANCES.
    const one = await startTestServer(
      await makeModelsDir([{ name: 'tiny', classes: TINY_CLASSES, batching: { ...batching, instances: 1 } }]),
      { instances: 2 },
    );
    let expected: Buffer[];
    try {
      const entry = one.registry.get('tiny');
      assert.ok(entry && isReady(entry));
      assert.equal(entry.instances.instances.length, 1, 'manifest batching.instances overrides the server setting');
      const r = await imagesFor(one, seeds);
      expected = r.bytes;
      r.close();
    } finally {
      await one.close();
    }

    const ts = await startTestServer(await makeModelsDir([{ name: 'tiny', classes: TINY_CLASSES, batching }]), {
      instances: 0,
    });
    const count = autoInstanceCount('cpu');
    const { server, base } = await listenLocally(ts.app);
    try {
      const tiny = ts.registry.get('tiny');
      assert.ok(tiny && isReady(tiny));
      assert.equal(tiny.instances.instances.length, count);
      const info = (await (await fetch(`${base}/v1/models/tiny`)).json()) as { batching: { instances: number } };
      assert.equal(info.batching.instances, count, '/v1/models reports the settled instance count');

      // Same bytes as one instance, whichever instance ran each batch (24 requests at once: several batches in flight).
      const r = await imagesFor(ts, seeds);
      r.close();
      r.bytes.forEach((b, i) => assert.ok(b.equals(expected[i]), `seed ${seeds[i]}: same bytes as with one instance`));

      if (count < 2) {
        t.diagnostic('one core: the automatic count is 1, so the two-instance part did not run');
        return;
      }
      // Instance 0 stuck for 1.5 s: the request that lands on it waits; the next one goes to instance 1.
      hangWorkers(tiny.instances.instances[0], 1500);
      const started = performance.now();
      const slow = fetch(`${base}/v1/models/tiny/generate?class=0&seed=1`).then(() => performance.now() - started);
      await waitFor('a run to reach the stuck instance', () => tiny.instances.instances[0].runsInFlight > 0, 1000, 5);
      assert.equal(tiny.instances.instances[0].runsInFlight, 1, 'the first request waits on the stuck instance');
      const fast = await fetch(`${base}/v1/models/tiny/generate?class=1&seed=2`);
      const fastMs = performance.now() - started;
      assert.equal(fast.status, 200);
      assert.ok(fastMs < 1000, `the second request was served by the free instance in ${fastMs.toFixed(0)} ms`);
      assert.ok((await slow) >= 1400, 'the first request waited for its instance');
    } finally {
      server.close();
      await ts.close();
    }
  },
);

test(
  'an instance that crashed and cannot restart takes no batches; the other serves alone and the model stays ready',
  { timeout: 60_000 },
  async () => {
    const dir = await makeModelsDir([
      { name: 'tiny', classes: TINY_CLASSES, batching: { maxBatchSize: 4, maxQueueDelayMs: 0 } },
    ]);
    const ts = await startTestServer(dir, { instances: 2 });
    const { server, base } = await listenLocally(ts.app);
    const tiny = ts.registry.get('tiny');
    assert.ok(tiny && isReady(tiny));
    const modelFile = path.join(tiny.dir, tiny.manifest.file);
    const [broken, healthy] = tiny.instances.instances;
    try {
      await rename(modelFile, `${modelFile}.away`); // the restart will fail to load it
      await crashWorkers(broken);
      await waitFor(
        'the crashed instance to fail its restart',
        () => !broken.running && broken.restarts >= 1,
        4000,
        10,
      );
      assert.ok(healthy.running);
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, i) => fetch(`${base}/v1/models/tiny/generate?class=0&seed=${i}`)),
      );
      assert.deepEqual(
        answers.map((a) => a.status),
        new Array(8).fill(200),
        'every request served by the running instance',
      );
      assert.equal(ts.registry.get('tiny')?.status, 'ready');
      await rename(`${modelFile}.away`, modelFile);
      await waitFor('the retry (1 s later) to bring the instance back', () => broken.running, 4000, 10);
    } finally {
      server.close();
      await ts.close();
    }
  },
);
