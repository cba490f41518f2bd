import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import request from 'supertest';
import sharp from 'sharp';
import { latentForSeed } from '@sagan-serve/model-contract/seeded-latent';
import {
  histogramTotals,
  makeModelsDir,
  startTestServer,
  TINY_CLASSES,
  type TestServer,
  binary,
} from '../helpers/test-server.js';

describe('generate', () => {
  let ts: TestServer;
  let server: Server;
  const get = (url: string) => request(server).get(url).buffer(true).parse(binary);

  before(async () => {
    const dir = await makeModelsDir([
      { name: 'dogs', classes: TINY_CLASSES, batching: { maxBatchSize: 8, maxQueueDelayMs: 20 } },
      { name: 'plain', classes: ['a', 'b'], attentionResolution: null, seed: 2 },
    ]);
    ts = await startTestServer(dir, { defaultModel: 'dogs' });
    server = ts.app.listen(0, '127.0.0.1');
  });
  after(async () => {
    server.close();
    await ts.close();
  });

  test('models are listed with status and provider', async () => {
    const res = await request(server).get('/v1/models').expect(200);
    assert.equal(res.body.default_model, 'dogs');
    const dogs = res.body.models.find((m: { name: string }) => m.name === 'dogs');
    assert.equal(dogs.status, 'ready');
    assert.equal(dogs.provider, 'cpu');
    assert.deepEqual(dogs.manifest.classes, TINY_CLASSES);
    assert.equal(dogs.batching.maxBatchSize, 8, 'manifest batching overrides the server default');
    const one = await request(server).get('/v1/models/plain').expect(200);
    assert.equal(one.body.status, 'ready');
    assert.equal(one.body.manifest.attention, undefined);
  });

  test('GET /generate gives a PNG with the documented headers, and identical bytes on repeat', async () => {
    const a = await get('/generate?class=saint_bernard&seed=7').expect(200);
    assert.equal(a.headers['content-type'], 'image/png');
    assert.equal(a.headers['x-seed'], '7');
    assert.equal(a.headers['x-class'], 'saint_bernard');
    assert.equal(a.headers['x-model'], 'dogs');
    assert.equal(a.headers['x-model-version'], '1');
    assert.match(a.headers['cache-control'], /immutable/);
    assert.ok(a.headers.etag);
    const meta = await sharp(a.body as Buffer).metadata();
    assert.equal(meta.format, 'png');
    assert.equal(meta.width, 16);
    const b = await get('/v1/models/dogs/generate?class=Saint%20Bernard&seed=7').expect(200);
    assert.ok((a.body as Buffer).equals(b.body as Buffer), 'same model, class, seed give identical bytes');
    assert.equal(b.headers.etag, a.headers.etag);
    const other = await get('/generate?class=3&seed=8').expect(200);
    assert.ok(!(a.body as Buffer).equals(other.body as Buffer), 'another seed gives another image');
    await request(server).get('/generate?class=saint_bernard&seed=7').set('If-None-Match', a.headers.etag).expect(304);
    // `*` matches any representation: answered before anything is generated.
    const imagesBefore = (await histogramTotals(ts.metrics, 'sagan_batch_size')).sum;
    await request(server).get('/generate?class=saint_bernard&seed=9').set('If-None-Match', '*').expect(304);
    assert.equal(
      (await histogramTotals(ts.metrics, 'sagan_batch_size')).sum,
      imagesBefore,
      'no image was generated for If-None-Match: *',
    );
    // A server-chosen seed is a new draw: there is no current representation for `*` to match.
    await request(server).get('/generate?class=saint_bernard').set('If-None-Match', '"other", *').expect(200);
  });

  test('a request without a seed gets a random one in X-Seed that reproduces the image', async () => {
    const a = await get('/generate?class=maltese_dog').expect(200);
    const seed = a.headers['x-seed'];
    assert.match(seed, /^\d+$/);
    assert.equal(a.headers['cache-control'], 'no-store');
    const b = await get(`/generate?class=maltese_dog&seed=${seed}`).expect(200);
    assert.ok((a.body as Buffer).equals(b.body as Buffer));
  });

  test('POST with explicit z reproduces the seeded image', async () => {
    const seeded = await get('/generate?class=golden_retriever&seed=11').expect(200);
    const z = Array.from(latentForSeed(11, 16));
    const posted = await request(server)
      .post('/v1/models/dogs/generate')
      .send({ class: 'golden_retriever', z })
      .buffer(true)
      .parse(binary)
      .expect(200);
    assert.equal(posted.headers['x-seed'], undefined);
    assert.ok((seeded.body as Buffer).equals(posted.body as Buffer));
    const body = await request(server)
      .post('/generate')
      .send({ class: 1, seed: 11 })
      .buffer(true)
      .parse(binary)
      .expect(200);
    assert.ok((seeded.body as Buffer).equals(body.body as Buffer), 'class by index in JSON, seed in the body');
  });

  test('concurrent requests form batches larger than 1 and each gets the same bytes as alone', async () => {
    const alone = new Map<number, Buffer>();
    for (const seed of [100, 101, 102])
      alone.set(seed, (await get(`/generate?class=german_shepherd&seed=${seed}`).expect(200)).body as Buffer);
    const before = await histogramTotals(ts.metrics, 'sagan_batch_size');
    // The three seeds land at different positions inside busy batches of mixed classes and truncations.
    const urls: Array<[number | undefined, string]> = [];
    for (let i = 0; i < 24; i++) {
      const seed = [100, 101, 102][i % 3];
      if (i % 4 === 0) urls.push([seed, `/generate?class=german_shepherd&seed=${seed}`]);
      else
        urls.push([undefined, `/generate?class=${TINY_CLASSES[i % 4]}&seed=${1000 + i}&truncation=0.${(i % 9) + 1}`]);
    }
    const responses = await Promise.all(urls.map(([, url]) => get(url).expect(200)));
    responses.forEach((res, i) => {
      const seed = urls[i][0];
      if (seed !== undefined)
        assert.ok(
          (res.body as Buffer).equals(alone.get(seed)!),
          `seed ${seed} at position ${i} differs inside a batch`,
        );
    });
    const afterTotals = await histogramTotals(ts.metrics, 'sagan_batch_size');
    const rows = afterTotals.sum - before.sum;
    const batches = afterTotals.count - before.count;
    assert.equal(rows, 24);
    assert.ok(rows / batches > 1, `mean batch size ${rows / batches} should be > 1`);
    const metrics = await request(server).get('/metrics').expect(200);
    assert.match(metrics.text, /sagan_inference_duration_seconds_count\{model="dogs",version="1",provider="cpu"\} \d+/);
    assert.match(metrics.text, /sagan_model_info\{model="dogs",version="1",provider="cpu"\} 1/);
    assert.match(metrics.text, /sagan_images_generated_total\{model="dogs",version="1"\} \d+/);
    assert.match(
      metrics.text,
      /sagan_http_request_duration_seconds_bucket\{le="0.005",route="\/generate",method="GET",status="200"\}/,
    );
  });

  test('n > 1 returns the documented grid; size upscales with nearest by default', async () => {
    const grid = await get('/generate?class=0&seed=5&n=4').expect(200);
    const meta = await sharp(grid.body as Buffer).metadata();
    assert.equal(meta.width, 2 * 16 + 2);
    assert.equal(meta.height, 2 * 16 + 2);
    // Tile 1 (top right) is seed 6 alone.
    const seed6 = await get('/generate?class=0&seed=6').expect(200);
    const tile = await sharp(grid.body as Buffer)
      .extract({ left: 18, top: 0, width: 16, height: 16 })
      .raw()
      .toBuffer();
    const single = await sharp(seed6.body as Buffer)
      .raw()
      .toBuffer();
    assert.ok(tile.equals(single));
    const big = await get('/generate?class=0&seed=6&size=64&format=webp').expect(200);
    assert.equal(big.headers['content-type'], 'image/webp');
    assert.equal((await sharp(big.body as Buffer).metadata()).width, 64);
  });

  test('attention overlay and panel render; a model without attention answers NO_ATTENTION', async () => {
    const plain = await get('/generate?class=saint_bernard&seed=3').expect(200);
    const overlay = await get('/generate?class=saint_bernard&seed=3&attention=overlay&query=4,4&query=12,10').expect(
      200,
    );
    assert.equal((await sharp(overlay.body as Buffer).metadata()).width, 16);
    assert.ok(!(overlay.body as Buffer).equals(plain.body as Buffer));
    const panel = await get('/generate?class=saint_bernard&seed=3&attention=panel&query=4,4&query=12,10').expect(200);
    const meta = await sharp(panel.body as Buffer).metadata();
    assert.equal(meta.height, 16);
    assert.equal(meta.width, 3 * 16 + 2 * 2, 'image + 2 heat maps with 2 px gaps');
    const res = await request(server).get('/v1/models/plain/generate?class=a&attention=overlay').expect(400);
    assert.equal(res.body.error.code, 'NO_ATTENTION');
  });

  test('samples streams NDJSON lines whose images equal the single-image endpoint', async () => {
    const res = await request(server)
      .post('/v1/models/dogs/samples')
      .send({ classes: ['maltese_dog', 'saint_bernard'], count: 10, start_seed: 40 })
      .expect(200);
    assert.equal(res.headers['content-type'], 'application/x-ndjson');
    const lines = res.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, 20);
    assert.deepEqual(
      lines.slice(0, 3).map((l) => [l.index, l.seed, l.class]),
      [
        [0, 40, 'maltese_dog'],
        [1, 40, 'saint_bernard'],
        [2, 41, 'maltese_dog'],
      ],
    );
    const single = await get('/generate?class=saint_bernard&seed=49').expect(200);
    assert.ok(Buffer.from(lines[19].data, 'base64').equals(single.body as Buffer));
    const capped = await request(server)
      .post('/v1/models/dogs/samples')
      .send({ class: 0, count: 1_000_000 })
      .expect(400);
    assert.equal(capped.body.error.code, 'INVALID_ARGUMENT');
    assert.equal(capped.body.error.field, 'body.count');
  });

  test('every bad input gets a coded 4xx naming the field', async () => {
    const cases: Array<[string, number, string, string?]> = [
      ['/v1/models/nope/generate?class=a', 404, 'UNKNOWN_MODEL', 'model'],
      ['/v1/models/..%2F..%2Fetc/generate?class=a', 404, 'UNKNOWN_MODEL', 'model'],
      ['/generate?class=saint_bernrd', 400, 'UNKNOWN_CLASS', 'class'],
      ['/generate?class=99', 400, 'UNKNOWN_CLASS', 'class'],
      ['/generate', 400, 'INVALID_ARGUMENT', 'class'],
      ['/generate?class=0&seed=-1', 400, 'INVALID_ARGUMENT', 'seed'],
      ['/generate?class=0&seed=4294967296', 400, 'INVALID_ARGUMENT', 'seed'],
      ['/generate?class=0&seed=abc', 400, 'INVALID_ARGUMENT', 'seed'],
      ['/generate?class=0&seed=1.5', 400, 'INVALID_ARGUMENT', 'seed'],
      ['/generate?class=0&seed=1&seed=2', 400, 'INVALID_ARGUMENT', 'seed'],
      ['/generate?class=0&truncation=0', 400, 'INVALID_ARGUMENT', 'truncation'],
      ['/generate?class=0&truncation=-1', 400, 'INVALID_ARGUMENT', 'truncation'],
      ['/generate?class=0&truncation=2', 400, 'INVALID_ARGUMENT', 'truncation'],
      ['/generate?class=0&format=gif', 400, 'INVALID_ARGUMENT', 'format'],
      ['/generate?class=0&size=100000', 400, 'INVALID_ARGUMENT', 'size'],
      ['/generate?class=0&size=2048', 400, 'INVALID_ARGUMENT', 'size'],
      ['/generate?class=0&size=8', 400, 'INVALID_ARGUMENT', 'size'],
      ['/generate?class=0&n=0', 400, 'INVALID_ARGUMENT', 'n'],
      ['/generate?class=0&n=100000', 400, 'INVALID_ARGUMENT', 'n'],
      ['/generate?class=0&n=65', 400, 'INVALID_ARGUMENT', 'n'],
      ['/generate?class=0&attention=sideways', 400, 'INVALID_ARGUMENT', 'attention'],
      ['/generate?class=0&attention=overlay&query=16,0', 400, 'INVALID_ARGUMENT', 'query'],
      ['/generate?class=0&attention=overlay&query=abc', 400, 'INVALID_ARGUMENT', 'query.0'],
      ['/generate?class=0&query=1,1', 400, 'INVALID_ARGUMENT', 'query'],
      ['/generate?class=0&attention=overlay&n=2', 400, 'INVALID_ARGUMENT', 'n'],
      ['/generate?class=0&colour=red', 400, 'INVALID_ARGUMENT', 'colour'],
      ['/nowhere', 404, 'NOT_FOUND'],
    ];
    for (const [url, status, code, field] of cases) {
      const res = await request(server).get(url);
      assert.equal(res.status, status, `${url}: ${res.status} ${res.text}`);
      assert.equal(res.body.error.code, code, url);
      if (field) assert.equal(res.body.error.field, field, url);
      assert.ok(!/\bat .*\.js/.test(res.text), 'no stack trace');
    }
    const unknown = await request(server).get('/generate?class=saint_bernrd');
    assert.ok((unknown.body.error.allowed as string[]).includes('saint_bernard'), 'closest names are listed');
    const format = await request(server).get('/generate?class=0&format=gif');
    assert.deepEqual(format.body.error.allowed, ['png', 'jpeg', 'webp']);
  });

  test('bad bodies get coded 4xx', async () => {
    const post = (body: string, type = 'application/json') =>
      request(server).post('/v1/models/dogs/generate').set('Content-Type', type).send(body);
    const cases: Array<[request.Test, number, string, string?]> = [
      [post('{"class": "a",'), 400, 'MALFORMED_JSON'],
      [post('class=a', 'application/x-www-form-urlencoded'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [post(JSON.stringify({ class: 0, z: [1, 2, 3] })), 400, 'INVALID_ARGUMENT', 'body.z'],
      [post(JSON.stringify({ class: 0, z: Array(16).fill('x') })), 400, 'INVALID_ARGUMENT'],
      [post(JSON.stringify({ class: 0, z: Array(16).fill(1e300) })), 400, 'INVALID_ARGUMENT', 'body.z'],
      [post(JSON.stringify({ class: 0, z: Array(16).fill(0), seed: 3 })), 400, 'INVALID_ARGUMENT', 'body.seed'],
      [post(JSON.stringify({ class: 0, seed: '7' })), 400, 'INVALID_ARGUMENT', 'body.seed'],
      [post(JSON.stringify({ class: 0, extra: 1 })), 400, 'INVALID_ARGUMENT', 'body.extra'],
      [post(JSON.stringify([1, 2])), 400, 'INVALID_ARGUMENT'],
      [post(JSON.stringify({ class: 0, z: Array(400_000).fill(0.5) })), 413, 'PAYLOAD_TOO_LARGE'],
      [request(server).delete('/v1/models/dogs/generate'), 405, 'METHOD_NOT_ALLOWED'],
    ];
    for (const [pending, status, code, field] of cases) {
      const res = await pending;
      assert.equal(res.status, status, `${res.status} ${res.text}`);
      assert.equal(res.body.error.code, code, res.text);
      if (field) assert.equal(res.body.error.field, field, res.text);
    }
  });

  test('health and readiness', async () => {
    await request(server).get('/healthz').expect(200, { status: 'ok' });
    const ready = await request(server).get('/readyz').expect(200);
    assert.deepEqual(ready.body.models, { dogs: 'ready', plain: 'ready' });
    const spec = await request(server).get('/openapi.yaml').expect(200);
    assert.match(spec.text, /^openapi: 3\.1/);
  });
});
