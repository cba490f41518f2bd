/**
 * The stages a route declares run before its handler, in one order for every route: the model first
 * (an unknown model answers UNKNOWN_MODEL whatever else is wrong with the request), then the JSON media
 * type, then validation against the operation's schema; the handler gets the body with the document's
 * defaults filled and knows which fields the client sent. Exercised on every declared route of the
 * real app.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import request from 'supertest';
import type { Response as SupertestResponse } from 'supertest';
import { loadOpenApiText, parseOpenApi, queryParameters } from '../../src/http/openapi-document.js';
import { API_ROUTES } from '../../src/http/route-table.js';
import type { RouteDefinition } from '../../src/http/route.js';
import { binary, makeModelsDir, startTestServer, TINY_CLASSES, type TestServer } from '../helpers/test-server.js';

const LATENT_DIM = 16;

/** The error's code and field, in the v1 or the v2 (Open Inference Protocol) shape. */
function errorOf(res: SupertestResponse): { code: unknown; field: unknown } {
  const body = res.body as { code?: unknown; field?: unknown; error?: { code?: unknown; field?: unknown } };
  return typeof body.error === 'object'
    ? { code: body.error.code, field: body.error.field }
    : { code: body.code, field: body.field };
}

const urlOf = (route: RouteDefinition, model: string, version = '1') =>
  route.path.replace(':model', model).replace(':version', version);

describe('route stages', () => {
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

  /** A request for the route whose body is not JSON and whose query has an unknown parameter. */
  const malformed = (route: RouteDefinition, url: string) =>
    route.method === 'GET'
      ? request(server).get(`${url}?bogus=1`)
      : request(server).post(`${url}?bogus=1`).set('Content-Type', 'text/plain').send('not json');

  test('a path that names an unknown model answers UNKNOWN_MODEL before the query or body is looked at', async () => {
    const named = API_ROUTES.filter((r) => r.stages.includes('ready-model') || r.stages.includes('known-model'));
    assert.ok(named.length >= 10, named.map((r) => r.path).join(', '));
    for (const route of named) {
      const res = await malformed(route, urlOf(route, 'nope'));
      assert.equal(res.status, 404, `${route.method} ${route.path}`);
      assert.equal(errorOf(res).code, 'UNKNOWN_MODEL', `${route.method} ${route.path}`);
    }
  });

  test('a path that names an unknown version answers UNKNOWN_VERSION first', async () => {
    const pinned = API_ROUTES.filter((r) => r.path.includes(':version') && r.stages.some((s) => s.endsWith('-model')));
    assert.ok(pinned.length >= 4, pinned.map((r) => r.path).join(', '));
    for (const route of pinned) {
      const res = await malformed(route, urlOf(route, 'dogs', '99'));
      assert.equal(res.status, 404, `${route.method} ${route.path}`);
      assert.equal(errorOf(res).code, 'UNKNOWN_VERSION', `${route.method} ${route.path}`);
    }
  });

  test('a JSON-body route refuses another media type with 415 before validating', async () => {
    const json = API_ROUTES.filter((r) => r.stages.includes('json-body'));
    assert.ok(json.length >= 6, json.map((r) => r.path).join(', '));
    for (const route of json) {
      const res = await request(server)
        .post(urlOf(route, 'dogs'))
        .set('Content-Type', 'text/plain')
        .send('{"bogus": 1}');
      assert.equal(res.status, 415, `${route.method} ${route.path}`);
      assert.equal(errorOf(res).code, 'UNSUPPORTED_MEDIA_TYPE', `${route.method} ${route.path}`);
    }
  });

  test('a body or query its operation does not accept is INVALID_ARGUMENT naming the field', async () => {
    const doc = parseOpenApi(loadOpenApiText());
    const validated = API_ROUTES.filter((r) => r.stages.includes('json-body') || r.stages.includes('query'));
    for (const route of validated) {
      const url = urlOf(route, 'dogs');
      // Every required parameter given (1 is a class index and a seed), and one the operation does not have.
      const required = queryParameters(doc, route.operationId)
        .filter((p) => p.required)
        .map((p) => `${p.name}=1&`)
        .join('');
      const res =
        route.method === 'GET'
          ? await request(server).get(`${url}?${required}bogus=1`)
          : await request(server).post(url).send({ class: 0, inputs: [], bogus: 1 });
      assert.equal(res.status, 400, `${route.method} ${route.path}: ${JSON.stringify(res.body)}`);
      const { code, field } = errorOf(res);
      assert.equal(code, 'INVALID_ARGUMENT', `${route.method} ${route.path}`);
      assert.match(String(field), route.method === 'GET' ? /^bogus$/ : /^body\./, `${route.method} ${route.path}`);
    }
  });

  test('the handler gets the defaults filled and knows whether n was sent beside a list of latents', async () => {
    const latents = [Array<number>(LATENT_DIM).fill(0.1), Array<number>(LATENT_DIM).fill(-0.1)];
    const post = (body: object) =>
      request(server).post('/v1/models/dogs/generate').send(body).buffer(true).parse(binary);
    // n left out: the list's length; format left out: the document's default, PNG.
    const grid = await post({ class: 0, z: latents }).expect(200);
    assert.equal(grid.headers['content-type'], 'image/png');
    const single = await post({ class: 0, z: latents.slice(0, 1) }).expect(200);
    assert.ok(grid.body.length > single.body.length, 'two latents make a larger grid than one');
    // n sent, and not the list's length: refused, though n: 1 is also the default.
    const refused = await request(server)
      .post('/v1/models/dogs/generate')
      .send({ class: 0, z: latents, n: 1 })
      .expect(400);
    assert.deepEqual(errorOf(refused), { code: 'INVALID_ARGUMENT', field: 'body.n' });
  });
});
