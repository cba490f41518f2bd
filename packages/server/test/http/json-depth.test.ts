/**
 * Deeply nested JSON bodies: bounded before validation on every JSON route, answered with a coded 400
 * naming `body` and the allowed depth, never a 500 from a validator or serialiser that recursed too far.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import request from 'supertest';
import { MAX_JSON_DEPTH } from '../../src/http/json-depth.js';
import { makeModelsDir, startTestServer, TINY_CLASSES, type TestServer } from '../helpers/test-server.js';

const ROUTES = [
  '/generate',
  '/v1/models/dogs/generate',
  '/v1/models/dogs/versions/1/generate',
  '/v1/models/dogs/samples',
  '/v2/models/dogs/infer',
];

/** `levels` arrays inside each other, around `inner`. */
const nestedArrays = (levels: number, inner = '') => `${'['.repeat(levels)}${inner}${']'.repeat(levels)}`;
/** `levels` objects inside each other ({"a":{"a":...}}). */
const nestedObjects = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

describe('JSON nesting depth', () => {
  let ts: TestServer;
  let server: Server;

  before(async () => {
    ts = await startTestServer(await makeModelsDir([{ name: 'dogs', classes: TINY_CLASSES }]), {
      defaultModel: 'dogs',
    });
    server = ts.app.listen(0, '127.0.0.1');
  });
  after(async () => {
    server.close();
    await ts.close();
  });

  const post = (path: string, body: string) =>
    request(server).post(path).set('Content-Type', 'application/json').send(body);

  test('about 12 KB of nested arrays or objects is a coded 400 naming body and the allowed depth, on every JSON route', async () => {
    const bodies = [
      nestedArrays(6000),
      `{"class":0,"z":${nestedArrays(6000)}}`,
      `{"inputs":[{"name":"z","shape":[1,16],"datatype":"FP32","data":${nestedArrays(6000, '1')}}]}`,
      nestedObjects(2500),
    ];
    for (const path of ROUTES) {
      for (const body of bodies) {
        const res = await post(path, body);
        const where = `${path} ${body.slice(0, 30)}: ${res.status} ${res.text.slice(0, 300)}`;
        assert.equal(res.status, 400, where);
        const error = path.startsWith('/v2/') ? res.body : res.body.error;
        assert.equal(error.code, 'INVALID_ARGUMENT', where);
        assert.equal(error.field, 'body', where);
        assert.match(String(error.allowed), new RegExp(`\\b${MAX_JSON_DEPTH}\\b`), where);
        assert.ok(!/\bat .*\.js/.test(res.text), 'no stack trace');
      }
    }
  });

  test('a body exactly at the limit goes on to validation; one level more is refused', async () => {
    // The outer object is level 1, so `z` holds MAX_JSON_DEPTH - 1 levels of arrays.
    const atLimit = await post('/v1/models/dogs/generate', `{"class":0,"z":${nestedArrays(MAX_JSON_DEPTH - 1)}}`);
    assert.equal(atLimit.status, 400, atLimit.text);
    assert.notEqual(atLimit.body.error.field, 'body', 'the schema, not the depth bound, refused it');
    const over = await post('/v1/models/dogs/generate', `{"class":0,"z":${nestedArrays(MAX_JSON_DEPTH)}}`);
    assert.equal(over.status, 400, over.text);
    assert.equal(over.body.error.field, 'body');
  });

  test('ordinary nested bodies still work: z as a list of latents, v2 tensors as nested data', async () => {
    const z = [Array(16).fill(0.1), Array(16).fill(-0.1)];
    await request(server).post('/v1/models/dogs/generate').send({ class: 0, z }).expect(200);
    const res = await request(server)
      .post('/v2/models/dogs/infer')
      .send({
        inputs: [
          { name: 'z', shape: [2, 16], datatype: 'FP32', data: z },
          { name: 'y', shape: [2], datatype: 'INT64', data: [0, 1] },
        ],
        outputs: [{ name: 'image' }],
      })
      .expect(200);
    assert.deepEqual(res.body.outputs[0].shape, [2, 3, 16, 16]);
  });
});
