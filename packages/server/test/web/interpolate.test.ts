import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import request from 'supertest';
import sharp from 'sharp';
import { latentForSeed } from '@sagan-serve/model-contract/seeded-latent';
import { interpolateLatent, interpolationPath, interpolationWeights } from '../../src/latent/interpolate.js';
import { makeModelsDir, startTestServer, TINY_CLASSES, type TestServer, binary } from '../helpers/test-server.js';

const S = 16;
const GAP = 2;

/** Raw RGB of tile i of a strip at native size. */
async function tile(strip: Buffer, i: number, side = S, gap = GAP): Promise<Buffer> {
  return sharp(strip)
    .extract({ left: i * (side + gap), top: 0, width: side, height: side })
    .raw()
    .toBuffer();
}

/** The documented slerp, written out independently of src/latent/interpolate.ts. */
function slerpReference(a: Float32Array, b: Float32Array, t: number): number[] {
  const dot = a.reduce((s, v, i) => s + v * b[i], 0);
  const na = Math.hypot(...a);
  const nb = Math.hypot(...b);
  const omega = Math.acos(Math.min(1, Math.max(-1, dot / (na * nb))));
  const so = Math.sin(omega);
  return Array.from(a, (v, i) => Math.fround((Math.sin((1 - t) * omega) / so) * v + (Math.sin(t * omega) / so) * b[i]));
}

describe('interpolation math', () => {
  test('both modes give exactly z0 at t=0 and z1 at t=1', () => {
    const z0 = latentForSeed(1, 128);
    const z1 = latentForSeed(2, 128, 0.7);
    for (const mode of ['lerp', 'slerp'] as const) {
      const path = interpolationPath(z0, z1, 5, mode);
      assert.deepEqual(path.subarray(0, 128), z0, mode);
      assert.deepEqual(path.subarray(4 * 128), z1, mode);
    }
  });

  test('slerp keeps the norm between orthogonal unit vectors; lerp shortens it', () => {
    const a = new Float32Array([1, 0]);
    const b = new Float32Array([0, 1]);
    const mid = interpolateLatent(new Float32Array(2), a, b, 0.5, 'slerp');
    assert.ok(Math.abs(Math.hypot(...mid) - 1) < 1e-6);
    assert.ok(Math.abs(mid[0] - Math.SQRT1_2) < 1e-6);
    const lin = interpolateLatent(new Float32Array(2), a, b, 0.5, 'lerp');
    assert.deepEqual(Array.from(lin), [0.5, 0.5]);
  });

  test('slerp falls back to lerp for parallel or zero latents', () => {
    const a = new Float32Array([1, 2, 3]);
    assert.deepEqual(interpolationWeights(a, a, 0.25, 'slerp'), [0.75, 0.25]);
    assert.deepEqual(interpolationWeights(new Float32Array(3), a, 0.25, 'slerp'), [0.75, 0.25]);
    assert.throws(() => interpolationWeights(a, new Float32Array(2), 0.5, 'slerp'), RangeError);
    assert.throws(() => interpolationPath(a, a, 1, 'lerp'), RangeError);
  });
});

describe('GET /v1/models/{model}/interpolate', () => {
  let ts: TestServer;
  let server: Server;
  const get = (url: string) => request(server).get(url).buffer(true).parse(binary);

  before(async () => {
    const dir = await makeModelsDir([
      { name: 'dogs', classes: TINY_CLASSES, batching: { maxBatchSize: 4, maxQueueDelayMs: 5 } },
    ]);
    ts = await startTestServer(dir, { defaultModel: 'dogs' });
    server = ts.app.listen(0, '127.0.0.1');
  });
  after(async () => {
    server.close();
    await ts.close();
  });

  test('a strip of `steps` tiles whose first and last equal the single images of from and to', async () => {
    const res = await get('/v1/models/dogs/interpolate?class=saint_bernard&from=3&to=99&steps=6').expect(200);
    assert.equal(res.headers['content-type'], 'image/png');
    assert.equal(res.headers['x-model'], 'dogs');
    assert.equal(res.headers['x-class'], 'saint_bernard');
    assert.match(res.headers['cache-control'], /immutable/);
    const strip = res.body as Buffer;
    const meta = await sharp(strip).metadata();
    assert.equal(meta.width, 6 * S + 5 * GAP);
    assert.equal(meta.height, S);
    const from = await get('/v1/models/dogs/generate?class=saint_bernard&seed=3').expect(200);
    const to = await get('/v1/models/dogs/generate?class=saint_bernard&seed=99').expect(200);
    assert.ok(
      (await tile(strip, 0)).equals(
        await sharp(from.body as Buffer)
          .raw()
          .toBuffer(),
      ),
      'tile 0 is seed `from`',
    );
    assert.ok(
      (await tile(strip, 5)).equals(
        await sharp(to.body as Buffer)
          .raw()
          .toBuffer(),
      ),
      'last tile is seed `to`',
    );
    assert.ok(!(await tile(strip, 2)).equals(await tile(strip, 0)), 'middle tiles differ from the ends');
    // The gap column between tiles is white.
    const gap = await sharp(strip).extract({ left: S, top: 0, width: GAP, height: S }).raw().toBuffer();
    assert.ok(gap.every((b) => b === 255));
  });

  test('the middle tiles follow the documented slerp formula (checked against explicit z)', async () => {
    const strip = (await get('/v1/models/dogs/interpolate?class=1&from=10&to=20&steps=4&truncation=0.8').expect(200))
      .body as Buffer;
    const z = slerpReference(latentForSeed(10, 16, 0.8), latentForSeed(20, 16, 0.8), 1 / 3);
    const single = await request(server)
      .post('/v1/models/dogs/generate')
      .send({ class: 1, z })
      .buffer(true)
      .parse(binary)
      .expect(200);
    assert.ok(
      (await tile(strip, 1)).equals(
        await sharp(single.body as Buffer)
          .raw()
          .toBuffer(),
      ),
      'tile 1 = G(slerp(z10, z20, 1/3))',
    );
    const first = await get('/v1/models/dogs/generate?class=1&seed=10&truncation=0.8').expect(200);
    assert.ok(
      (await tile(strip, 0)).equals(
        await sharp(first.body as Buffer)
          .raw()
          .toBuffer(),
      ),
      'truncation applies to both ends',
    );
  });

  test('lerp and slerp share the ends and differ in between; default steps is 8', async () => {
    const slerp = (await get('/v1/models/dogs/interpolate?class=0&from=1&to=2').expect(200)).body as Buffer;
    const lerp = (await get('/v1/models/dogs/interpolate?class=0&from=1&to=2&mode=lerp').expect(200)).body as Buffer;
    assert.equal((await sharp(slerp).metadata()).width, 8 * S + 7 * GAP);
    assert.ok((await tile(slerp, 0)).equals(await tile(lerp, 0)));
    assert.ok((await tile(slerp, 7)).equals(await tile(lerp, 7)));
    assert.ok(!(await tile(slerp, 3)).equals(await tile(lerp, 3)));
  });

  test('size scales the whole strip; format and ETag/304 work as for generate', async () => {
    const big = await get('/v1/models/dogs/interpolate?class=0&from=1&to=2&steps=3&size=32').expect(200);
    const meta = await sharp(big.body as Buffer).metadata();
    assert.equal(meta.width, (3 * S + 2 * GAP) * 2);
    assert.equal(meta.height, 32);
    const webp = await get('/v1/models/dogs/interpolate?class=0&from=1&to=2&steps=3&format=webp').expect(200);
    assert.equal(webp.headers['content-type'], 'image/webp');
    await request(server)
      .get('/v1/models/dogs/interpolate?class=0&from=1&to=2&steps=3&size=32')
      .set('If-None-Match', big.headers.etag)
      .expect(304);
    assert.notEqual(webp.headers.etag, big.headers.etag);
  });

  test('bad input gets coded errors naming the field', async () => {
    const cases: Array<[string, number, string, string?]> = [
      ['/v1/models/dogs/interpolate?class=0&from=1&to=2&steps=1', 400, 'INVALID_ARGUMENT', 'steps'],
      ['/v1/models/dogs/interpolate?class=0&from=1&to=2&steps=17', 400, 'INVALID_ARGUMENT', 'steps'],
      ['/v1/models/dogs/interpolate?class=0&from=1&to=2&mode=cubic', 400, 'INVALID_ARGUMENT', 'mode'],
      ['/v1/models/dogs/interpolate?class=0&to=2', 400, 'INVALID_ARGUMENT', 'from'],
      ['/v1/models/dogs/interpolate?class=0&from=1&to=-2', 400, 'INVALID_ARGUMENT', 'to'],
      ['/v1/models/dogs/interpolate?class=0&from=1&to=2&size=8', 400, 'INVALID_ARGUMENT', 'size'],
      ['/v1/models/dogs/interpolate?class=0&from=1&to=2&n=2', 400, 'INVALID_ARGUMENT', 'n'],
      ['/v1/models/dogs/interpolate?class=poodle&from=1&to=2', 400, 'UNKNOWN_CLASS', 'class'],
      ['/v1/models/nope/interpolate?class=0&from=1&to=2', 404, 'UNKNOWN_MODEL', 'model'],
    ];
    for (const [url, status, code, field] of cases) {
      const res = await request(server).get(url);
      assert.equal(res.status, status, `${url}: ${res.status} ${res.text}`);
      assert.equal(res.body.error.code, code, url);
      if (field) assert.equal(res.body.error.field, field, url);
    }
    const post = await request(server).post('/v1/models/dogs/interpolate').send({}).expect(405);
    assert.equal(post.headers.allow, 'GET');
  });
});
