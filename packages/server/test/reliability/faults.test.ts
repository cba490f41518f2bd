/**
 * Fault injection: broken model repositories (corrupt or truncated ONNX, manifests that do not match
 * their graph, a missing file, invalid JSON), execution-provider failures, a worker that crashes or
 * hangs while requests are in flight, and clients that go away while their work is queued.
 * The server must keep serving what it can, say why the rest is unavailable (without leaking server
 * paths), answer 503 with Retry-After rather than hang, restart its workers, and leave no work behind.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Batcher } from '../../src/batching/batcher.js';
import { isServeError } from '../../src/errors.js';
import { InstanceGroup } from '../../src/inference/instance-group.js';
import { ModelWorker } from '../../src/inference/worker-client.js';
import { loadSession } from '@sagan-serve/model-contract/ort-session';
import type { ModelVersion } from '../../src/models/model-version.js';
import { json, send, sleep, waitFor, type RawResponse } from '../../scripts/reliability/http-client.js';
import { metricValue } from '../../scripts/shared/metrics-text.js';
import { checkResponse, leakPatterns } from '../../scripts/reliability/response-checks.js';
import {
  listenLocally,
  makeModelsDir,
  startTestServer,
  TINY_CLASSES,
  type TestServer,
} from '../helpers/test-server.js';
import { crashWorkers, hangWorkers, withServing } from '../helpers/faults.js';

interface Listening {
  ts: TestServer;
  server: Server;
  base: string;
}

async function listen(ts: TestServer): Promise<Listening> {
  const { server, base } = await listenLocally(ts.app);
  return { ts, server, base };
}

async function stop(l: Listening | undefined): Promise<void> {
  if (!l) return;
  l.server.closeAllConnections();
  await new Promise((resolve) => l.server.close(resolve));
  await l.ts.close();
}

const get = (base: string, p: string, signal?: AbortSignal) => send(base, { method: 'GET', path: p, signal });

async function editManifest(dir: string, name: string, edit: (m: Record<string, any>) => void): Promise<void> {
  const file = path.join(dir, name, 'model.json');
  const manifest = JSON.parse(await readFile(file, 'utf8')) as Record<string, any>;
  edit(manifest);
  await writeFile(file, JSON.stringify(manifest));
}

function assertCoded(res: RawResponse, status: number, code: string, leaks: RegExp[]): void {
  assert.equal(res.status, status, res.body.toString());
  assert.equal(json<{ error: { code: string } }>(res).error.code, code);
  assert.deepEqual(checkResponse(res.status, res.headers, res.body, { leaks, allow5xx: true }), []);
}

/** Whether this machine can run `provider` at all (on a GPU machine CUDA may really work). */
async function providerWorks(provider: 'cuda' | 'webgpu'): Promise<boolean> {
  const dir = await makeModelsDir([{ name: 'probe', classes: ['a'] }]);
  try {
    const loaded = await loadSession(path.join(dir, 'probe', 'generator.onnx'), { providers: [provider] });
    await loaded.session.release();
    return true;
  } catch {
    return false;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('faults: a broken model repository', () => {
  let l: Listening;
  let leaks: RegExp[];

  before(async () => {
    const dir = await makeModelsDir(
      ['good', 'corrupt', 'truncated', 'wrongdim', 'wrongsize', 'wrongoutput', 'missing', 'badjson', 'badschema'].map(
        (name) => ({ name, classes: TINY_CLASSES }),
      ),
    );
    await writeFile(path.join(dir, 'corrupt', 'generator.onnx'), 'this is not an ONNX protobuf');
    const bytes = await readFile(path.join(dir, 'truncated', 'generator.onnx'));
    await writeFile(path.join(dir, 'truncated', 'generator.onnx'), bytes.subarray(0, Math.floor(bytes.length / 2)));
    await editManifest(dir, 'wrongdim', (m) => {
      m.latent.dim = 32;
    });
    await editManifest(dir, 'wrongsize', (m) => {
      m.image.size = 32;
    });
    await editManifest(dir, 'wrongoutput', (m) => {
      m.image.output = 'picture';
    });
    await rm(path.join(dir, 'missing', 'generator.onnx'));
    await writeFile(path.join(dir, 'badjson', 'model.json'), '{"name": "badjson", "version": ');
    await editManifest(dir, 'badschema', (m) => {
      delete m.classes;
      m.latent.dim = 'sixteen';
    });
    l = await listen(await startTestServer(dir, { defaultModel: 'good' }));
    leaks = leakPatterns([l.ts.modelsDir]);
  });
  after(() => stop(l));

  test('each broken model is unavailable with its reason; the good one serves; /readyz is 503 and says which', async () => {
    const list = json<{ models: Array<{ name: string; status: string; reason?: string }> }>(
      await get(l.base, '/v1/models'),
    );
    const byName = new Map(list.models.map((m) => [m.name, m]));
    assert.equal(byName.get('good')?.status, 'ready');
    const expected: Record<string, RegExp> = {
      corrupt: /Protobuf parsing failed|failed/i,
      truncated: /Protobuf parsing failed|failed/i,
      wrongdim: /latent\.input.*32.*16|latent\.input.*16.*32/,
      wrongsize: /manifest implies \[1, 3, 32, 32\]/,
      wrongoutput: /'picture'/,
      missing: /does not exist/,
      badjson: /not valid JSON/,
      badschema: /invalid manifest: .*classes/,
    };
    for (const [name, reason] of Object.entries(expected)) {
      const model = byName.get(name);
      assert.equal(model?.status, 'unavailable', name);
      assert.match(model?.reason ?? '', reason, `${name}: ${model?.reason}`);
      assert.ok(
        !model.reason!.includes(l.ts.modelsDir),
        `${name}: reason names the server's models path: ${model?.reason}`,
      );
    }
    const ready = await get(l.base, '/readyz');
    assert.equal(ready.status, 503);
    const readiness = json<{ ready: boolean; models: Record<string, string> }>(ready);
    assert.equal(readiness.ready, false);
    assert.equal(readiness.models.good, 'ready');
    for (const name of Object.keys(expected)) assert.equal(readiness.models[name], 'unavailable', name);
    assert.equal((await get(l.base, '/healthz')).status, 200, 'liveness is unaffected');

    const ok = await get(l.base, '/v1/models/good/generate?class=0&seed=1');
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['content-type'], 'image/png');
    assert.equal((await get(l.base, '/generate?class=0&seed=1')).status, 200);
  });

  test('requests for an unavailable model get 503 MODEL_UNAVAILABLE with Retry-After and no leaked paths', async () => {
    for (const name of ['corrupt', 'wrongdim', 'missing', 'badjson']) {
      const res = await get(l.base, `/v1/models/${name}/generate?class=0`);
      assertCoded(res, 503, 'MODEL_UNAVAILABLE', leaks);
      assert.ok(Number(res.headers['retry-after']) >= 1, `${name}: Retry-After`);
      const samples = await send(l.base, {
        method: 'POST',
        path: `/v1/models/${name}/samples`,
        headers: { 'content-type': 'application/json' },
        body: '{"class":0,"count":2}',
      });
      assertCoded(samples, 503, 'MODEL_UNAVAILABLE', leaks);
      const described = await get(l.base, `/v1/models/${name}`);
      assert.equal(described.status, 200);
      assert.deepEqual(checkResponse(described.status, described.headers, described.body, { leaks }), [], name);
    }
  });
});

describe('faults: execution providers', () => {
  let cudaWorks = false;
  let webgpuWorks = false;
  before(async () => {
    cudaWorks = await providerWorks('cuda');
    webgpuWorks = await providerWorks('webgpu');
  });

  test('EXECUTION_PROVIDERS=cuda,cpu: cuda fails here, the model falls back to cpu and failed_providers says why', async (t) => {
    if (cudaWorks) {
      t.skip('CUDA works on this machine; nothing to fall back from');
      return;
    }
    const l = await listen(
      await startTestServer(await makeModelsDir([{ name: 'tiny', classes: TINY_CLASSES }]), {
        executionProviders: ['cuda', 'cpu'],
      }),
    );
    try {
      const model = json<{
        status: string;
        provider: string;
        failed_providers: Array<{ provider: string; error: string }>;
      }>(await get(l.base, '/v1/models/tiny'));
      assert.equal(model.status, 'ready');
      assert.equal(model.provider, 'cpu');
      assert.equal(model.failed_providers.length, 1);
      assert.equal(model.failed_providers[0].provider, 'cuda');
      assert.ok(model.failed_providers[0].error.length > 0);
      assert.equal((await get(l.base, '/readyz')).status, 200);
      assert.equal((await get(l.base, '/generate?class=0&seed=3')).status, 200);
      assert.match(
        (await get(l.base, '/metrics')).body.toString(),
        /sagan_model_info\{model="tiny",version="1",provider="cpu"\} 1/,
      );
    } finally {
      await stop(l);
    }
  });

  test("only failing providers: every model unavailable with each provider's reason, /readyz 503, generate 503, /healthz 200", async (t) => {
    // The GPU providers this machine cannot use (a software Vulkan driver can make WebGPU work).
    const failing = (['cuda', 'webgpu'] as const).filter((p) => (p === 'cuda' ? !cudaWorks : !webgpuWorks));
    if (failing.length === 0) {
      t.skip('every GPU provider works on this machine');
      return;
    }
    const dir = await makeModelsDir([
      { name: 'tiny', classes: TINY_CLASSES },
      { name: 'plain', classes: ['a', 'b'], attentionResolution: null },
    ]);
    const l = await listen(await startTestServer(dir, { executionProviders: [...failing], defaultModel: 'tiny' }));
    try {
      for (const name of ['tiny', 'plain']) {
        const model = json<{ status: string; reason: string }>(await get(l.base, `/v1/models/${name}`));
        assert.equal(model.status, 'unavailable');
        assert.match(model.reason, new RegExp(failing.map((p) => `${p}: .+`).join('; ')));
        // ONNX Runtime's own texts start with its source location (".../webgpu_context.cc:136"); stripped.
        const raw = await get(l.base, `/v1/models/${name}`);
        assert.deepEqual(
          checkResponse(raw.status, raw.headers, raw.body, { leaks: leakPatterns([dir]) }),
          [],
          `/v1/models/${name}`,
        );
      }
      const ready = await get(l.base, '/readyz');
      assert.equal(ready.status, 503);
      assert.deepEqual(json<{ models: Record<string, string> }>(ready).models, {
        plain: 'unavailable',
        tiny: 'unavailable',
      });
      const res = await get(l.base, '/generate?class=0');
      assert.equal(res.status, 503);
      assert.equal(json<{ error: { code: string } }>(res).error.code, 'MODEL_UNAVAILABLE');
      assert.ok(res.headers['retry-after']);
      assert.equal((await get(l.base, '/healthz')).status, 200);
    } finally {
      await stop(l);
    }
  });
});

describe('faults: worker crash and hang, client disconnects', () => {
  let l: Listening;
  let tiny: ModelVersion;
  let leaks: RegExp[];

  const restarts = async () =>
    metricValue((await get(l.base, '/metrics')).body.toString(), 'sagan_worker_restarts_total', { model: 'tiny' });
  const imagesGenerated = async () =>
    metricValue((await get(l.base, '/metrics')).body.toString(), 'sagan_images_generated_total', { model: 'tiny' });
  /** Waits until a batch is with the worker and nothing is queued. */
  const dispatched = () =>
    waitFor('the batch to reach the worker', () => tiny.batcher!.busy && tiny.batcher!.queuedRows === 0, 5000, 5);

  before(async () => {
    const dir = await makeModelsDir([
      { name: 'tiny', classes: TINY_CLASSES, batching: { maxBatchSize: 4, maxQueueDelayMs: 1 } },
    ]);
    l = await listen(await startTestServer(dir, { maxStreamSamples: 1000 }));
    tiny = l.ts.registry.get('tiny')!;
    leaks = leakPatterns([l.ts.modelsDir]);
  });
  after(() => stop(l));

  test('worker crash mid-request: 503 WORKER_FAILED with Retry-After, the worker restarts, the next request succeeds', async () => {
    const before = await restarts();
    hangWorkers(tiny.instances!, 5000); // keep the run in flight long enough to crash under it
    const inFlight = get(l.base, '/generate?class=1&seed=5');
    await dispatched();
    const started = performance.now();
    await crashWorkers(tiny.instances!);
    const res = await inFlight;
    assertCoded(res, 503, 'WORKER_FAILED', leaks);
    assert.ok(Number(res.headers['retry-after']) >= 1, 'Retry-After');
    assert.ok(performance.now() - started < 2000, 'answered at once, not after the hang');
    await waitFor(
      'sagan_worker_restarts_total to increment',
      async () => (await restarts()) === before + 1,
      10_000,
      50,
    );
    const next = await get(l.base, '/generate?class=1&seed=5');
    assert.equal(next.status, 200);
    assert.equal(tiny.status, 'ready');
  });

  test('a samples stream whose first chunk fails is answered as a JSON error, not with the stream type', async () => {
    const before = await restarts();
    hangWorkers(tiny.instances!, 5000);
    const refused = send(l.base, {
      method: 'POST',
      path: '/v1/models/tiny/samples',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ class: 0, count: 4, format: 'png' }),
    });
    await dispatched();
    await crashWorkers(tiny.instances!);
    const res = await refused;
    assertCoded(res, 503, 'WORKER_FAILED', leaks);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    await waitFor('the worker to restart', async () => (await restarts()) === before + 1, 10_000, 50);
    assert.equal((await get(l.base, '/generate?class=1&seed=5')).status, 200);
  });

  test('a crash while idle is invisible to the next request', async () => {
    const before = await restarts();
    await crashWorkers(tiny.instances!);
    const res = await get(l.base, '/generate?class=2&seed=9&n=4');
    assert.equal(res.status, 200, 'queued behind the restart, then served');
    await waitFor('restart counted', async () => (await restarts()) === before + 1, 10_000, 50);
  });

  test(
    'a worker that cannot restart makes the model unavailable (readiness 503, reason, no leaks) and recovers on its own',
    { timeout: 30_000 },
    async () => {
      const file = path.join(tiny.dir, tiny.manifest!.file);
      const before = await restarts();
      await rename(file, `${file}.away`);
      try {
        await crashWorkers(tiny.instances!);
        await waitFor('the model to be marked unavailable', () => tiny.status === 'unavailable', 10_000, 20);
        const res = await get(l.base, '/generate?class=0&seed=1');
        assertCoded(res, 503, 'MODEL_UNAVAILABLE', leaks);
        assert.ok(res.headers['retry-after']);
        assert.match(json<{ error: { message: string } }>(res).error.message, /restart failed/);
        assert.equal((await get(l.base, '/readyz')).status, 503);
        const described = json<{ status: string; reason: string }>(await get(l.base, '/v1/models/tiny'));
        assert.equal(described.status, 'unavailable');
        assert.ok(!described.reason.includes(l.ts.modelsDir), described.reason);
      } finally {
        await rename(`${file}.away`, file);
      }
      await waitFor('a retry to bring the worker back', () => tiny.status === 'ready', 15_000, 50);
      assert.equal((await get(l.base, '/readyz')).status, 200);
      assert.equal((await get(l.base, '/generate?class=0&seed=1')).status, 200);
      assert.equal(await restarts(), before + 1, 'one successful restart is counted');
    },
  );

  test('client disconnecting while queued behind a running batch leaves no queued work and its rows never run', async () => {
    const imagesBefore = await imagesGenerated();
    hangWorkers(tiny.instances!, 1500);
    const running = get(l.base, '/generate?class=0&seed=1&n=4'); // a full batch: dispatched at once, then stuck
    await dispatched();
    const controller = new AbortController();
    const queued = get(l.base, '/generate?class=0&seed=2&n=4', controller.signal).catch((err: Error) => err);
    await waitFor('the second request to queue', () => tiny.batcher!.queuedRows === 4, 2000, 5);
    const abortedAt = performance.now();
    controller.abort();
    assert.ok((await queued) instanceof Error, 'client side aborted');
    await waitFor('the queue to empty', () => tiny.batcher!.queuedRows === 0, 1000, 5);
    assert.ok(performance.now() - abortedAt < 1000, 'removed at once, not when the worker frees up');
    assert.equal(
      metricValue((await get(l.base, '/metrics')).body.toString(), 'sagan_queue_depth', { model: 'tiny' }),
      0,
    );
    assert.equal((await running).status, 200);
    await waitFor('the batcher to go idle', () => !tiny.batcher!.busy, 5000, 5);
    await sleep(50);
    assert.equal(await imagesGenerated(), imagesBefore + 4, "only the first request's 4 rows ran");
  });

  test('client disconnecting mid-stream stops the samples stream and leaves no queued work', async () => {
    const imagesBefore = await imagesGenerated();
    const controller = new AbortController();
    const http = await import('node:http');
    await new Promise<void>((resolve, reject) => {
      const req = http.request(
        `${l.base}/v1/models/tiny/samples`,
        { method: 'POST', headers: { 'content-type': 'application/json' }, signal: controller.signal },
        (res) => {
          assert.equal(res.statusCode, 200);
          res.once('data', () => {
            controller.abort();
            resolve();
          });
        },
      );
      req.on('error', (err) => (err.name === 'AbortError' ? undefined : reject(err)));
      req.end(JSON.stringify({ class: 0, count: 1000 }));
    });
    // The batcher is briefly idle between chunks while earlier images are still being encoded, before the
    // server has seen the client go; so wait for the count to hold still, not for one idle moment.
    let afterAbort = await imagesGenerated();
    await waitFor(
      'the stream to stop',
      async () => {
        await sleep(150);
        const now = await imagesGenerated();
        const stopped = now === afterAbort && !tiny.batcher!.busy;
        afterAbort = now;
        return stopped;
      },
      5000,
      5,
    );
    await sleep(200);
    assert.equal(await imagesGenerated(), afterAbort, 'no more images after the stream stopped');
    assert.ok(afterAbort - imagesBefore < 1000 / 2, `only the first chunks ran (${afterAbort - imagesBefore} images)`);
    assert.equal(tiny.batcher!.queuedRows, 0);
  });

  test('hung worker (HTTP): a run past runTimeoutMs answers 503 WORKER_FAILED with Retry-After, and the worker restarts', async () => {
    // The registry's workers allow a run 60 s before declaring a hang; put a worker with a 300 ms limit
    // behind the same model entry so the whole HTTP path runs in test time.
    const manifest = tiny.manifest!;
    const events: string[] = [];
    const group = new InstanceGroup(1, {
      load: {
        modelPath: path.join(tiny.dir, manifest.file),
        providers: ['cpu'],
        intraOpThreads: 1,
        threadNice: 0,
        latentInput: manifest.latent.input,
        latentDim: manifest.latent.dim,
        classInput: manifest.class_input,
        outputs: [manifest.image.output],
      },
      imageOutput: manifest.image.output,
      attentionOutput: undefined,
      runTimeoutMs: 300,
      onEvent: (event) => {
        events.push(event);
        if (event === 'restarted') l.ts.metrics.workerRestarts.inc({ model: 'tiny', version: '1' });
      },
    });
    await group.start();
    const [worker] = group.instances;
    const batcher = new Batcher(
      group,
      { latentDim: manifest.latent.dim, imageRowLength: 3 * manifest.image.size ** 2, attentionRowLength: 0 },
      tiny.batching!,
      l.ts.metrics.batcherObserver('tiny', '1', () => 'cpu'),
    );
    try {
      await withServing(tiny, { ...tiny.serving!, instances: group, batcher }, async () => {
        const before = await restarts();
        hangWorkers(worker, 30_000);
        const started = performance.now();
        const res = await get(l.base, '/v1/models/tiny/generate?class=0&seed=4');
        const ms = performance.now() - started;
        assertCoded(res, 503, 'WORKER_FAILED', leaks);
        assert.ok(res.headers['retry-after'], 'Retry-After');
        assert.ok(ms >= 250 && ms < 5000, `answered after the 300 ms run limit (${ms.toFixed(0)} ms)`);
        await waitFor('the hung worker to restart', () => events.includes('restarted'), 10_000);
        assert.deepEqual(events, ['hung', 'restarted']);
        assert.equal(worker.restarts, 1);
        assert.equal(await restarts(), before + 1);
        assert.equal(
          (await get(l.base, '/v1/models/tiny/generate?class=0&seed=4')).status,
          200,
          'served by the restarted worker',
        );
      });
    } finally {
      await worker.close();
    }
  });

  test('hung worker (direct): every run pending on it rejects with WORKER_FAILED; later runs succeed', async () => {
    const manifest = tiny.manifest!;
    const worker = new ModelWorker({
      load: {
        modelPath: path.join(tiny.dir, manifest.file),
        providers: ['cpu'],
        intraOpThreads: 1,
        threadNice: 0,
        latentInput: manifest.latent.input,
        latentDim: manifest.latent.dim,
        classInput: manifest.class_input,
        outputs: [manifest.image.output],
      },
      imageOutput: manifest.image.output,
      attentionOutput: undefined,
      runTimeoutMs: 200,
    });
    await worker.start();
    try {
      const batch = (rows: number) => ({
        z: new Float32Array(rows * manifest.latent.dim),
        classes: new BigInt64Array(rows),
        rows,
        fetchAttention: false,
      });
      hangWorkers(worker, 30_000);
      const results = await Promise.allSettled([worker.run(batch(1)), worker.run(batch(2)), worker.run(batch(3))]);
      for (const r of results) {
        assert.equal(r.status, 'rejected');
        const err = r.reason as unknown;
        assert.ok(isServeError(err) && err.code === 'WORKER_FAILED', String(err));
        assert.ok((err.details.retryAfterSeconds ?? 0) >= 1);
      }
      const ok = await worker.run(batch(2));
      assert.equal(ok.image.length, 2 * 3 * manifest.image.size ** 2);
      assert.equal(worker.restarts, 1);
    } finally {
      await worker.close();
    }
  });
});

describe('faults: shutdown of a version that lost its workers', () => {
  test(
    'close() releases a version whose worker could not restart: no retry brings it back after shutdown',
    { timeout: 30_000 },
    async () => {
      const dir = await makeModelsDir([{ name: 'tiny', classes: TINY_CLASSES }]);
      const ts = await startTestServer(dir);
      const tiny = ts.registry.get('tiny')!;
      const file = path.join(tiny.dir, tiny.manifest!.file);
      try {
        await rename(file, `${file}.away`);
        await crashWorkers(tiny.instances!);
        await waitFor('the model to be marked unavailable', () => tiny.status === 'unavailable', 10_000, 20);
        await ts.registry.close(100);
        // Back in place, the file would let the worker's next retry (1 s, then 2 s) succeed, had close()
        // left its retry timer running.
        await rename(`${file}.away`, file);
        await sleep(3500);
        assert.equal(tiny.status, 'unavailable', 'no worker restarted after shutdown');
        assert.equal(tiny.instances!.anyRunning, false);
      } finally {
        await ts.close();
      }
    },
  );
});
