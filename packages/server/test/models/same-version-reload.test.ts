/**
 * A version reloaded with changed files but the same version string: the ETag follows the files'
 * content (so a cached image of the old weights is never confirmed by 304 for the new ones), the
 * version's gauges survive the swap, and a change that keeps every file's size and modification time is
 * still noticed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import { writeModelDirectory } from '@sagan-serve/model-contract/model-directory';
import { randomWeights } from '@sagan-serve/model-contract/sagan-graph';
import {
  binary,
  makeModelsDir,
  startTestServer,
  tinyConfig,
  TINY_CLASSES,
  type TestServer,
} from '../helpers/test-server.js';

const TOKEN = 'same-version-reload-token-01';
/** Control calls are JSON calls (admin-auth.ts): a body is optional, the content type is not. */
const auth = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' };
/** A fixed modification time, so that rewritten files can be given back the one they had. */
const FIXED_TIME = new Date('2024-01-02T03:04:05Z');

async function writeVersionOne(root: string, seed: number): Promise<string> {
  const config = tinyConfig({ name: 'dogs', classes: TINY_CLASSES });
  const dir = path.join(root, 'dogs', '1');
  await writeModelDirectory(dir, config, randomWeights(config, seed), {
    name: 'dogs',
    version: '1',
    classes: TINY_CLASSES,
    untrained: true,
  });
  return dir;
}

/** Every file's name, size and modification time: what a change check on metadata alone compares. */
async function metadata(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).sort();
  return Promise.all(
    names.map(async (n) => {
      const s = await stat(path.join(dir, n));
      return `${n}:${s.size}:${s.mtimeMs}`;
    }),
  );
}

async function pinTimes(dir: string): Promise<void> {
  for (const name of await readdir(dir)) await utimes(path.join(dir, name), FIXED_TIME, FIXED_TIME);
}

describe('reloading a version whose files changed under the same version string', () => {
  let ts: TestServer;
  let root: string;
  let dir: string;

  const image = (p: string, headers: Record<string, string> = {}) =>
    request(ts.app).get(p).set(headers).buffer(true).parse(binary);
  const metricsText = async () => (await request(ts.app).get('/metrics').expect(200)).text;

  before(async () => {
    root = await makeModelsDir([]);
    dir = await writeVersionOne(root, 1);
    await pinTimes(dir);
    ts = await startTestServer(root, { modelControl: 'explicit', adminToken: TOKEN });
  });
  after(async () => {
    await ts.close();
  });

  test('new weights get a new ETag (the old one is not answered 304) and the version keeps its gauges', async () => {
    const generate = '/v1/models/dogs/generate?class=1&seed=5';
    const interpolate = '/v1/models/dogs/interpolate?class=1&from=1&to=2&steps=2';
    const oldImage = await image(generate).expect(200);
    const oldStrip = await image(interpolate).expect(200);
    await image(generate, { 'If-None-Match': String(oldImage.headers.etag) }).expect(304);

    await writeVersionOne(root, 2);
    await request(ts.app).post('/v1/repository/models/dogs/load').set(auth).expect(200);
    await ts.registry.settled();
    const text = await metricsText();
    assert.ok(
      /^sagan_model_info\{model="dogs",version="1",provider="cpu"\} 1$/m.test(text),
      'sagan_model_info of version 1 is exported',
    );
    assert.ok(
      /^sagan_model_load_seconds\{model="dogs",version="1"\} [0-9.e-]+$/m.test(text),
      'sagan_model_load_seconds of version 1 is exported',
    );

    const newImage = await image(generate, { 'If-None-Match': String(oldImage.headers.etag) }).expect(200);
    assert.equal(newImage.headers['x-model-version'], '1');
    assert.ok(!newImage.body.equals(oldImage.body), 'the new weights serve');
    assert.notEqual(newImage.headers.etag, oldImage.headers.etag);
    const newStrip = await image(interpolate, { 'If-None-Match': String(oldStrip.headers.etag) }).expect(200);
    assert.notEqual(newStrip.headers.etag, oldStrip.headers.etag);
    await image(generate, { 'If-None-Match': String(newImage.headers.etag) }).expect(304);
  });

  test("a change that keeps every file's name, size and modification time is noticed by load", async () => {
    // Load the pinned files first, so that what the server last read is what the rewrite will match.
    await pinTimes(dir);
    await request(ts.app).post('/v1/repository/models/dogs/load').set(auth).expect(200);
    await ts.registry.settled();
    const before = await metadata(dir);
    const served = await image('/v1/models/dogs/generate?class=0&seed=9').expect(200);
    await writeVersionOne(root, 3);
    await pinTimes(dir);
    assert.deepEqual(await metadata(dir), before, 'the fixture keeps names, sizes and times');

    await request(ts.app).post('/v1/repository/models/dogs/load').set(auth).expect(200);
    await ts.registry.settled();
    const reloaded = await image('/v1/models/dogs/generate?class=0&seed=9').expect(200);
    assert.ok(!reloaded.body.equals(served.body), 'the new weights serve');
    assert.notEqual(reloaded.headers.etag, served.headers.etag);
  });
});
