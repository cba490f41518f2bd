/**
 * The Open Inference Protocol (KServe v2 REST) on real models: requests in the spec's JSON shape get
 * spec-shaped answers, `infer` gives the same pixels as `/generate` for the same latent and class and
 * batches with it, and malformed requests get coded 4xx in the protocol's error shape.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import request from 'supertest';
import sharp from 'sharp';
import { latentForSeed } from '@sagan-serve/model-contract/seeded-latent';
import { toRgbBytes } from '@sagan-serve/model-contract/image';
import {
  binary,
  histogramTotals,
  makeModelsDir,
  startTestServer,
  TINY_CLASSES,
  type TestServer,
} from '../helpers/test-server.js';

describe('Open Inference Protocol (v2)', () => {
  let ts: TestServer;
  let server: Server;

  before(async () => {
    const dir = await makeModelsDir([
      { name: 'dogs', classes: TINY_CLASSES, batching: { maxBatchSize: 8, maxQueueDelayMs: 40 } },
      { name: 'plain', classes: ['a', 'b'], attentionResolution: null, seed: 2 },
    ]);
    ts = await startTestServer(dir, { defaultModel: 'dogs' });
    server = ts.app.listen(0, '127.0.0.1');
  });
  after(async () => {
    server.close();
    await ts.close();
  });

  const infer = (body: unknown, path = '/v2/models/dogs/infer') =>
    request(server)
      .post(path)
      .send(body as object);

  test('health, server and model metadata', async () => {
    assert.deepEqual((await request(server).get('/v2/health/live').expect(200)).body, { live: true });
    assert.deepEqual((await request(server).get('/v2/health/ready').expect(200)).body, { ready: true });
    const meta = (await request(server).get('/v2').expect(200)).body;
    assert.equal(meta.name, 'sagan-serve');
    assert.deepEqual(meta.extensions, ['binary_tensor_data']);
    const model = (await request(server).get('/v2/models/dogs').expect(200)).body;
    assert.deepEqual(model, {
      name: 'dogs',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [
        { name: 'z', datatype: 'FP32', shape: [-1, 16] },
        { name: 'y', datatype: 'INT64', shape: [-1] },
      ],
      outputs: [
        { name: 'image', datatype: 'FP32', shape: [-1, 3, 16, 16] },
        { name: 'attention', datatype: 'FP32', shape: [-1, 64, 16] },
      ],
    });
    assert.deepEqual((await request(server).get('/v2/models/plain').expect(200)).body.outputs, [
      { name: 'image', datatype: 'FP32', shape: [-1, 3, 16, 16] },
    ]);
    assert.deepEqual((await request(server).get('/v2/models/dogs/versions/1').expect(200)).body.versions, ['1']);
    assert.deepEqual((await request(server).get('/v2/models/dogs/ready').expect(200)).body, {
      name: 'dogs',
      ready: true,
    });
    await request(server).get('/v2/models/dogs/versions/1/ready').expect(200);
  });

  test("infer in the spec's JSON shape: outputs, shapes, id, headers; same pixels as /generate for the same z and class", async () => {
    const z = latentForSeed(7, 16);
    const res = await infer({
      id: 'req-1',
      inputs: [
        { name: 'z', shape: [1, 16], datatype: 'FP32', data: Array.from(z) },
        { name: 'y', shape: [1], datatype: 'INT64', data: [3] },
      ],
      outputs: [{ name: 'image' }],
    }).expect(200);
    assert.equal(res.headers['x-model-version'], '1');
    assert.equal(res.body.model_name, 'dogs');
    assert.equal(res.body.model_version, '1');
    assert.equal(res.body.id, 'req-1');
    assert.equal(res.body.outputs.length, 1);
    const [image] = res.body.outputs;
    assert.deepEqual([image.name, image.datatype, image.shape], ['image', 'FP32', [1, 3, 16, 16]]);
    assert.equal(image.data.length, 3 * 16 * 16);
    const png = await request(server)
      .get('/generate?class=saint_bernard&seed=7')
      .buffer(true)
      .parse(binary)
      .expect(200);
    const fromGenerate = await sharp(png.body as Buffer)
      .raw()
      .toBuffer();
    const fromV2 = toRgbBytes(Float32Array.from(image.data as number[]), 16, [-1, 1]);
    assert.ok(fromV2.equals(fromGenerate), 'identical 8-bit pixels');
  });

  test('nested data, several rows, all outputs by default (attention included)', async () => {
    const rows = [latentForSeed(1, 16), latentForSeed(2, 16)];
    const res = await infer({
      inputs: [
        { name: 'y', shape: [2], datatype: 'INT32', data: [0, 1] },
        { name: 'z', shape: [2, 16], datatype: 'FP32', data: rows.map((r) => Array.from(r)) },
      ],
    }).expect(200);
    const names = res.body.outputs.map((o: { name: string }) => o.name);
    assert.deepEqual(names, ['image', 'attention']);
    const attention = res.body.outputs[1];
    assert.deepEqual(attention.shape, [2, 64, 16]);
    for (let q = 0; q < 64; q++) {
      const row = (attention.data as number[]).slice(q * 16, q * 16 + 16);
      assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-4, 'attention rows sum to 1');
    }
    const one = await infer({
      inputs: [
        { name: 'z', shape: [1, 16], datatype: 'FP32', data: Array.from(rows[1]) },
        { name: 'y', shape: [1], datatype: 'INT64', data: [1] },
      ],
      outputs: [{ name: 'image' }],
    }).expect(200);
    assert.deepEqual(
      res.body.outputs[0].data.slice(3 * 256),
      one.body.outputs[0].data,
      'row 2 of the batch equals row 2 alone',
    );
  });

  test('v2 and /generate requests share batches', async () => {
    const before = await histogramTotals(ts.metrics, 'sagan_batch_size');
    await Promise.all([
      infer({
        inputs: [
          { name: 'z', shape: [1, 16], datatype: 'FP32', data: Array.from(latentForSeed(3, 16)) },
          { name: 'y', shape: [1], datatype: 'INT64', data: [0] },
        ],
        outputs: [{ name: 'image' }],
      }).expect(200),
      request(server).get('/generate?class=0&seed=4').expect(200),
      request(server).get('/generate?class=1&seed=5').expect(200),
    ]);
    const after = await histogramTotals(ts.metrics, 'sagan_batch_size');
    assert.equal(after.sum - before.sum, 3, 'three rows');
    assert.ok(after.count - before.count < 3, `three rows in ${after.count - before.count} batch(es)`);
  });

  test("malformed requests: coded 4xx in the protocol's error shape, naming the field", async () => {
    const good = () => ({
      inputs: [
        { name: 'z', shape: [1, 16], datatype: 'FP32', data: new Array(16).fill(0.1) },
        { name: 'y', shape: [1], datatype: 'INT64', data: [0] },
      ],
    });
    const cases: Array<[unknown, string, string | RegExp]> = [
      [{ inputs: [good().inputs[0]] }, 'INVALID_ARGUMENT', 'body.inputs'],
      [
        { ...good(), inputs: [{ ...good().inputs[0], name: 'noise' }, good().inputs[1]] },
        'INVALID_ARGUMENT',
        'body.inputs[0].name',
      ],
      [
        { ...good(), inputs: [{ ...good().inputs[0], datatype: 'INT8' }, good().inputs[1]] },
        'INVALID_ARGUMENT',
        'body.inputs[0].datatype',
      ],
      [
        { ...good(), inputs: [{ ...good().inputs[0], shape: [1, 15] }, good().inputs[1]] },
        'INVALID_ARGUMENT',
        'body.inputs[0].shape',
      ],
      [
        { ...good(), inputs: [{ ...good().inputs[0], data: new Array(15).fill(0) }, good().inputs[1]] },
        'INVALID_ARGUMENT',
        'body.inputs[0].data',
      ],
      [
        { ...good(), inputs: [good().inputs[0], { ...good().inputs[1], data: [4] }] },
        'INVALID_ARGUMENT',
        'body.inputs[1].data',
      ],
      [
        { ...good(), inputs: [good().inputs[0], { ...good().inputs[1], data: [0.5] }] },
        'INVALID_ARGUMENT',
        'body.inputs[1].data',
      ],
      [
        { ...good(), inputs: [{ ...good().inputs[0], data: [...new Array(15).fill(0), 1e9] }, good().inputs[1]] },
        'INVALID_ARGUMENT',
        'body.inputs[0].data',
      ],
      [
        { ...good(), inputs: [{ ...good().inputs[0], data: [...new Array(15).fill(0), 'x'] }, good().inputs[1]] },
        'INVALID_ARGUMENT',
        /body\.inputs/,
      ],
      [{ ...good(), outputs: [{ name: 'logits' }] }, 'INVALID_ARGUMENT', 'body.outputs[0].name'],
      [{ ...good(), extra: 1 }, 'INVALID_ARGUMENT', 'body.extra'],
      [
        {
          inputs: [
            { name: 'z', shape: [100, 16], datatype: 'FP32', data: new Array(1600).fill(0) },
            { name: 'y', shape: [100], datatype: 'INT64', data: new Array(100).fill(0) },
          ],
        },
        'INVALID_ARGUMENT',
        'body.inputs[0].shape',
      ],
    ];
    for (const [body, code, field] of cases) {
      const res = await infer(body).expect(400);
      assert.equal(typeof res.body.error, 'string', "the protocol's error is a message");
      assert.equal(res.body.code, code);
      if (typeof field === 'string') assert.equal(res.body.field, field, JSON.stringify(res.body));
      else assert.match(res.body.field, field);
    }
    const unknown = await infer(good(), '/v2/models/cats/infer').expect(404);
    assert.equal(unknown.body.code, 'UNKNOWN_MODEL');
    assert.deepEqual(unknown.body.allowed, ['dogs', 'plain']);
    const version = await infer(good(), '/v2/models/dogs/versions/7/infer').expect(404);
    assert.equal(version.body.code, 'UNKNOWN_VERSION');
    assert.deepEqual(version.body.allowed, ['1']);
    await request(server).get('/v2/models/dogs/versions/7').expect(404);
    const text = await request(server)
      .post('/v2/models/dogs/infer')
      .set('content-type', 'text/plain')
      .send('{}')
      .expect(415);
    assert.equal(text.body.code, 'UNSUPPORTED_MEDIA_TYPE');
    const broken = await request(server)
      .post('/v2/models/dogs/infer')
      .set('content-type', 'application/json')
      .send('{"inputs": [')
      .expect(400);
    assert.equal(broken.body.code, 'MALFORMED_JSON');
    const method = await request(server).get('/v2/models/dogs/infer').expect(405);
    assert.equal(method.body.code, 'METHOD_NOT_ALLOWED');
  });

  test('a response over MAX_INFER_RESPONSE_BYTES is refused before inference with the rows allowed; within it, the body is streamed and parses to the same tensors', async () => {
    // dogs: 3x16x16 image values per row, plus 64x16 attention values: 1,792 values, at most 24 bytes each.
    const limited = await startTestServer(await makeModelsDir([{ name: 'dogs', classes: TINY_CLASSES }]), {
      maxInferResponseBytes: 1_792 * 24 * 3,
    });
    const limitedServer = limited.app.listen(0, '127.0.0.1');
    try {
      const rows = (n: number, outputs?: string[]) => ({
        inputs: [
          { name: 'z', shape: [n, 16], datatype: 'FP32', data: Array.from({ length: n * 16 }, (_, i) => Math.cos(i)) },
          { name: 'y', shape: [n], datatype: 'INT64', data: new Array(n).fill(2) },
        ],
        ...(outputs ? { outputs: outputs.map((name) => ({ name })) } : {}),
      });
      const before = await histogramTotals(limited.metrics, 'sagan_batch_size');
      const refused = await request(limitedServer).post('/v2/models/dogs/infer').send(rows(4)).expect(400);
      assert.equal(refused.body.code, 'INVALID_ARGUMENT');
      assert.equal(refused.body.field, 'body.inputs[0].shape');
      assert.equal(refused.body.allowed, '1..3 rows');
      assert.equal((await histogramTotals(limited.metrics, 'sagan_batch_size')).count, before.count, 'nothing ran');
      // The image output alone is 768 values a row: 7 rows fit.
      await request(limitedServer)
        .post('/v2/models/dogs/infer')
        .send(rows(7, ['image']))
        .expect(200);
      const ok = await request(limitedServer).post('/v2/models/dogs/infer').send(rows(3)).expect(200);
      assert.equal(ok.headers['content-length'], undefined, 'streamed (chunked), not built whole');
      assert.equal(ok.headers['transfer-encoding'], 'chunked');
      assert.deepEqual(
        ok.body.outputs.map((o: { name: string; shape: number[] }) => [o.name, o.shape]),
        [
          ['image', [3, 3, 16, 16]],
          ['attention', [3, 64, 16]],
        ],
      );
      const image = ok.body.outputs[0].data as number[];
      assert.equal(image.length, 3 * 768);
      assert.ok(image.every((v) => typeof v === 'number' && Number.isFinite(v)));
      // Values are the float32 outputs written in full (the same numbers JSON.stringify gives).
      assert.ok(
        image.every((v) => Math.fround(v) === v),
        'every value is exactly a float32',
      );
    } finally {
      limitedServer.close();
      await limited.close();
    }
  });
});
