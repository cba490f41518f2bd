/**
 * A model whose output has fewer rows than the batch it was given (real ONNX graphs that slice their
 * output, test/helpers/row-slicing-model.ts). One that is wrong already at batch 2 is refused at load
 * with the reason; one that is right at batches 1 and 2 but wrong above fails the batches where it is
 * wrong with INFERENCE_FAILED, instead of answering 200 with blank rows.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { makeModelsDir, startTestServer, type TestServer } from '../helpers/test-server.js';
import { writeRowSlicingModel } from '../helpers/row-slicing-model.js';

describe('output rows against the batch', () => {
  let ts: TestServer;

  before(async () => {
    const dir = await makeModelsDir([]);
    await writeRowSlicingModel(dir, 'onerow', 1);
    await writeRowSlicingModel(dir, 'tworows', 2);
    ts = await startTestServer(dir);
  });
  after(async () => {
    await ts.close();
  });

  test('a model that answers batch 2 with one row is unavailable, with the dims in the reason', async () => {
    const model = (await request(ts.app).get('/v1/models/onerow').expect(200)).body;
    assert.equal(model.status, 'unavailable');
    assert.match(model.reason, /'image' has dims \[1, 3, 8, 8\], manifest implies \[2, 3, 8, 8\]/);
  });

  test('a batch whose output has fewer rows than it asked for fails with INFERENCE_FAILED on every route', async () => {
    await request(ts.app).get('/v1/models/tworows/generate?class=0&seed=1&n=2').expect(200);
    const grid = await request(ts.app).get('/v1/models/tworows/generate?class=0&seed=1&n=3').expect(500);
    assert.equal(grid.body.error.code, 'INFERENCE_FAILED');
    assert.match(grid.body.error.message, /image output has 384 values; a batch of 3 needs 576/);
    const infer = await request(ts.app)
      .post('/v2/models/tworows/infer')
      .send({
        inputs: [
          { name: 'z', shape: [3, 16], datatype: 'FP32', data: new Array(3 * 16).fill(0.1) },
          { name: 'y', shape: [3], datatype: 'INT64', data: [0, 1, 0] },
        ],
      })
      .expect(500);
    assert.equal(infer.body.code, 'INFERENCE_FAILED');
    const metrics = (await request(ts.app).get('/metrics').expect(200)).text;
    assert.ok(
      /sagan_requests_rejected_total\{model="tworows",version="1",reason="failed"\} 2/.test(metrics),
      'both failures are counted',
    );
  });
});
