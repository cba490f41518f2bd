/**
 * Security basics: helmet's headers on every kind of response, body and header size limits, no stack
 * traces or server paths in any response (even for an unexpected internal error), request ids that
 * cannot carry injected text, and model names that cannot reach the file system, in many encodings.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import http from 'node:http';
import net from 'node:net';
import { json, send } from '../../scripts/reliability/http-client.js';
import { checkResponse, leakPatterns } from '../../scripts/reliability/response-checks.js';
import {
  listenLocally,
  makeModelsDir,
  startTestServer,
  TINY_CLASSES,
  type TestServer,
} from '../helpers/test-server.js';

const BODY_LIMIT = 2048;

function rawExchange(port: number, text: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      // One response is enough; do not wait for the server to give up on the rest of a lying body.
      if (Buffer.concat(chunks).includes('\r\n\r\n') && /\r\n\r\n[\s\S]*\}/.test(Buffer.concat(chunks).toString()))
        socket.destroy();
    });
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', (err) => (chunks.length > 0 ? resolve(Buffer.concat(chunks).toString('latin1')) : reject(err)));
    socket.setTimeout(timeoutMs, () => socket.destroy());
    socket.write(text);
  });
}

describe('security', () => {
  let ts: TestServer;
  let server: Server;
  let base: string;
  let port: number;
  let leaks: RegExp[];

  before(async () => {
    const dir = await makeModelsDir([{ name: 'tiny', classes: TINY_CLASSES }]);
    ts = await startTestServer(dir, { bodyLimitBytes: BODY_LIMIT });
    ({ server, port, base } = await listenLocally(ts.app));
    leaks = leakPatterns([ts.modelsDir]);
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await ts.close();
  });

  test('helmet headers on JSON, image, error, metrics and OpenAPI responses', async () => {
    const cases: Array<[string, string, number]> = [
      ['GET', '/v1/models', 200],
      ['GET', '/generate?class=0&seed=1', 200],
      ['GET', '/generate?class=nope', 400],
      ['GET', '/nowhere', 404],
      ['DELETE', '/generate', 405],
      ['GET', '/metrics', 200],
      ['GET', '/openapi.yaml', 200],
      ['GET', '/healthz', 200],
    ];
    for (const [method, path, status] of cases) {
      const res = await send(base, { method, path });
      assert.equal(res.status, status, `${method} ${path}`);
      const h = res.headers;
      const where = `${method} ${path}`;
      assert.match(String(h['content-security-policy']), /default-src 'self'/, where);
      assert.match(String(h['content-security-policy']), /object-src 'none'/, where);
      assert.match(String(h['content-security-policy']), /frame-ancestors 'none'/, where);
      assert.match(String(h['content-security-policy']), /img-src 'self' data: blob:/, where);
      assert.doesNotMatch(String(h['content-security-policy']), /upgrade-insecure-requests/, where);
      assert.equal(h['x-content-type-options'], 'nosniff', where);
      assert.equal(h['x-frame-options'], 'DENY', where);
      assert.equal(h['referrer-policy'], 'no-referrer', where);
      assert.match(String(h['strict-transport-security']), /max-age=\d+/, where);
      assert.equal(h['cross-origin-opener-policy'], 'same-origin', where);
      assert.equal(h['cross-origin-resource-policy'], 'cross-origin', where);
      assert.equal(h['x-powered-by'], undefined, where);
      assert.equal(h['access-control-allow-origin'], undefined, `${where}: no CORS unless configured`);
    }
  });

  test('body limit: a body over BODY_LIMIT_BYTES is 413 PAYLOAD_TOO_LARGE; a lying Content-Length is refused before it is read', async () => {
    const big = JSON.stringify({ class: 0, pad: 'x'.repeat(BODY_LIMIT) });
    const res = await send(base, {
      method: 'POST',
      path: '/generate',
      headers: { 'content-type': 'application/json' },
      body: big,
    });
    assert.equal(res.status, 413);
    assert.equal(json<{ error: { code: string } }>(res).error.code, 'PAYLOAD_TOO_LARGE');
    const started = performance.now();
    const reply = await rawExchange(
      port,
      'POST /generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n{"class":0',
    );
    assert.match(reply, /^HTTP\/1\.1 413/);
    assert.match(reply, /PAYLOAD_TOO_LARGE/);
    assert.ok(performance.now() - started < 2000, 'answered without waiting for 10 GB');
    const samples = await send(base, {
      method: 'POST',
      path: '/v1/models/tiny/samples',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ class: 0, seeds: new Array(2000).fill(1) }),
    });
    assert.equal(samples.status, 413);
  });

  test('body limit, chunked: a body without Content-Length is answered 413 as soon as it passes the limit, not when (if ever) it ends', async () => {
    const started = performance.now();
    const chunk = `{"pad":"${'x'.repeat(1000)}"}`;
    const chunks = Array.from({ length: 4 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join('');
    // No terminating 0-length chunk: the body never ends.
    const reply = await rawExchange(
      port,
      `POST /generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${chunks}`,
    );
    assert.match(reply, /^HTTP\/1\.1 413/);
    assert.match(reply, /"code":"PAYLOAD_TOO_LARGE"/);
    assert.match(reply, /\r\nConnection: close\r\n/i);
    assert.ok(performance.now() - started < 2000, 'answered without waiting for the body to end');

    // Under the limit a chunked body is read and served as usual.
    const body = JSON.stringify({ class: 0, seed: 3 });
    const served = await new Promise<{ status: number; type: string | undefined }>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port, method: 'POST', path: '/generate', headers: { 'content-type': 'application/json' } },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] }));
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, 10));
      req.end(body.slice(10));
    });
    assert.deepEqual(served, { status: 200, type: 'image/png' });
  });

  test('query and header size: Node refuses over 16 KiB with 431 before the app; under it, the app answers with a coded 400', async () => {
    const long = await send(base, { method: 'GET', path: `/generate?class=0&x=${'a'.repeat(20_000)}` });
    assert.equal(long.status, 431);
    const header = await send(base, { method: 'GET', path: '/healthz', headers: { 'x-big': 'a'.repeat(20_000) } });
    assert.equal(header.status, 431);
    const medium = await send(base, { method: 'GET', path: `/generate?class=${'a'.repeat(8000)}` });
    assert.equal(medium.status, 400);
    assert.equal(json<{ error: { code: string } }>(medium).error.code, 'INVALID_ARGUMENT');
    assert.ok(medium.body.length < 2000, 'the error does not echo the whole input');
    const manyParams = await send(base, {
      method: 'GET',
      path: `/generate?class=0&${Array.from({ length: 1500 }, (_, i) => `p${i}=1`).join('&')}`,
    });
    assert.equal(manyParams.status, 400);
  });

  test('model names never reach the file system: traversal in many encodings is 404 or 400, never a file', async () => {
    const names = [
      '..',
      '.',
      '%2e%2e',
      '%2E%2E',
      '.%2e',
      '%2e.',
      '..%2f..%2f..%2fetc%2fpasswd',
      '..%2F..%2Fpackage.json',
      '%2e%2e%2f%2e%2e%2fpackage.json',
      '..%252f..%252fetc%252fpasswd',
      '%252e%252e',
      '%c0%ae%c0%ae',
      '%c0%ae%c0%ae%c0%afetc',
      '%e0%80%ae%e0%80%ae',
      '..%5c..%5cpackage.json',
      '..%c0%af..%c0%afetc',
      '%uff0e%uff0e',
      '%2e%2e%5c',
      'tiny%2f..%2f..%2fpackage.json',
      'tiny%2fmodel.json',
      'tiny%2f..',
      '%2fetc%2fpasswd',
      '%2Ftmp',
      'model.json',
      'generator.onnx',
      'tiny%00',
      'tiny%00.json',
      '~',
      '%7e',
      '%252e%252e%252fpackage.json',
      '....%2f%2f',
      '..;',
      encodeURIComponent(ts.modelsDir),
      encodeURIComponent(`${ts.modelsDir}/tiny`),
    ];
    const routes = (m: string) => [
      ['GET', `/v1/models/${m}`],
      ['GET', `/v1/models/${m}/generate?class=0`],
      ['POST', `/v1/models/${m}/generate`],
      ['POST', `/v1/models/${m}/samples`],
      ['GET', `/v1/models/${m}/interpolate?class=0&from=1&to=2`],
    ];
    for (const name of names) {
      for (const [method, path] of routes(name)) {
        const res = await send(base, {
          method,
          path,
          headers: { 'content-type': 'application/json' },
          body: method === 'POST' ? '{"class":0,"count":1}' : undefined,
        });
        assert.ok([400, 404].includes(res.status), `${method} ${path}: ${res.status}`);
        const code = json<{ error: { code: string } }>(res).error.code;
        assert.ok(['UNKNOWN_MODEL', 'NOT_FOUND', 'INVALID_ARGUMENT'].includes(code), `${method} ${path}: ${code}`);
        // (Names built from the real models path are echoed back in the message: the client's own input.)
        const echoed = name.includes(encodeURIComponent(ts.modelsDir));
        assert.deepEqual(
          checkResponse(res.status, res.headers, res.body, { leaks: echoed ? leakPatterns() : leaks }),
          [],
          `${method} ${path}`,
        );
        assert.doesNotMatch(
          res.body.toString(),
          /root:|"provenance"|"latent"|"name":\s*"sagan-serve"|ir_version|\bpytorch\b/i,
          `${method} ${path} returns no file content`,
        );
      }
    }
    // The static pages: traversal out of public/ must not serve anything.
    for (const path of [
      '/..%2f..%2fpackage.json',
      '/%2e%2e/%2e%2e/package.json',
      '/js/..%2f..%2f..%2fpackage.json',
      '/docs/..%2f..%2fpackage.json',
      '/css/%2e%2e%2f%2e%2e%2fpackage.json',
      '/..%5c..%5cpackage.json',
      '/%2e%2e%2fsrc%2fserver.ts',
      '/../package.json',
      '/docs/../../package.json',
    ]) {
      const res = await send(base, { method: 'GET', path });
      assert.notEqual(res.status, 200, path);
      assert.doesNotMatch(res.body.toString(), /"name": "sagan-serve"|export async function|root:/, path);
    }
  });

  test('an unexpected internal error is answered 500 INTERNAL without its message, stack or paths', async () => {
    const tiny = ts.registry.get('tiny')!;
    const batcher = tiny.batcher!;
    const original = batcher.submit.bind(batcher);
    batcher.submit = () => {
      throw new Error(`boom at ${ts.modelsDir}/tiny/generator.onnx (file:///work/main/dist/src/x.js:1:2)`);
    };
    try {
      const res = await send(base, { method: 'GET', path: '/generate?class=0&seed=1' });
      assert.equal(res.status, 500);
      const body = json<{ error: { code: string; message: string }; request_id: string }>(res);
      assert.equal(body.error.code, 'INTERNAL');
      assert.equal(body.error.message, 'internal server error');
      assert.ok(body.request_id, 'the request id lets operators find the logged details');
      assert.deepEqual(checkResponse(res.status, res.headers, res.body, { leaks, allow5xx: true }), []);
    } finally {
      batcher.submit = original;
    }
  });

  test('request ids: a safe X-Request-Id is echoed, anything else is replaced by a UUID', async () => {
    const good = await send(base, {
      method: 'GET',
      path: '/healthz',
      headers: { 'x-request-id': 'trace-123.abc_DEF' },
    });
    assert.equal(good.headers['x-request-id'], 'trace-123.abc_DEF');
    for (const bad of ['<script>alert(1)</script>', 'a b', 'x'.repeat(200), '../../etc', '"quoted"', 'é']) {
      const res = await send(base, {
        method: 'GET',
        path: '/nowhere',
        headers: { 'x-request-id': encodeURIComponent(bad) === bad ? bad : bad.replace(/[^\x20-\x7e]/g, '?') },
      });
      assert.match(String(res.headers['x-request-id']), /^[0-9a-f-]{36}$/, bad);
      assert.ok(!res.body.toString().includes(bad) || /^[A-Za-z0-9._-]+$/.test(bad), `request id ${bad} is not echoed`);
    }
  });

  test('listing, describing and metrics leak no server paths', async () => {
    for (const path of ['/v1/models', '/v1/models/tiny', '/metrics', '/readyz', '/openapi.yaml']) {
      const res = await send(base, { method: 'GET', path });
      assert.equal(res.status, 200, path);
      assert.deepEqual(checkResponse(res.status, res.headers, res.body, { leaks }), [], path);
    }
  });
});
