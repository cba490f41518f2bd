import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { frontDoor } from '../../src/http/front-door.js';
import { isReady } from '../../src/models/model-version.js';
import { makeModelsDir, startTestServer, TINY_CLASSES } from '../helpers/test-server.js';
import { hangWorkers } from '../helpers/faults.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(base: string, path: string, requestId?: string): Promise<Answer> {
  return fetch(`${base}${path}`, { headers: requestId ? { 'x-request-id': requestId } : {} }).then(async (r) => ({
    status: r.status,
    headers: Object.fromEntries(r.headers.entries()),
    body: await r.text(),
  }));
}

test(
  'a full queue is answered at the front door exactly as the app answers QUEUE_FULL, and counted',
  { timeout: 30_000 },
  async () => {
    const dir = await makeModelsDir([
      {
        name: 'tiny',
        classes: TINY_CLASSES,
        batching: { maxBatchSize: 1, maxQueueDelayMs: 0, maxQueueSize: 2, requestTimeoutMs: 20_000 },
      },
    ]);
    const ts = await startTestServer(dir);
    const server: Server = createServer(
      frontDoor(ts.app, { registry: ts.registry, metrics: ts.metrics, responses: ts.responses }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const tiny = ts.registry.get('tiny');
      assert.ok(tiny && isReady(tiny));
      const queued = async (rows: number) => {
        for (let i = 0; i < 200 && tiny.batcher.queuedRows !== rows; i++) await new Promise((r) => setTimeout(r, 10));
        assert.equal(tiny.batcher.queuedRows, rows);
      };
      hangWorkers(tiny.instances, 3000); // the first batch stays in flight; later requests queue behind it
      const pending = [
        get(base, '/v1/models/tiny/generate?class=0&seed=1'),
        get(base, '/v1/models/tiny/generate?class=0&seed=2'),
      ];
      await queued(1);
      // One row is free: a 2-image request passes the door and is refused by the app's batcher.
      const fromApp = await get(base, '/v1/models/tiny/generate?class=0&seed=3&n=2', 'app-1');
      pending.push(get(base, '/v1/models/tiny/generate?class=0&seed=4'));
      await queued(2);
      // No row is free: refused at the door.
      const fromDoor = await get(base, '/v1/models/tiny/generate?class=0&seed=5&n=2', 'door-1');
      const aliasFromDoor = await get(base, '/generate?class=0');
      const versionFromDoor = await get(base, '/v1/models/tiny/versions/1/generate?class=0');
      for (const [what, a] of [
        ['app', fromApp],
        ['door', fromDoor],
        ['door, /generate', aliasFromDoor],
        ['door, version route', versionFromDoor],
      ] as const) {
        assert.equal(a.status, 503, what);
        assert.equal(JSON.parse(a.body).error.code, 'QUEUE_FULL', what);
        assert.ok(Number(a.headers['retry-after']) >= 1, `${what}: Retry-After`);
      }
      assert.deepEqual(Object.keys(JSON.parse(fromDoor.body)).sort(), Object.keys(JSON.parse(fromApp.body)).sort());
      assert.equal(JSON.parse(fromDoor.body).request_id, 'door-1');
      assert.equal(fromDoor.headers['x-request-id'], 'door-1');
      // Every header the app's refusal carries, but the per-request ones it set before refusing (X-Model, ...).
      const perRequest = new Set([
        'date',
        'content-length',
        'x-model',
        'x-model-version',
        'x-class',
        'x-seed',
        'keep-alive',
        'connection',
      ]);
      const names = (a: Answer) =>
        Object.keys(a.headers)
          .filter((h) => !perRequest.has(h))
          .sort();
      assert.deepEqual(names(fromDoor), names(fromApp));
      for (const h of names(fromApp))
        if (h !== 'x-request-id' && h !== 'retry-after') assert.equal(fromDoor.headers[h], fromApp.headers[h], h);
      // The Open Inference Protocol's infer is shed at the door too, in that protocol's error shape.
      const v2 = await fetch(`${base}/v2/models/tiny/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      const v2Body = (await v2.json()) as { error: unknown; code: unknown };
      assert.equal(v2.status, 503);
      assert.equal(v2Body.code, 'QUEUE_FULL');
      assert.equal(typeof v2Body.error, 'string');
      const metrics = await ts.metrics.registry.metrics();
      assert.match(metrics, /sagan_requests_rejected_total\{model="tiny",version="1",reason="queue_full"\} 5/);
      assert.match(
        metrics,
        /sagan_http_request_duration_seconds_count\{route="\/v2\/models\/:model\/infer",method="POST",status="503"\} 1/,
      );
      assert.match(
        metrics,
        /sagan_http_request_duration_seconds_count\{route="\/v1\/models\/:model\/generate",method="GET",status="503"\} 2/,
      );
      assert.match(
        metrics,
        /sagan_http_request_duration_seconds_count\{route="\/generate",method="GET",status="503"\} 1/,
      );
      const answered = await Promise.all(pending);
      assert.deepEqual(
        answered.map((a) => a.status),
        [200, 200, 200],
        'the queued requests still complete',
      );
    } finally {
      server.close();
      await ts.close();
    }
  },
);

test('everything else goes to the app: unknown models, bad escapes, other routes, room in the queue', async () => {
  const dir = await makeModelsDir([{ name: 'tiny', classes: TINY_CLASSES }]);
  const ts = await startTestServer(dir);
  const server: Server = createServer(
    frontDoor(ts.app, { registry: ts.registry, metrics: ts.metrics, responses: ts.responses }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    assert.equal((await get(base, '/v1/models/nope/generate?class=0')).status, 404);
    assert.equal((await get(base, '/v1/models/%E0%A4%A/generate?class=0')).status, 400);
    assert.equal((await get(base, '/v1/models/tiny/generate?class=0&seed=1')).status, 200);
    assert.equal((await get(base, '/healthz')).status, 200);
  } finally {
    server.close();
    await ts.close();
  }
});

test(
  'a full queue still answers what the response cache holds: the door and the model stage let a cached GET through',
  { timeout: 30_000 },
  async () => {
    const dir = await makeModelsDir([
      {
        name: 'tiny',
        classes: TINY_CLASSES,
        batching: { maxBatchSize: 1, maxQueueDelayMs: 0, maxQueueSize: 1, requestTimeoutMs: 20_000 },
      },
    ]);
    const ts = await startTestServer(dir, { responseCacheMb: 8 });
    const server: Server = createServer(
      frontDoor(ts.app, { registry: ts.registry, metrics: ts.metrics, responses: ts.responses }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const tiny = ts.registry.get('tiny');
      assert.ok(tiny && isReady(tiny));
      const cachedPath = '/v1/models/tiny/generate?class=0&seed=42';
      const first = await get(base, cachedPath);
      assert.equal(first.status, 200);
      assert.equal(first.headers['x-cache'], 'miss');
      hangWorkers(tiny.instances, 3000);
      const pending = [
        get(base, '/v1/models/tiny/generate?class=0&seed=1'),
        get(base, '/v1/models/tiny/generate?class=0&seed=2'),
      ];
      for (let i = 0; i < 200 && tiny.batcher.queuedRows !== 1; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(tiny.batcher.queuedRows, 1, 'one batch in flight, the queue full');
      const uncached = await get(base, '/v1/models/tiny/generate?class=0&seed=43');
      assert.equal(uncached.status, 503, 'an uncached seed is shed');
      const cached = await get(base, cachedPath);
      assert.equal(cached.status, 200, 'the cached seed is answered');
      assert.equal(cached.headers['x-cache'], 'hit');
      assert.equal(cached.body, first.body);
      // The same image by another spelling of its URL is not known to the door: shed like any request.
      const respelled = await get(base, '/v1/models/tiny/generate?seed=42&class=0');
      assert.equal(respelled.status, 503);
      for (const p of await Promise.all(pending)) assert.equal(p.status, 200);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await ts.close();
    }
  },
);
