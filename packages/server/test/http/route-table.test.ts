/**
 * The route table is the one list of API routes: each declared route is the openapi.yaml operation it
 * names (same method and path), every operation in the document is a declared route, each method and
 * path is declared once, each route validates what its operation takes, and the app answers every
 * path's other methods with 405 and its Allow list.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import request from 'supertest';
import { OPENAPI_PATH } from '../../src/paths.js';
import { jsonBodySchema, loadOpenApiText, parseOpenApi, queryParameters } from '../../src/http/openapi-document.js';
import { API_ROUTES, methodsByPath } from '../../src/http/route-table.js';
import { makeModelsDir, startTestServer, TINY_CLASSES } from '../helpers/test-server.js';

const toOpenApiPath = (template: string) => template.replace(/:([A-Za-z]+)/g, '{$1}');

test('every route is its openapi.yaml operation and every operation is a route', () => {
  const doc = parseYaml(readFileSync(OPENAPI_PATH, 'utf8')) as {
    paths: Record<string, Record<string, { operationId?: string }>>;
  };
  const operations = new Map<string, string>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item))
      if (op?.operationId) operations.set(`${method.toUpperCase()} ${path}`, op.operationId);
  }
  const declared = new Map<string, string>();
  for (const route of API_ROUTES) {
    const key = `${route.method} ${toOpenApiPath(route.path)}`;
    assert.ok(!declared.has(key), `${key} is declared twice`);
    declared.set(key, route.operationId);
  }
  assert.deepEqual([...declared].sort(), [...operations].sort());
});

test('the generation routes queue work and nothing else does', () => {
  const queued = API_ROUTES.filter((r) => r.queuesWork)
    .map((r) => `${r.method} ${r.path}`)
    .sort();
  for (const r of API_ROUTES) {
    const generates = /\/(generate|samples|interpolate|infer)$/.test(r.path);
    assert.equal(r.queuesWork, generates, `${r.method} ${r.path}`);
  }
  assert.ok(queued.length >= 10, queued.join(', '));
});

test('a route validates the query or JSON body its operation takes, and admits a model before it queues work', () => {
  const doc = parseOpenApi(loadOpenApiText());
  for (const route of API_ROUTES) {
    const where = `${route.method} ${route.path} (${route.operationId})`;
    assert.equal(
      route.stages.includes('query'),
      queryParameters(doc, route.operationId).length > 0,
      `${where}: query stage`,
    );
    assert.equal(
      route.stages.includes('json-body'),
      jsonBodySchema(doc, route.operationId) !== undefined,
      `${where}: json-body stage`,
    );
    if (route.queuesWork)
      assert.ok(
        route.stages.includes('ready-model') || route.stages.includes('ready-default-model'),
        `${where}: admits a model`,
      );
    if (route.stages.includes('ready-model') || route.stages.includes('known-model'))
      assert.match(route.path, /:model\b/, `${where}: the path names the model`);
  }
});

test("the app answers another method on every declared path with 405 and the path's methods", async () => {
  const ts = await startTestServer(await makeModelsDir([{ name: 'tiny', classes: TINY_CLASSES }]));
  try {
    for (const [path, methods] of methodsByPath()) {
      const url = path.replace(':model', 'tiny').replace(':version', '1');
      const res = await request(ts.app).delete(url).expect(405);
      assert.equal(res.headers.allow, methods.join(', '), url);
      const code = url.startsWith('/v2') ? res.body.code : res.body.error.code;
      assert.equal(code, 'METHOD_NOT_ALLOWED', url);
    }
  } finally {
    await ts.close();
  }
});
