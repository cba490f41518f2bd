/**
 * A retired version drains in the repository index (Triton's UNLOADING): after a swap, version 1 stays
 * listed as `draining` for as long as a real response (a samples stream whose client stopped reading)
 * holds it, out of the routing, and leaves the index once that response ends and it is released.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import request from 'supertest';
import { stopReadingAfter } from '../../scripts/reliability/stream-clients.js';
import {
  listenLocally,
  makeModelsDir,
  startTestServer,
  writeModelVersion,
  TINY_CLASSES,
  type TestServer,
} from '../helpers/test-server.js';

const TOKEN = 'version-draining-token-0123';
/** Control calls are JSON calls (admin-auth.ts): a body is optional, the content type is not. */
const auth = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' };
// Sample lines of a 64x64 image from a narrow generator: cheap to make, large enough to fill the socket
// buffers of a client that stops reading, so that its response stays open.
const MODEL = { name: 'dogs', classes: TINY_CLASSES, imageSize: 64, width: 4 };

async function writeVersion(root: string, version: string, seed: number): Promise<void> {
  await writeModelVersion(root, MODEL, version, seed);
}

describe('a retired version in the repository index', () => {
  let ts: TestServer;
  let server: Server;
  let base: string;

  before(async () => {
    const root = await makeModelsDir([]);
    await writeVersion(root, '1', 1);
    // No deadline cuts the held response while the test looks at the index.
    ts = await startTestServer(root, {
      modelControl: 'explicit',
      adminToken: TOKEN,
      writeIdleTimeoutMs: 600_000,
      releaseTimeoutMs: 600_000,
    });
    ({ server, base } = await listenLocally(ts.app));
    await writeVersion(root, '2', 2);
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    await ts.close();
  });

  const index = async () => (await request(server).post('/v1/repository/index').set(auth).expect(200)).body.models;

  test(
    'is draining while a slow response holds it, out of the routing, and leaves the index once released',
    { timeout: 60_000 },
    async () => {
      const held = stopReadingAfter(base, '/v1/models/dogs/samples', { class: 0, count: 10_000, format: 'png' }, 2);
      try {
        assert.ok((await held.stopped) >= 2, 'the stream started on version 1');
        await request(server).post('/v1/repository/models/dogs/load').set(auth).expect(200);
        assert.deepEqual(await index(), [
          { name: 'dogs', version: '1', state: 'draining' },
          { name: 'dogs', version: '2', state: 'ready' },
        ]);
        const pinned = await request(server).get('/v1/models/dogs/versions/1/generate?class=0').expect(404);
        assert.equal(pinned.body.error.code, 'UNKNOWN_VERSION', 'a draining version takes no new requests');
        assert.equal((await request(server).get('/v1/models/dogs').expect(200)).body.version, '2');
        // The response still holds version 1 a while later: nothing released it behind its back.
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.deepEqual(
          (await index()).map((r: { state: string }) => r.state),
          ['draining', 'ready'],
        );
      } finally {
        held.destroy();
      }
      await ts.registry.settled();
      assert.deepEqual(await index(), [{ name: 'dogs', version: '2', state: 'ready' }]);
    },
  );
});
