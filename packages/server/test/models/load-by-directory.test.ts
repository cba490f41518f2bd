/**
 * A flat-layout model whose directory's name differs from its manifest's name (`dogsdir` holding
 * `dogs64`): repository control by either name reaches the same model, leaves no phantom entry behind
 * (readiness stays 200), and operations by the two names run one at a time.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import request from 'supertest';
import { writeModelDirectory } from '@sagan-serve/model-contract/model-directory';
import { randomWeights } from '@sagan-serve/model-contract/sagan-graph';
import { makeModelsDir, startTestServer, tinyConfig, TINY_CLASSES, type TestServer } from '../helpers/test-server.js';

const TOKEN = 'load-by-directory-token-0123';
/** Control calls are JSON calls (admin-auth.ts): a body is optional, the content type is not. */
const auth = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' };

async function writeDogs(root: string, seed: number): Promise<void> {
  const config = tinyConfig({ name: 'dogs64', classes: TINY_CLASSES });
  await writeModelDirectory(path.join(root, 'dogsdir'), config, randomWeights(config, seed), {
    name: 'dogs64',
    version: '1',
    classes: TINY_CLASSES,
    untrained: true,
  });
}

describe('loading a model by its directory name', () => {
  let ts: TestServer;
  let root: string;

  before(async () => {
    root = await makeModelsDir([]);
    await writeDogs(root, 1);
    ts = await startTestServer(root, { modelControl: 'explicit', adminToken: TOKEN });
  });
  after(async () => {
    await ts.close();
  });

  test('load by directory name answers for the model, reloads it, and readiness stays 200 with no phantom entry', async () => {
    assert.equal((await request(ts.app).get('/readyz').expect(200)).body.ready, true);
    const before = ts.registry.get('dogs64');
    await writeDogs(root, 2);
    const res = await request(ts.app).post('/v1/repository/models/dogsdir/load').set(auth).expect(200);
    assert.equal(res.body.name, 'dogs64');
    await ts.registry.settled();
    const ready = await request(ts.app).get('/readyz');
    assert.deepEqual(ready.body.models, { dogs64: 'ready' });
    assert.equal(ready.status, 200);
    assert.notEqual(ts.registry.get('dogs64'), before, 'the changed files were loaded');
    const index = (await request(ts.app).post('/v1/repository/index').set(auth).expect(200)).body;
    assert.deepEqual(index.models, [{ name: 'dogs64', version: '1', state: 'ready' }]);
  });

  test('loads by directory name and by model name run one at a time', async () => {
    const registry = ts.registry as unknown as { apply: (...args: unknown[]) => Promise<void> };
    const apply = registry.apply.bind(ts.registry);
    let running = 0;
    let most = 0;
    registry.apply = async (...args) => {
      running += 1;
      most = Math.max(most, running);
      try {
        return await apply(...args);
      } finally {
        running -= 1;
      }
    };
    try {
      await writeDogs(root, 3);
      const [byDir, byName] = await Promise.all([
        request(ts.app).post('/v1/repository/models/dogsdir/load').set(auth),
        request(ts.app).post('/v1/repository/models/dogs64/load').set(auth),
      ]);
      assert.equal(byDir.status, 200);
      assert.equal(byName.status, 200);
      assert.equal(most, 1, 'the two loads overlapped');
      await ts.registry.settled();
      assert.deepEqual(
        ts.registry.versionsOf('dogs64').map((v) => [v.version, v.status]),
        [['1', 'ready']],
      );
    } finally {
      delete (registry as { apply?: unknown }).apply;
    }
  });
});
