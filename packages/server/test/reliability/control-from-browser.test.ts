/**
 * Repository control cannot be driven by a web page. Without ADMIN_TOKEN (loopback only, the setup the
 * README calls safe), a cross-origin form POST (text/plain, Origin: http://evil.example) and a request
 * addressed to a foreign Host (the DNS-rebinding shape) used to unload a model. Control calls now need
 * `Content-Type: application/json` (which a page can send cross-origin only after a CORS preflight the
 * server never grants), a same-origin Origin and Sec-Fetch-Site when a browser sends them, and, without a
 * token, a loopback Host. Each refusal has its own code; the model keeps serving through all of them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { json, send, type RawRequest } from '../../scripts/reliability/http-client.js';
import { listenLocally, makeModelsDir, startTestServer, type TestServer } from '../helpers/test-server.js';

const TOKEN = 'browser-test-admin-token-0123456789';
const JSON_TYPE = { 'content-type': 'application/json' };

interface ErrorReply {
  error: { code: string; field?: string; allowed?: unknown };
}

async function serve(
  overrides: Parameters<typeof startTestServer>[1],
): Promise<{ ts: TestServer; server: Server; base: string; port: number }> {
  const ts = await startTestServer(await makeModelsDir([{ name: 'tiny', classes: ['a', 'b'] }]), {
    host: '127.0.0.1',
    modelControl: 'explicit',
    ...overrides,
  });
  const { server, base, port } = await listenLocally(ts.app);
  return { ts, server, base, port };
}

async function stop(s: { ts: TestServer; server: Server }): Promise<void> {
  s.server.closeAllConnections();
  await new Promise((resolve) => s.server.close(resolve));
  await s.ts.close();
}

describe('repository control from a browser, no ADMIN_TOKEN (loopback)', () => {
  let s: Awaited<ReturnType<typeof serve>>;
  const post = (path: string, headers: RawRequest['headers'], body?: string) =>
    send(s.base, { method: 'POST', path, headers, body });
  const stillServing = async () =>
    assert.equal(
      (await send(s.base, { method: 'GET', path: '/v1/models/tiny' })).status,
      200,
      'the model is still loaded',
    );

  before(async () => {
    s = await serve({});
  });
  after(() => stop(s));

  test('a cross-origin form POST (text/plain, Origin: http://evil.example) does not unload the model', async () => {
    const res = await post(
      '/v1/repository/models/tiny/unload',
      { 'content-type': 'text/plain', origin: 'http://evil.example' },
      'x=1',
    );
    assert.equal(res.status, 403, res.body.toString());
    assert.equal(json<ErrorReply>(res).error.code, 'CROSS_ORIGIN');
    assert.equal(json<ErrorReply>(res).error.field, 'origin');
    await stillServing();
  });

  test('a request addressed to a foreign Host (DNS rebinding: the page is same-origin with itself) does not unload the model', async () => {
    const host = `evil.example:${s.port}`;
    for (const headers of [
      { host, ...JSON_TYPE },
      { host, origin: `http://${host}`, 'sec-fetch-site': 'same-origin', ...JSON_TYPE },
    ]) {
      const res = await post('/v1/repository/models/tiny/unload', headers, '{}');
      assert.equal(res.status, 403, res.body.toString());
      assert.equal(json<ErrorReply>(res).error.code, 'HOST_NOT_ALLOWED');
      assert.equal(json<ErrorReply>(res).error.field, 'host');
    }
    await stillServing();
  });

  test('every other browser shape is refused with its code', async () => {
    const cases: Array<[RawRequest['headers'], string | undefined, number, string]> = [
      [{ 'content-type': 'text/plain' }, 'x', 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [{ 'content-type': 'application/x-www-form-urlencoded' }, 'a=1', 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [{ 'content-type': 'multipart/form-data; boundary=x' }, '--x--', 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [{}, undefined, 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [{ ...JSON_TYPE, origin: 'http://evil.example' }, '{}', 403, 'CROSS_ORIGIN'],
      [{ ...JSON_TYPE, origin: 'null' }, '{}', 403, 'CROSS_ORIGIN'],
      [{ ...JSON_TYPE, origin: `http://localhost:${s.port + 1}` }, '{}', 403, 'CROSS_ORIGIN'],
      [{ ...JSON_TYPE, 'sec-fetch-site': 'cross-site' }, '{}', 403, 'CROSS_ORIGIN'],
      [{ ...JSON_TYPE, 'sec-fetch-site': 'same-site' }, '{}', 403, 'CROSS_ORIGIN'],
      [{ ...JSON_TYPE, host: 'evil.example' }, '{}', 403, 'HOST_NOT_ALLOWED'],
      [{ ...JSON_TYPE, host: '127.0.0.1.evil.example' }, '{}', 403, 'HOST_NOT_ALLOWED'],
    ];
    for (const [headers, body, status, code] of cases) {
      for (const path of [
        '/v1/repository/index',
        '/v1/repository/models/tiny/load',
        '/v1/repository/models/tiny/unload',
      ]) {
        const res = await post(path, headers, body);
        assert.equal(res.status, status, `${path} ${JSON.stringify(headers)}: ${res.status} ${res.body.toString()}`);
        assert.equal(json<ErrorReply>(res).error.code, code, `${path} ${JSON.stringify(headers)}`);
      }
    }
    await stillServing();
  });

  test('curl as the README shows it works: application/json with no body or {}, to a loopback Host, with or without a same-origin Origin', async () => {
    const allowed: Array<[RawRequest['headers'], string | undefined]> = [
      [JSON_TYPE, undefined],
      [{ 'content-type': 'application/json; charset=utf-8' }, '{}'],
      [{ ...JSON_TYPE, host: `localhost:${s.port}` }, '{}'],
      [{ ...JSON_TYPE, host: `[::1]:${s.port}` }, '{}'],
      [{ ...JSON_TYPE, origin: `http://127.0.0.1:${s.port}`, 'sec-fetch-site': 'same-origin' }, '{}'],
      [{ ...JSON_TYPE, 'sec-fetch-site': 'none' }, undefined],
    ];
    for (const [headers, body] of allowed) {
      const res = await post('/v1/repository/index', headers, body);
      assert.equal(res.status, 200, `${JSON.stringify(headers)}: ${res.body.toString()}`);
    }
    assert.equal((await post('/v1/repository/models/tiny/load', JSON_TYPE)).status, 200);
    const unloaded = await post('/v1/repository/models/tiny/unload', JSON_TYPE);
    assert.equal(unloaded.status, 200, unloaded.body.toString());
    assert.equal((await send(s.base, { method: 'GET', path: '/v1/models/tiny' })).status, 404);
    assert.equal((await post('/v1/repository/models/tiny/load', JSON_TYPE, '{}')).status, 200);
  });
});

describe('repository control from a browser, with ADMIN_TOKEN', () => {
  let s: Awaited<ReturnType<typeof serve>>;
  const auth = { authorization: `Bearer ${TOKEN}` };

  before(async () => {
    s = await serve({ adminToken: TOKEN });
  });
  after(() => stop(s));

  test('JSON and same-origin are still required; the Host is not checked (a proxy may rename it), the token guards', async () => {
    const post = (headers: RawRequest['headers'], body?: string) =>
      send(s.base, { method: 'POST', path: '/v1/repository/index', headers: { ...auth, ...headers }, body });
    const formPost = await post({ 'content-type': 'text/plain', origin: 'http://evil.example' }, 'x');
    assert.equal(formPost.status, 403);
    assert.equal(json<ErrorReply>(formPost).error.code, 'CROSS_ORIGIN');
    assert.equal(
      json<ErrorReply>(await post({ 'content-type': 'text/plain' }, 'x')).error.code,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    assert.equal((await post({ ...JSON_TYPE, host: 'control.internal.example' })).status, 200);
    assert.equal((await post(JSON_TYPE)).status, 200);
    const noToken = await send(s.base, { method: 'POST', path: '/v1/repository/index', headers: JSON_TYPE });
    assert.equal(json<ErrorReply>(noToken).error.code, 'UNAUTHENTICATED');
  });
});
