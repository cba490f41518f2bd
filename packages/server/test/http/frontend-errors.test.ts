/**
 * Each HTTP frontend answers every error under its mount in its own body shape, whatever raised it: its
 * routes, its 404s and 405s, and the body reading before any route ran (malformed, too large by its
 * Content-Length, or cut off while it streams in). The front door's shedding is in front-door.test.ts.
 * Both frontends give an error the same status, message, field and allowed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http, { type Server } from 'node:http';
import request from 'supertest';
import { methodsByPath } from '../../src/http/route-table.js';
import {
  listenLocally,
  makeModelsDir,
  startTestServer,
  TINY_CLASSES,
  type TestServer,
} from '../helpers/test-server.js';

const BODY_LIMIT = 2048;

interface Coded {
  code: string;
  message: string;
  field?: string;
  allowed?: unknown;
  requestId: unknown;
}

/** The server's own API's shape: `{error: {code, message, field?, allowed?}, request_id}`, and nothing else. */
function apiError(body: Record<string, unknown>): Coded {
  assert.deepEqual(Object.keys(body).sort(), ['error', 'request_id']);
  const error = body.error as Record<string, unknown>;
  assert.equal(typeof error.message, 'string');
  return {
    code: String(error.code),
    message: String(error.message),
    field: error.field as string | undefined,
    allowed: error.allowed,
    requestId: body.request_id,
  };
}

/** The Open Inference Protocol's shape: `{error: message, code, field?, allowed?, request_id}`. */
function inferenceProtocolError(body: Record<string, unknown>): Coded {
  assert.equal(typeof body.error, 'string', 'error is the message');
  for (const key of Object.keys(body))
    assert.ok(['error', 'code', 'field', 'allowed', 'request_id'].includes(key), key);
  return {
    code: String(body.code),
    message: String(body.error),
    field: body.field as string | undefined,
    allowed: body.allowed,
    requestId: body.request_id,
  };
}

describe('frontend error shapes', () => {
  let ts: TestServer;
  let server: Server;
  let port: number;

  before(async () => {
    const dir = await makeModelsDir([{ name: 'tiny', classes: TINY_CLASSES }]);
    ts = await startTestServer(dir, { bodyLimitBytes: BODY_LIMIT });
    ({ server, port } = await listenLocally(ts.app));
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await ts.close();
  });

  test('404: each frontend in its shape, naming the path and listing every route', async () => {
    const routes = [...methodsByPath().keys()];
    const v2 = await request(ts.app).get('/v2/nowhere').set('x-request-id', 'v2-404').expect(404);
    assert.deepEqual(inferenceProtocolError(v2.body), {
      code: 'NOT_FOUND',
      message: 'no route for GET /v2/nowhere',
      field: undefined,
      allowed: routes,
      requestId: 'v2-404',
    });
    const v1 = await request(ts.app).get('/v1/nowhere').set('x-request-id', 'v1-404').expect(404);
    assert.deepEqual(apiError(v1.body), {
      code: 'NOT_FOUND',
      message: 'no route for GET /v1/nowhere',
      field: undefined,
      allowed: routes,
      requestId: 'v1-404',
    });
    // Only /v2 and below are the protocol's: a path that merely starts with the letters is not.
    apiError((await request(ts.app).get('/v2x').expect(404)).body);
  });

  test('405: each frontend in its shape, with Allow; the mount path itself included', async () => {
    const infer = await request(ts.app).get('/v2/models/tiny/infer').expect(405);
    assert.equal(infer.headers.allow, 'POST');
    assert.deepEqual(inferenceProtocolError(infer.body), {
      code: 'METHOD_NOT_ALLOWED',
      message: 'GET is not allowed on /v2/models/:model/infer',
      field: 'method',
      allowed: ['POST'],
      requestId: infer.headers['x-request-id'],
    });
    const root = await request(ts.app).post('/v2').expect(405);
    assert.equal(root.headers.allow, 'GET');
    assert.equal(inferenceProtocolError(root.body).message, 'POST is not allowed on /v2');
    const generate = await request(ts.app).delete('/v1/models/tiny/generate').expect(405);
    assert.equal(apiError(generate.body).code, 'METHOD_NOT_ALLOWED');
  });

  test("a body that cannot be read: the same error in each frontend's shape", async () => {
    const post = (path: string, body: string) =>
      request(ts.app).post(path).set('content-type', 'application/json').send(body);
    const malformed = [
      await post('/v2/models/tiny/infer', '{').expect(400),
      await post('/v1/models/tiny/samples', '{').expect(400),
    ];
    assert.deepEqual(
      { ...inferenceProtocolError(malformed[0].body), requestId: undefined },
      { ...apiError(malformed[1].body), requestId: undefined },
    );
    assert.equal(apiError(malformed[1].body).code, 'MALFORMED_JSON');
    const big = JSON.stringify({ pad: 'x'.repeat(BODY_LIMIT) });
    assert.equal(
      inferenceProtocolError((await post('/v2/models/tiny/infer', big).expect(413)).body).code,
      'PAYLOAD_TOO_LARGE',
    );
    assert.equal(apiError((await post('/v1/models/tiny/samples', big).expect(413)).body).code, 'PAYLOAD_TOO_LARGE');
    const escapes = await request(ts.app).get('/v2/models/%E0%A4%A').expect(400);
    assert.deepEqual(
      [inferenceProtocolError(escapes.body).code, inferenceProtocolError(escapes.body).field],
      ['INVALID_ARGUMENT', 'path'],
    );
  });

  test("a chunked body cut off at the limit is answered 413 in its frontend's shape", async () => {
    const cutOff = (path: string) =>
      new Promise<{ status: number; connection: string | undefined; body: Record<string, unknown> }>(
        (resolve, reject) => {
          const req = http.request(
            { host: '127.0.0.1', port, method: 'POST', path, headers: { 'content-type': 'application/json' } },
            (res) => {
              let text = '';
              res.setEncoding('utf8');
              res.on('data', (chunk: string) => {
                text += chunk;
              });
              res.on('end', () =>
                resolve({
                  status: res.statusCode ?? 0,
                  connection: res.headers.connection,
                  body: JSON.parse(text) as Record<string, unknown>,
                }),
              );
            },
          );
          req.on('error', reject);
          // Never ended: the answer must come while the body is still arriving.
          req.write(`{"pad":"${'x'.repeat(BODY_LIMIT * 2)}`);
        },
      );
    const v2 = await cutOff('/v2/models/tiny/infer');
    assert.deepEqual(
      [v2.status, v2.connection, inferenceProtocolError(v2.body).code],
      [413, 'close', 'PAYLOAD_TOO_LARGE'],
    );
    const v1 = await cutOff('/v1/models/tiny/samples');
    assert.deepEqual([v1.status, v1.connection, apiError(v1.body).code], [413, 'close', 'PAYLOAD_TOO_LARGE']);
  });

  test('routes under a mount keep their templates in the request metrics', async () => {
    await request(ts.app).get('/v2').expect(200);
    await request(ts.app).get('/v2/models/tiny').expect(200);
    await request(ts.app).post('/v2').expect(405);
    const text = await ts.metrics.registry.metrics();
    assert.match(text, /sagan_http_request_duration_seconds_count\{route="\/v2",method="GET",status="200"\} 1/);
    assert.match(
      text,
      /sagan_http_request_duration_seconds_count\{route="\/v2\/models\/:model",method="GET",status="200"\} 1/,
    );
    assert.match(text, /sagan_http_request_duration_seconds_count\{route="\/v2",method="POST",status="405"\} [1-9]/);
  });
});
