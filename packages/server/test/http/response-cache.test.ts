/**
 * The response cache on a real server (real ONNX Runtime sessions, real HTTP): seeded images and latent
 * walks are served from it without inference, concurrent identical requests run inference once, a new
 * version or new files never get old bytes, and the cache stays within its bound.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http, { type Server } from 'node:http';
import request from 'supertest';
import { isReady } from '../../src/models/model-version.js';
import { metricValue } from '../../scripts/shared/metrics-text.js';
import {
  binary,
  makeModelsDir,
  startTestServer,
  TINY_CLASSES,
  type TestServer,
  until,
  writeModelVersion,
} from '../helpers/test-server.js';

const TOKEN = 'response-cache-token-0123456789';
/** Control calls are JSON calls (admin-auth.ts): a body is optional, the content type is not. */
const auth = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' };

/** A reader of the server's /metrics now: the sum of every series of a metric. */
async function metricsOf(app: Server | TestServer['app']): Promise<(name: string) => number> {
  const text = (await request(app).get('/metrics').expect(200)).text;
  return (name) => metricValue(text, name);
}

const IMAGES = 'sagan_images_generated_total';
const HITS = 'sagan_response_cache_hits_total';

describe('response cache: seeded requests, bypasses, versions', () => {
  let ts: TestServer;
  let root: string;
  const model = { name: 'dogs', classes: TINY_CLASSES };
  const image = (p: string) => request(ts.app).get(p).buffer(true).parse(binary);
  const post = (p: string, body: object) => request(ts.app).post(p).send(body).buffer(true).parse(binary);

  before(async () => {
    root = await makeModelsDir([]);
    await writeModelVersion(root, model, '1', 1);
    ts = await startTestServer(root, { responseCacheMb: 64, modelControl: 'explicit', adminToken: TOKEN });
  });
  after(async () => {
    await ts.close();
  });

  test('a repeated seeded GET is answered from the cache: same bytes, no inference', async () => {
    const first = await image('/v1/models/dogs/generate?class=1&seed=11&n=2').expect(200);
    assert.equal(first.headers['x-cache'], 'miss');
    const before = await metricsOf(ts.app);
    const second = await image('/v1/models/dogs/generate?class=1&seed=11&n=2').expect(200);
    const afterHit = await metricsOf(ts.app);
    assert.equal(second.headers['x-cache'], 'hit');
    assert.ok(second.body.equals(first.body), 'identical bytes');
    assert.equal(second.headers.etag, first.headers.etag);
    assert.equal(second.headers['content-type'], 'image/png');
    assert.equal(second.headers['x-seed'], '11');
    assert.equal(afterHit(IMAGES), before(IMAGES), 'sagan_images_generated_total did not move');
    assert.equal(afterHit('sagan_batch_size_count'), before('sagan_batch_size_count'));
    assert.equal(afterHit('sagan_inference_duration_seconds_count'), before('sagan_inference_duration_seconds_count'));
    assert.equal(afterHit(HITS), before(HITS) + 1);
  });

  test('a seeded POST is cached too, and a GET of the same image hits it', async () => {
    const body = { class: 'golden_retriever', seed: 21 };
    const first = await post('/v1/models/dogs/generate', body).expect(200);
    assert.equal(first.headers['x-cache'], 'miss');
    const before = await metricsOf(ts.app);
    const again = await post('/v1/models/dogs/generate', body).expect(200);
    const get = await image('/v1/models/dogs/generate?class=golden_retriever&seed=21').expect(200);
    assert.equal(again.headers['x-cache'], 'hit');
    assert.equal(get.headers['x-cache'], 'hit');
    assert.ok(again.body.equals(first.body) && get.body.equals(first.body));
    assert.equal((await metricsOf(ts.app))(IMAGES), before(IMAGES));
  });

  test('a server-chosen seed and explicit z bypass the cache and run inference every time', async () => {
    const before = await metricsOf(ts.app);
    for (let i = 0; i < 2; i++) {
      const random = await image('/v1/models/dogs/generate?class=0').expect(200);
      assert.equal(random.headers['x-cache'], 'bypass');
      assert.equal(random.headers['cache-control'], 'no-store');
      const z = await post('/v1/models/dogs/generate', { class: 0, z: new Array<number>(16).fill(0.5) }).expect(200);
      assert.equal(z.headers['x-cache'], 'bypass');
    }
    const after = await metricsOf(ts.app);
    assert.equal(after(IMAGES), before(IMAGES) + 4);
    assert.equal(after(HITS), before(HITS));
  });

  test('a seeded latent walk (interpolate) is cached', async () => {
    const walk = '/v1/models/dogs/interpolate?class=2&from=1&to=2&steps=3';
    const first = await image(walk).expect(200);
    assert.equal(first.headers['x-cache'], 'miss');
    const before = await metricsOf(ts.app);
    const second = await image(walk).expect(200);
    assert.equal(second.headers['x-cache'], 'hit');
    assert.ok(second.body.equals(first.body));
    assert.equal((await metricsOf(ts.app))(IMAGES), before(IMAGES));
  });

  test('a new version, then new files under the same version string, never serve the old bytes', async () => {
    const url = '/v1/models/dogs/generate?class=3&seed=5';
    const v1 = await image(url).expect(200);
    assert.equal((await image(url).expect(200)).headers['x-cache'], 'hit');

    await writeModelVersion(root, model, '2', 2);
    await request(ts.app).post('/v1/repository/models/dogs/load').set(auth).expect(200);
    await ts.registry.settled();
    const v2 = await image(url).expect(200);
    assert.equal(v2.headers['x-model-version'], '2');
    assert.equal(v2.headers['x-cache'], 'miss');
    assert.notEqual(v2.headers.etag, v1.headers.etag);
    assert.ok(!v2.body.equals(v1.body), 'the new weights serve');
    assert.equal((await image(url).expect(200)).headers['x-cache'], 'hit');

    await writeModelVersion(root, model, '2', 3);
    await request(ts.app).post('/v1/repository/models/dogs/load').set(auth).expect(200);
    await ts.registry.settled();
    const rewritten = await image(url).expect(200);
    assert.equal(rewritten.headers['x-model-version'], '2');
    assert.equal(rewritten.headers['x-cache'], 'miss');
    assert.notEqual(rewritten.headers.etag, v2.headers.etag);
    assert.ok(!rewritten.body.equals(v2.body), 'the rewritten files serve');
  });
});

describe('response cache: bound and off', () => {
  test('a stream of distinct seeds keeps the cache within RESPONSE_CACHE_MB, evicting the oldest', async () => {
    // About two tiny PNGs (under 1 KiB each, plus the per-entry overhead).
    const responseCacheMb = 2.5 / 1024;
    const bound = Math.floor(responseCacheMb * 1024 * 1024);
    const ts = await startTestServer(await makeModelsDir([{ name: 'dogs', classes: TINY_CLASSES }]), {
      responseCacheMb,
    });
    try {
      for (let seed = 0; seed < 12; seed++) {
        const res = await request(ts.app).get(`/v1/models/dogs/generate?class=0&seed=${seed}`).expect(200);
        assert.equal(res.headers['x-cache'], 'miss');
        const metrics = await metricsOf(ts.app);
        assert.ok(metrics('sagan_response_cache_bytes') <= bound, `bytes within ${bound} after seed ${seed}`);
        assert.ok(metrics('sagan_response_cache_entries') >= 1);
      }
      const metrics = await metricsOf(ts.app);
      assert.ok(metrics('sagan_response_cache_evictions_total') >= 9, 'most entries were evicted');
      const last = await request(ts.app).get('/v1/models/dogs/generate?class=0&seed=11').expect(200);
      assert.equal(last.headers['x-cache'], 'hit', 'the most recent entry is kept');
      const first = await request(ts.app).get('/v1/models/dogs/generate?class=0&seed=0').expect(200);
      assert.equal(first.headers['x-cache'], 'miss', 'the oldest was evicted');
    } finally {
      await ts.close();
    }
  });

  test('RESPONSE_CACHE_MB=0 caches nothing and sends no X-Cache', async () => {
    const ts = await startTestServer(await makeModelsDir([{ name: 'dogs', classes: TINY_CLASSES }]), {
      responseCacheMb: 0,
    });
    try {
      const before = await metricsOf(ts.app);
      for (let i = 0; i < 2; i++) {
        const res = await request(ts.app).get('/v1/models/dogs/generate?class=0&seed=4').expect(200);
        assert.equal(res.headers['x-cache'], undefined);
      }
      const after = await metricsOf(ts.app);
      assert.equal(after(IMAGES), before(IMAGES) + 2);
      assert.equal(after('sagan_response_cache_bytes'), 0);
      assert.equal(after(HITS), 0);
    } finally {
      await ts.close();
    }
  });
});

describe('response cache: concurrent identical misses', () => {
  let ts: TestServer;
  let server: Server;
  let base: string;
  const MAX_BATCH = 8;

  before(async () => {
    // A batch leaves only when full (the queue delay is a minute): the requests below stay queued until a
    // filler request completes the batch, so every identical request arrives while the first is pending.
    const dir = await makeModelsDir([
      { name: 'dogs', classes: TINY_CLASSES, batching: { maxBatchSize: MAX_BATCH, maxQueueDelayMs: 60_000 } },
    ]);
    ts = await startTestServer(dir, { responseCacheMb: 64 });
    server = ts.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const address = server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  after(async () => {
    server.close();
    await ts.close();
  });

  const misses = async () => (await metricsOf(server))('sagan_response_cache_misses_total');
  const queuedRows = () => {
    const entry = ts.registry.get('dogs');
    return entry && isReady(entry) ? entry.batcher.queuedRows : -1;
  };
  /** A GET sent now (a supertest request is sent only when awaited), expecting 200. */
  const sent = (p: string) =>
    request(server)
      .get(p)
      .buffer(true)
      .parse(binary)
      .expect(200)
      .then((res) => res);
  /** Completes the pending batch with a request of its own (another seed) for the rows still missing. */
  const fillBatch = (rows: number, seed: number) => sent(`/v1/models/dogs/generate?class=0&seed=${seed}&n=${rows}`);

  /** A GET on its own connection, which `destroy` closes before the answer. */
  function openGet(p: string): { response: Promise<{ status: number; cache: string; body: Buffer }>; destroy(): void } {
    let req!: http.ClientRequest;
    const response = new Promise<{ status: number; cache: string; body: Buffer }>((resolve, reject) => {
      req = http.get(`${base}${p}`, { agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, cache: String(res.headers['x-cache']), body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      });
      req.on('error', reject);
    });
    return { response, destroy: () => req.destroy() };
  }

  const openConnections = () =>
    new Promise<number>((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n))));

  test('five identical requests at once run inference once and all get the image', async () => {
    const url = '/v1/models/dogs/generate?class=1&seed=31&n=2';
    const start = await misses();
    const before = await metricsOf(server);
    const pending = Array.from({ length: 5 }, () => sent(url));
    await until(async () => (await misses()) === start + 5, 'five misses');
    assert.equal(queuedRows(), 2, 'one job of n=2 is queued for all five');
    const filler = fillBatch(MAX_BATCH - 2, 1000);
    const answers = await Promise.all(pending);
    await filler;
    for (const answer of answers) {
      assert.equal(answer.headers['x-cache'], 'miss');
      assert.ok(answer.body.equals(answers[0].body));
    }
    const after = await metricsOf(server);
    assert.equal(after(IMAGES), before(IMAGES) + MAX_BATCH, 'one batch: 2 rows for the five, 6 for the filler');
    assert.equal(after('sagan_response_cache_coalesced_total'), before('sagan_response_cache_coalesced_total') + 4);
    const again = await sent(url);
    assert.equal(again.headers['x-cache'], 'hit');
  });

  test('the first client leaving does not cancel the image a second client waits for', async () => {
    const url = '/v1/models/dogs/generate?class=2&seed=41';
    const start = await misses();
    const first = openGet(url);
    first.response.catch(() => undefined);
    await until(async () => (await misses()) === start + 1, 'the first miss');
    const second = openGet(url);
    await until(async () => (await misses()) === start + 2, 'the second miss');
    first.destroy();
    await until(async () => (await openConnections()) === 1, 'the server to see the first client leave');
    assert.equal(queuedRows(), 1, 'the shared job is still queued');
    const filler = fillBatch(MAX_BATCH - 1, 2000);
    const answer = await second.response;
    await filler;
    assert.equal(answer.status, 200);
    assert.equal(answer.cache, 'miss');
    assert.ok(answer.body.length > 0);
  });

  test('when every client has left, the shared job leaves the queue', async () => {
    const url = '/v1/models/dogs/generate?class=3&seed=51';
    const start = await misses();
    const clients = [openGet(url), openGet(url)];
    for (const client of clients) client.response.catch(() => undefined);
    await until(async () => (await misses()) === start + 2, 'two misses');
    assert.equal(queuedRows(), 1);
    for (const client of clients) client.destroy();
    await until(() => queuedRows() === 0, 'the job to leave the queue');
    const pending = sent(url);
    await until(() => queuedRows() === 1, 'a fresh job');
    await fillBatch(MAX_BATCH - 1, 3000);
    const fresh = await pending;
    assert.equal(fresh.headers['x-cache'], 'miss', 'the abandoned work was not cached');
  });
});
