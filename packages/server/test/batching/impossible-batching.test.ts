/**
 * Batching settings that could never serve some requests. A queue smaller than a full batch can never
 * take a samples stream's chunk (maxBatchSize rows): such a model is refused at load with the reason,
 * whether the manifest says so alone or with the server's defaults. A queue smaller than a request's
 * rows (n, steps) is a valid choice, but that request can never fit: it gets 400 naming the field and
 * the range, not a 503 QUEUE_FULL that no retry can cure, and it is not counted as overload.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { ManifestError, parseManifest } from '@sagan-serve/model-contract/manifest';
import { makeModelsDir, startTestServer, TINY_CLASSES, type TestServer } from '../helpers/test-server.js';

const manifest = (batching: Record<string, number>): Record<string, unknown> => ({
  name: 'dogs',
  version: '1',
  file: 'generator.onnx',
  classes: ['a', 'b'],
  latent: { input: 'z', dim: 16 },
  class_input: 'y',
  image: { output: 'image', size: 16, range: [-1, 1] },
  batching,
});

test('the manifest parser refuses a batching block whose queue is smaller than its batch', () => {
  assert.throws(
    () => parseManifest(manifest({ maxBatchSize: 8, maxQueueSize: 4 })),
    (err: unknown) =>
      err instanceof ManifestError &&
      /manifest\.batching\.maxQueueSize 4 is below manifest\.batching\.maxBatchSize 8/.test(err.message),
  );
  assert.equal(parseManifest(manifest({ maxBatchSize: 8, maxQueueSize: 8 })).batching?.maxQueueSize, 8);
});

describe('batching settings against requests', () => {
  let ts: TestServer;

  before(async () => {
    ts = await startTestServer(
      await makeModelsDir([
        // Only the queue is set: the server's MAX_BATCH_SIZE (16) does not fit in it.
        { name: 'tight', classes: TINY_CLASSES, batching: { maxQueueSize: 4 } },
        { name: 'small', classes: TINY_CLASSES, batching: { maxBatchSize: 2, maxQueueSize: 4 } },
      ]),
      { modelControl: 'explicit', host: '127.0.0.1' },
    );
  });
  after(async () => {
    await ts.close();
  });

  test('a queue smaller than the batch (the manifest over the server defaults) makes the model unavailable with the reason', async () => {
    const model = (await request(ts.app).get('/v1/models/tight').expect(200)).body;
    assert.equal(model.status, 'unavailable');
    assert.match(model.reason, /manifest\.batching\.maxQueueSize 4 is below MAX_BATCH_SIZE 16/);
    const samples = await request(ts.app).post('/v1/models/tight/samples').send({ class: 0, count: 20 }).expect(503);
    assert.equal(samples.body.error.code, 'MODEL_UNAVAILABLE');
  });

  test('a request for more rows than the queue holds gets 400 naming the field and range, and is not counted as overload', async () => {
    const n = await request(ts.app).get('/v1/models/small/generate?class=0&seed=1&n=5').expect(400);
    assert.equal(n.body.error.code, 'INVALID_ARGUMENT');
    assert.equal(n.body.error.field, 'n');
    assert.equal(n.body.error.allowed, '1..4');
    assert.equal(n.headers['retry-after'], undefined);
    const z = await request(ts.app)
      .post('/v1/models/small/generate')
      .send({ class: 0, z: Array.from({ length: 5 }, () => new Array(16).fill(0)) })
      .expect(400);
    assert.equal(z.body.error.field, 'body.z');
    const steps = await request(ts.app).get('/v1/models/small/interpolate?class=0&from=1&to=2&steps=5').expect(400);
    assert.equal(steps.body.error.field, 'steps');
    assert.equal(steps.body.error.allowed, '1..4');
    const infer = await request(ts.app)
      .post('/v2/models/small/infer')
      .send({
        inputs: [
          { name: 'z', shape: [5, 16], datatype: 'FP32', data: new Array(5 * 16).fill(0) },
          { name: 'y', shape: [5], datatype: 'INT64', data: [0, 1, 2, 3, 0] },
        ],
      })
      .expect(400);
    assert.equal(infer.body.code, 'INVALID_ARGUMENT');
    await request(ts.app).get('/v1/models/small/generate?class=0&seed=1&n=4').expect(200);
    await request(ts.app).post('/v1/models/small/samples').send({ class: 0, count: 9 }).expect(200);
    const metrics = (await request(ts.app).get('/metrics').expect(200)).text;
    assert.ok(
      !/sagan_requests_rejected_total\{model="small",version="1",reason="queue_full"\} [1-9]/.test(metrics),
      'no refusal counted as queue_full',
    );
  });
});
