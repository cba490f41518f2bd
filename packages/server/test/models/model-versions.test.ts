/**
 * Model versions and repository control on real models (real ONNX Runtime sessions, real HTTP):
 * the versioned layout and its policy, the version route, the version in headers, ETag and metrics,
 * load/unload/index with the admin token, a corrupt new version that leaves the old one serving, and
 * poll mode noticing added, changed and removed versions.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import path from 'node:path';
import request from 'supertest';
import { loadConfig, type ServerConfig } from '../../src/config.js';
import { RepositoryPoller } from '../../src/models/repository-poller.js';
import {
  binary,
  makeModelsDir,
  startTestServer,
  writeModelVersion,
  TINY_CLASSES,
  type TestServer,
  until,
} from '../helpers/test-server.js';

const TOKEN = 'test-admin-token-0123456789';
/** Control calls are JSON calls (admin-auth.ts): a body is optional, the content type is not. */
const auth = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' };

/** Writes version `version` of model `name` (versioned layout) with weights from `seed`. */
function writeVersion(root: string, name: string, version: string, seed: number): Promise<string> {
  return writeModelVersion(root, { name, classes: TINY_CLASSES, seed }, version, seed);
}

describe('model versions and repository control', () => {
  let ts: TestServer;
  let server: Server;
  let root: string;

  const image = (p: string) => request(server).get(p).buffer(true).parse(binary);

  before(async () => {
    // 'flat' keeps today's layout (one version); 'dogs' is versioned with versions 1 and 2.
    root = await makeModelsDir([{ name: 'flat', classes: ['a', 'b'], seed: 5 }]);
    await writeVersion(root, 'dogs', '1', 1);
    await writeVersion(root, 'dogs', '2', 2);
    ts = await startTestServer(root, { defaultModel: 'dogs', modelControl: 'explicit', adminToken: TOKEN });
    server = ts.app.listen(0, '127.0.0.1');
  });
  after(async () => {
    server.close();
    await ts.close();
  });

  test('versioned layout: the latest version serves the plain routes; the version route reaches a loaded version; others are UNKNOWN_VERSION', async () => {
    const plain = await image('/generate?class=0&seed=3').expect(200);
    assert.equal(plain.headers['x-model-version'], '2');
    const models = (await request(server).get('/v1/models/dogs').expect(200)).body;
    assert.equal(models.version, '2');
    // The default policy (latest, 1 version) serves only version 2.
    assert.deepEqual(
      models.versions.map((v: { version: string; status: string }) => [v.version, v.status]),
      [['2', 'ready']],
    );
    const pinned = await image('/v1/models/dogs/versions/2/generate?class=0&seed=3').expect(200);
    assert.ok(plain.body.equals(pinned.body));
    const res = await request(server).get('/v1/models/dogs/versions/1/generate?class=0').expect(404);
    assert.equal(res.body.error.code, 'UNKNOWN_VERSION');
    assert.deepEqual(res.body.error.allowed, ['2']);
    // The flat layout is one version, the manifest's.
    assert.equal((await image('/v1/models/flat/generate?class=a').expect(200)).headers['x-model-version'], '1');
  });

  test('a policy serving two versions: each version answers with its own pixels, version header, ETag and metric labels', async () => {
    await writeFile(path.join(root, 'dogs', 'config.json'), JSON.stringify({ version_policy: { all: {} } }));
    await request(server).post('/v1/repository/models/dogs/load').set(auth).expect(200);
    const v1 = await image('/v1/models/dogs/versions/1/generate?class=1&seed=4').expect(200);
    const v2 = await image('/v1/models/dogs/versions/2/generate?class=1&seed=4').expect(200);
    assert.equal(v1.headers['x-model-version'], '1');
    assert.equal(v2.headers['x-model-version'], '2');
    assert.notEqual(v1.headers.etag, v2.headers.etag);
    assert.ok(!v1.body.equals(v2.body), 'different weights give different pixels');
    // The plain route still takes the newest ready version.
    assert.equal((await image('/generate?class=1&seed=4').expect(200)).headers['x-model-version'], '2');
    const metrics = (await request(server).get('/metrics').expect(200)).text;
    assert.match(metrics, /sagan_images_generated_total\{model="dogs",version="1"\} \d/);
    assert.match(metrics, /sagan_images_generated_total\{model="dogs",version="2"\} \d/);
    assert.match(metrics, /sagan_model_info\{model="dogs",version="1",provider="cpu"\} 1/);
    // Back to the default policy: version 1 leaves, and its gauges with it (its counters and histograms stay,
    // so that rates over the switch stay right).
    await rm(path.join(root, 'dogs', 'config.json'));
    await request(server).post('/v1/repository/models/dogs/load').set(auth).expect(200);
    await until(() => ts.registry.getVersion('dogs', '1') === undefined, 'version 1 to leave');
    await until(
      async () =>
        !/(sagan_model_info|sagan_queue_depth|sagan_queue_depth_by_lane|sagan_model_load_seconds)\{model="dogs",version="1"/.test(
          (await request(server).get('/metrics')).text,
        ),
      'version 1 gauges to go',
    );
    assert.match(
      (await request(server).get('/metrics')).text,
      /sagan_images_generated_total\{model="dogs",version="1"\} \d/,
    );
  });

  test('repository control needs the bearer token: 401 without, 403 with a wrong one, both coded; index with it', async () => {
    const none = await request(server).post('/v1/repository/index').expect(401);
    assert.equal(none.body.error.code, 'UNAUTHENTICATED');
    assert.match(String(none.headers['www-authenticate']), /^Bearer/);
    const wrong = await request(server).post('/v1/repository/index').set('Authorization', 'Bearer nope').expect(403);
    assert.equal(wrong.body.error.code, 'FORBIDDEN');
    assert.equal(
      (await request(server).post('/v1/repository/index').set('Authorization', `Basic ${TOKEN}`).expect(401)).body.error
        .code,
      'UNAUTHENTICATED',
    );
    const index = (await request(server).post('/v1/repository/index').set(auth).expect(200)).body;
    assert.deepEqual(index.models, [
      { name: 'dogs', version: '2', state: 'ready' },
      { name: 'flat', version: '1', state: 'ready' },
    ]);
    const unknown = await request(server).post('/v1/repository/models/nope/load').set(auth).expect(404);
    assert.equal(unknown.body.error.code, 'UNKNOWN_MODEL');
    assert.deepEqual(unknown.body.error.allowed, ['dogs', 'flat']);
    for (const name of ['..', '.hidden', '%2e%2e', 'a%2Fb']) {
      const res = await request(server).post(`/v1/repository/models/${name}/load`).set(auth);
      assert.ok(res.status === 404 || res.status === 400, `${name}: ${res.status}`);
      assert.ok(typeof res.body.error.code === 'string');
    }
    assert.equal(
      (await request(server).get('/v1/repository/index').set(auth).expect(405)).body.error.code,
      'METHOD_NOT_ALLOWED',
    );
  });

  test('a corrupt new version (bad ONNX, then a bad manifest) is reported with its reason; the old version keeps serving', async () => {
    const bad = await writeVersion(root, 'dogs', '3', 3);
    await writeFile(path.join(bad, 'generator.onnx'), 'not an onnx graph');
    const res = await request(server).post('/v1/repository/models/dogs/load').set(auth).expect(422);
    assert.equal(res.body.error.code, 'LOAD_FAILED');
    assert.match(res.body.error.message, /3: .*keeps serving/);
    const model = (await request(server).get('/v1/models/dogs').expect(200)).body;
    assert.equal(model.version, '2');
    assert.equal(model.status, 'ready');
    const v3 = model.versions.find((v: { version: string }) => v.version === '3');
    assert.equal(v3.status, 'unavailable');
    assert.ok(typeof v3.reason === 'string' && v3.reason.length > 0);
    assert.equal((await image('/generate?class=0&seed=1').expect(200)).headers['x-model-version'], '2');
    // A manifest error in version 3.
    await writeFile(path.join(bad, 'model.json'), '{"name": "dogs", "version": "3"');
    const res2 = await request(server).post('/v1/repository/models/dogs/load').set(auth).expect(422);
    assert.match(res2.body.error.message, /invalid manifest/);
    assert.equal((await image('/generate?class=0&seed=1').expect(200)).headers['x-model-version'], '2');
    await rm(bad, { recursive: true });
    await request(server).post('/v1/repository/models/dogs/load').set(auth).expect(200);
    assert.deepEqual(
      ts.registry.versionsOf('dogs').map((v) => v.version),
      ['2'],
    );
  });

  test('unload drains the model, then its routes answer 404 UNKNOWN_MODEL; load brings it back', async () => {
    const inFlight = image('/v1/models/flat/generate?class=a&n=4&seed=9');
    const unloaded = request(server).post('/v1/repository/models/flat/unload').set(auth);
    const [img, done] = await Promise.all([inFlight, unloaded]);
    assert.equal(img.status, 200, 'a request accepted before the unload finishes');
    assert.equal(done.status, 200);
    const gone = await request(server).get('/v1/models/flat/generate?class=a').expect(404);
    assert.equal(gone.body.error.code, 'UNKNOWN_MODEL');
    assert.equal((await request(server).get('/v2/models/flat/ready').expect(404)).body.code, 'UNKNOWN_MODEL');
    assert.equal(
      (await request(server).post('/v1/repository/models/flat/unload').set(auth).expect(404)).body.error.code,
      'UNKNOWN_MODEL',
    );
    await request(server).post('/v1/repository/models/flat/load').set(auth).expect(200);
    await image('/v1/models/flat/generate?class=a').expect(200);
  });
});

describe('repository control settings', () => {
  test('control is off by default: control calls answer 403 CONTROL_DISABLED', async () => {
    const ts = await startTestServer(await makeModelsDir([{ name: 'tiny', classes: ['a'] }]));
    try {
      const res = await request(ts.app).post('/v1/repository/index').expect(403);
      assert.equal(res.body.error.code, 'CONTROL_DISABLED');
      assert.deepEqual(res.body.error.allowed, ['explicit', 'poll']);
    } finally {
      await ts.close();
    }
  });

  test('the server refuses control on a non-loopback HOST without ADMIN_TOKEN, and short tokens', () => {
    const base: Partial<ServerConfig> = { modelsDir: 'models' };
    assert.throws(() => loadConfig({ ...base, modelControl: 'explicit', host: '0.0.0.0' }), /ADMIN_TOKEN/);
    assert.throws(() => loadConfig({ ...base, modelControl: 'poll', host: '10.1.2.3' }), /ADMIN_TOKEN/);
    assert.throws(
      () => loadConfig({ ...base, modelControl: 'explicit', host: '0.0.0.0', adminToken: 'short' }),
      /adminToken|ADMIN_TOKEN/,
    );
    assert.equal(loadConfig({ ...base, modelControl: 'explicit', host: '127.0.0.1' }).modelControl, 'explicit');
    assert.equal(
      loadConfig({ ...base, modelControl: 'explicit', host: '0.0.0.0', adminToken: TOKEN }).adminToken,
      TOKEN,
    );
    assert.throws(() => loadConfig({ ...base, modelControl: 'sometimes' }), /MODEL_CONTROL|modelControl/);
  });
});

describe('poll mode', () => {
  test('notices an added version, a changed one, a removed model and a new model', { timeout: 60_000 }, async () => {
    const root = await makeModelsDir([{ name: 'flat', classes: ['a', 'b'] }]);
    await writeVersion(root, 'dogs', '1', 1);
    const ts = await startTestServer(root, {
      defaultModel: 'dogs',
      modelControl: 'poll',
      repositoryPollSeconds: 0.1,
      host: '127.0.0.1',
    });
    const poller = new RepositoryPoller(ts.registry, ts.config.repositoryPollSeconds * 1000).start();
    const serving = () => ts.registry.get('dogs')?.version;
    try {
      assert.equal(serving(), '1');
      await writeVersion(root, 'dogs', '2', 2);
      await until(() => serving() === '2' && ts.registry.get('dogs')?.status === 'ready', 'version 2 to serve');
      await until(() => ts.registry.getVersion('dogs', '1') === undefined, 'version 1 to be released');
      // The same version's files change (new weights): swapped in when ready, version unchanged.
      const before = await request(ts.app).get('/generate?class=0&seed=1').buffer(true).parse(binary).expect(200);
      const oldEntry = ts.registry.get('dogs');
      await writeVersion(root, 'dogs', '2', 7);
      await until(
        () => ts.registry.get('dogs') !== oldEntry && ts.registry.get('dogs')?.status === 'ready',
        'the changed version 2 to serve',
      );
      const afterChange = await request(ts.app).get('/generate?class=0&seed=1').buffer(true).parse(binary).expect(200);
      assert.ok(!before.body.equals(afterChange.body), 'the new weights serve');
      // A broken change is not retried every poll, and the loaded files keep serving.
      await writeFile(path.join(root, 'dogs', '2', 'generator.onnx'), 'broken');
      await until(() => ts.registry.get('dogs')?.reloadError !== undefined, 'the failed reload to be reported');
      await request(ts.app).get('/generate?class=0&seed=1').expect(200);
      // A removed model unloads; a new directory loads.
      await rm(path.join(root, 'flat'), { recursive: true });
      await until(() => ts.registry.get('flat') === undefined, 'flat to unload');
      await mkdir(path.join(root, 'cats'));
      await writeVersion(root, 'cats', '1', 4);
      await until(() => ts.registry.get('cats')?.status === 'ready', 'cats to load');
    } finally {
      await poller.stop();
      await ts.close();
    }
  });
});
