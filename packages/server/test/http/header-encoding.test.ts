/**
 * Headers carrying manifest text (X-Class, X-Model-Version, X-Model): class names and versions outside
 * printable ASCII (`saint_bernard’s`, `1–rc`, `café`, a newline) are percent-encoded as UTF-8 instead of
 * making every request that uses them fail; plain ASCII ones are sent as they are, and
 * decodeURIComponent gives back the manifest's text in both cases.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { writeModelDirectory } from '@sagan-serve/model-contract/model-directory';
import { randomWeights } from '@sagan-serve/model-contract/sagan-graph';
import { headerValue } from '../../src/http/header-value.js';
import { binary, startTestServer, tinyConfig, type TestServer } from '../helpers/test-server.js';

const CLASSES = ['saint_bernard’s', 'café', '100%_dog', 'Saint Bernard', 'new\nline', ' padded '];
const VERSION = '1–rc';

describe('header encoding of manifest text', () => {
  let ts: TestServer;
  let server: Server;

  before(async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sagan-models-'));
    const model = { name: 'odd', classes: CLASSES };
    const config = tinyConfig(model);
    // Versioned layout: the version directory carries the non-ASCII version too.
    await writeModelDirectory(path.join(dir, 'odd', VERSION), config, randomWeights(config, 1), {
      name: 'odd',
      version: VERSION,
      classes: CLASSES,
      untrained: true,
    });
    ts = await startTestServer(dir);
    server = ts.app.listen(0, '127.0.0.1');
  });
  after(async () => {
    server.close();
    await ts.close();
  });

  test('headerValue: printable ASCII without % as is, anything else percent-encoded UTF-8; decodeURIComponent inverts both', () => {
    assert.equal(headerValue('saint_bernard'), 'saint_bernard');
    assert.equal(headerValue('Saint Bernard'), 'Saint Bernard');
    assert.equal(headerValue('saint_bernard’s'), 'saint_bernard%E2%80%99s');
    assert.equal(headerValue('1–rc'), '1%E2%80%93rc');
    assert.equal(headerValue('100%_dog'), '100%25_dog');
    assert.equal(headerValue('a\r\nSet-Cookie: x=1'), 'a%0D%0ASet-Cookie%3A%20x%3D1');
    for (const text of [...CLASSES, VERSION, 'saint_bernard', 'x\u0000y', 'ü', '😀', '"quoted"']) {
      assert.match(headerValue(text), /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/, text);
      assert.equal(decodeURIComponent(headerValue(text)), text, text);
    }
    // A lone surrogate cannot be UTF-8: it becomes U+FFFD rather than an exception.
    assert.equal(decodeURIComponent(headerValue('a\ud800b')), 'a\ufffdb');
  });

  test('the model is ready, and every class generates with its name and the version in the headers', async () => {
    assert.equal((await request(server).get('/v1/models/odd').expect(200)).body.status, 'ready');
    for (let i = 0; i < CLASSES.length; i++) {
      const res = await request(server).get(`/v1/models/odd/generate?class=${i}&seed=1`).buffer(true).parse(binary);
      assert.equal(res.status, 200, `class ${JSON.stringify(CLASSES[i])}: ${res.status}`);
      assert.equal(decodeURIComponent(String(res.headers['x-class'])), CLASSES[i]);
      assert.equal(res.headers['x-model-version'], '1%E2%80%93rc');
      assert.equal(decodeURIComponent(String(res.headers['x-model-version'])), VERSION);
      assert.equal(res.headers['x-model'], 'odd');
    }
    const plain = await request(server).get('/v1/models/odd/generate?class=Saint%20Bernard&seed=1').expect(200);
    assert.equal(plain.headers['x-class'], 'Saint Bernard', 'plain ASCII names are sent as they are');
  });

  test('the version route, POST generate, interpolate, samples and v2 infer answer with the encoded headers', async () => {
    const version = encodeURIComponent(VERSION);
    const pinned = await request(server).get(`/v1/models/odd/versions/${version}/generate?class=0&seed=2`).expect(200);
    assert.equal(pinned.headers['x-class'], 'saint_bernard%E2%80%99s');
    const posted = await request(server)
      .post('/v1/models/odd/generate')
      .send({ class: 'saint_bernard’s', seed: 2 })
      .expect(200);
    assert.equal(posted.headers['x-class'], 'saint_bernard%E2%80%99s');
    const strip = await request(server).get('/v1/models/odd/interpolate?class=1&from=1&to=2&steps=2').expect(200);
    assert.equal(strip.headers['x-class'], 'caf%C3%A9');
    const samples = await request(server).post('/v1/models/odd/samples').send({ class: 0, count: 2 }).expect(200);
    assert.equal(samples.headers['x-model-version'], '1%E2%80%93rc');
    assert.equal(JSON.parse(samples.text.split('\n')[0]).class, 'saint_bernard’s', 'the body keeps the name as it is');
    const infer = await request(server)
      .post(`/v2/models/odd/versions/${version}/infer`)
      .send({
        inputs: [
          { name: 'z', shape: [1, 16], datatype: 'FP32', data: Array(16).fill(0) },
          { name: 'y', shape: [1], datatype: 'INT64', data: [0] },
        ],
        outputs: [{ name: 'image' }],
      });
    assert.equal(infer.status, 200, infer.text.slice(0, 300));
    assert.equal(infer.headers['x-model-version'], '1%E2%80%93rc');
    assert.equal(infer.body.model_version, VERSION);
  });
});
