/**
 * HEAD and If-None-Match on the generation routes. HEAD answers the headers a GET would (status,
 * Content-Type, ETag, Cache-Control, X-Seed, X-Class, X-Model...) without queueing any inference, where
 * Express would otherwise run the GET handler in full. If-None-Match answers 304 only on GET and HEAD of
 * a seeded request (RFC 9110 13.1.2: `*` and entity tags match a current representation); a POST's answer
 * is computed from its body and a server-chosen seed is a new draw each time, so neither has one to match
 * and both go on to generate.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import request from 'supertest';
import { send } from '../../scripts/reliability/http-client.js';
import {
  binary,
  histogramTotals,
  listenLocally,
  makeModelsDir,
  startTestServer,
  TINY_CLASSES,
  type TestServer,
} from '../helpers/test-server.js';

const SAME_HEADERS = ['content-type', 'etag', 'cache-control', 'x-seed', 'x-class', 'x-model', 'x-model-version'];

describe('HEAD and If-None-Match on generation routes', () => {
  let ts: TestServer;
  let server: Server;
  let base: string;

  before(async () => {
    ts = await startTestServer(await makeModelsDir([{ name: 'dogs', classes: TINY_CLASSES }]), {
      defaultModel: 'dogs',
    });
    ({ server, base } = await listenLocally(ts.app));
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await ts.close();
  });

  const rowsRun = async () => (await histogramTotals(ts.metrics, 'sagan_batch_size')).sum;

  test("HEAD answers the GET's headers and status without running inference, on every GET route that generates", async () => {
    const paths = [
      '/generate?class=saint_bernard&seed=7',
      '/v1/models/dogs/generate?class=1&seed=3&n=4&size=32&format=webp',
      '/v1/models/dogs/versions/1/generate?class=0&seed=5&attention=panel&query=2,2',
      '/v1/models/dogs/interpolate?class=0&from=1&to=2&steps=4&format=jpeg',
    ];
    for (const path of paths) {
      const before = await rowsRun();
      const head = await send(base, { method: 'HEAD', path });
      assert.equal(await rowsRun(), before, `HEAD ${path} ran no inference`);
      assert.equal(head.status, 200, path);
      assert.equal(head.body.length, 0);
      assert.equal(head.headers['content-length'], undefined, 'the length is known only once the image is encoded');
      const get = await send(base, { method: 'GET', path });
      assert.equal(get.status, 200, path);
      for (const name of SAME_HEADERS) assert.equal(head.headers[name], get.headers[name], `${path}: ${name}`);
    }
    const bad = await send(base, { method: 'HEAD', path: '/generate?class=0&seed=-1' });
    assert.equal(bad.status, 400, 'a HEAD gets the status its GET would');
    const etag = String((await send(base, { method: 'HEAD', path: paths[0] })).headers.etag);
    assert.equal(
      (await send(base, { method: 'HEAD', path: paths[0], headers: { 'if-none-match': etag } })).status,
      304,
    );
    const before = await rowsRun();
    const random = await send(base, { method: 'HEAD', path: '/generate?class=0' });
    assert.equal(random.status, 200);
    assert.equal(random.headers['cache-control'], 'no-store');
    assert.equal(await rowsRun(), before);
  });

  test('If-None-Match on POST never answers 304: the image is generated and sent', async () => {
    const body = { class: 'saint_bernard', seed: 7 };
    const first = await request(server)
      .post('/v1/models/dogs/generate')
      .send(body)
      .buffer(true)
      .parse(binary)
      .expect(200);
    for (const condition of ['*', String(first.headers.etag), `"other", ${String(first.headers.etag)}`]) {
      const res = await request(server)
        .post('/v1/models/dogs/generate')
        .set('If-None-Match', condition)
        .send(body)
        .buffer(true)
        .parse(binary);
      assert.equal(res.status, 200, `POST with If-None-Match: ${condition}`);
      assert.ok((res.body as Buffer).equals(first.body as Buffer), 'the same bytes as without the condition');
    }
    const z = Array(16).fill(0.25);
    const explicit = await request(server)
      .post('/generate')
      .set('If-None-Match', '*')
      .send({ class: 0, z })
      .buffer(true)
      .parse(binary);
    assert.equal(explicit.status, 200);
    assert.ok((explicit.body as Buffer).length > 0);
  });

  test('If-None-Match on a random-seed GET never answers 304: a new sample is drawn and sent, not cacheable', async () => {
    for (const condition of ['*', '"other", *']) {
      const before = await rowsRun();
      const res = await request(server)
        .get('/generate?class=saint_bernard')
        .set('If-None-Match', condition)
        .buffer(true)
        .parse(binary);
      assert.equal(res.status, 200, `If-None-Match: ${condition}`);
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.ok(res.headers['x-seed']);
      assert.ok((res.body as Buffer).length > 0);
      assert.equal(await rowsRun(), before + 1);
    }
  });

  test('a seeded GET still answers `*` and its own ETag with 304 before generating', async () => {
    const before = await rowsRun();
    await request(server).get('/generate?class=saint_bernard&seed=9').set('If-None-Match', '*').expect(304);
    await request(server)
      .get('/v1/models/dogs/interpolate?class=0&from=1&to=2&steps=3')
      .set('If-None-Match', '"x", *')
      .expect(304);
    assert.equal(await rowsRun(), before);
  });
});
