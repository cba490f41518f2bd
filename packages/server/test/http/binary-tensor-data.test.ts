/**
 * The Open Inference Protocol's binary tensor data extension on real models and real HTTP: a request
 * with binary tensors gives the same values as the same request in JSON (inputs, outputs, and mixes of
 * the two), the response is framed as the spec says (Inference-Header-Content-Length, binary_data_size
 * per output, the lengths adding up), JSON stays the default, and malformed framing gets a coded 400
 * naming the field.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders, Server } from 'node:http';
import request from 'supertest';
import { send, type RawResponse } from '../../scripts/reliability/http-client.js';
import { latentForSeed } from '@sagan-serve/model-contract/seeded-latent';
import {
  binary,
  listenLocally,
  makeModelsDir,
  startTestServer,
  TINY_CLASSES,
  type TestServer,
} from '../helpers/test-server.js';

const HEADER = 'Inference-Header-Content-Length';

/** FP32 values as the spec lays them out: little-endian. */
function fp32Bytes(values: ArrayLike<number>): Buffer {
  const bytes = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) bytes.writeFloatLE(values[i], i * 4);
  return bytes;
}

function int64Bytes(values: readonly number[]): Buffer {
  const bytes = Buffer.alloc(values.length * 8);
  values.forEach((v, i) => bytes.writeBigInt64LE(BigInt(v), i * 8));
  return bytes;
}

function int32Bytes(values: readonly number[]): Buffer {
  const bytes = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => bytes.writeInt32LE(v, i * 4));
  return bytes;
}

/** A binary-form body: the JSON header, then the blobs; and the header's length. */
function binaryBody(header: object, blobs: readonly Buffer[]): { body: Buffer; headerLength: number } {
  const json = Buffer.from(JSON.stringify(header));
  return { body: Buffer.concat([json, ...blobs]), headerLength: json.length };
}

interface ParsedOutput {
  name: string;
  shape: number[];
  datatype: string;
  parameters?: { binary_data_size?: number };
  data?: number[];
  /** The values, from `data` or from the binary data. */
  values: Float32Array;
}

/**
 * A binary-framed response taken apart as a client would: the JSON header of Inference-Header-Content-Length
 * bytes, then each binary output's binary_data_size bytes in order; the lengths must add up exactly.
 */
function parseBinaryResponse({ headers, body }: { headers: IncomingHttpHeaders; body: Buffer }): {
  head: Record<string, unknown>;
  outputs: ParsedOutput[];
} {
  assert.match(String(headers['content-type']), /^application\/octet-stream/);
  const headerLength = Number(headers[HEADER.toLowerCase()]);
  assert.ok(Number.isInteger(headerLength) && headerLength > 0, `${HEADER}: ${headers[HEADER.toLowerCase()]}`);
  assert.equal(Number(headers['content-length']), body.length);
  const head = JSON.parse(body.toString('utf8', 0, headerLength)) as Record<string, unknown> & {
    outputs: Array<Omit<ParsedOutput, 'values'>>;
  };
  let offset = headerLength;
  const outputs = head.outputs.map((o): ParsedOutput => {
    const size = o.parameters?.binary_data_size;
    if (size === undefined) {
      assert.ok(Array.isArray(o.data), `${o.name}: JSON data or binary_data_size`);
      return { ...o, values: Float32Array.from(o.data) };
    }
    assert.equal(o.data, undefined, `${o.name}: a binary output has no data`);
    assert.equal(size, o.shape.reduce((a, b) => a * b, 1) * 4, `${o.name}: binary_data_size is its FP32 bytes`);
    const bytes = body.subarray(offset, offset + size);
    offset += size;
    const values = new Float32Array(size / 4);
    for (let i = 0; i < values.length; i++) values[i] = bytes.readFloatLE(i * 4);
    return { ...o, values };
  });
  assert.equal(offset, body.length, 'the header and the binary outputs add up to the body');
  return { head, outputs };
}

const sameFloats = (a: Float32Array, b: Float32Array, what: string) =>
  assert.ok(
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength)),
    what,
  );

describe('binary tensor data extension (v2)', () => {
  let ts: TestServer;
  let server: Server;

  before(async () => {
    const dir = await makeModelsDir([
      { name: 'dogs', classes: TINY_CLASSES, batching: { maxBatchSize: 8, maxQueueDelayMs: 5 } },
    ]);
    ts = await startTestServer(dir);
    ({ server, base } = await listenLocally(ts.app));
  });
  after(async () => {
    server.close();
    await ts.close();
  });

  const z = [latentForSeed(11, 16), latentForSeed(12, 16)];
  const zFlat = Float32Array.from(z.flatMap((row) => Array.from(row)));
  const classes = [1, 3];

  const jsonInputs = () => [
    { name: 'z', shape: [2, 16], datatype: 'FP32', data: Array.from(zFlat) },
    { name: 'y', shape: [2], datatype: 'INT64', data: classes },
  ];

  const postJson = (body: object) => request(server).post('/v2/models/dogs/infer').send(body);
  let base: string;
  /** A body sent byte for byte (supertest would write a Buffer sent as application/json as JSON). */
  const postBinary = (
    body: Buffer,
    headerLength: number | string | undefined,
    contentType = 'application/octet-stream',
    to = base,
  ): Promise<RawResponse> =>
    send(to, {
      method: 'POST',
      path: '/v2/models/dogs/infer',
      headers: {
        'content-type': contentType,
        ...(headerLength !== undefined ? { [HEADER]: String(headerLength) } : {}),
      },
      body,
    });
  const answer = (res: RawResponse) => JSON.parse(res.body.toString('utf8'));
  const ok = (res: RawResponse): RawResponse => {
    assert.equal(res.status, 200, res.body.toString('utf8').slice(0, 300));
    return res;
  };

  /** The JSON answer to the plain JSON request, every output: what the binary forms must equal. */
  async function jsonReference(): Promise<Map<string, Float32Array>> {
    const res = await postJson({ inputs: jsonInputs() }).expect(200);
    assert.match(res.headers['content-type'], /^application\/json/);
    return new Map(
      (res.body.outputs as Array<{ name: string; data: number[] }>).map((o) => [o.name, Float32Array.from(o.data)]),
    );
  }

  test('GET /v2 advertises binary_tensor_data', async () => {
    const meta = (await request(server).get('/v2').expect(200)).body;
    assert.ok(meta.extensions.includes('binary_tensor_data'));
  });

  test('binary inputs (FP32, INT64) and binary_data_output: the same values as JSON, framed as the spec says', async () => {
    const reference = await jsonReference();
    const { body, headerLength } = binaryBody(
      {
        id: 'bin-1',
        parameters: { binary_data_output: true },
        inputs: [
          { name: 'z', shape: [2, 16], datatype: 'FP32', parameters: { binary_data_size: 2 * 16 * 4 } },
          { name: 'y', shape: [2], datatype: 'INT64', parameters: { binary_data_size: 2 * 8 } },
        ],
      },
      [fp32Bytes(zFlat), int64Bytes(classes)],
    );
    const res = ok(await postBinary(body, headerLength));
    const { head, outputs } = parseBinaryResponse(res);
    assert.equal(head.id, 'bin-1');
    assert.equal(head.model_name, 'dogs');
    assert.deepEqual(
      outputs.map((o) => [o.name, o.datatype, o.shape]),
      [
        ['image', 'FP32', [2, 3, 16, 16]],
        ['attention', 'FP32', [2, 64, 16]],
      ],
    );
    for (const o of outputs) {
      assert.ok(o.parameters?.binary_data_size !== undefined, `${o.name} is binary`);
      sameFloats(o.values, reference.get(o.name)!, `${o.name}: the same floats as the JSON response`);
    }
  });

  test('INT32 classes in binary; the header sent with Content-Type application/json is read the same way', async () => {
    const reference = await jsonReference();
    const { body, headerLength } = binaryBody(
      {
        inputs: [
          { name: 'y', shape: [2], datatype: 'INT32', parameters: { binary_data_size: 8 } },
          { name: 'z', shape: [2, 16], datatype: 'FP32', parameters: { binary_data_size: 128 } },
        ],
        outputs: [{ name: 'image', parameters: { binary_data: true } }],
      },
      [int32Bytes(classes), fp32Bytes(zFlat)],
    );
    for (const contentType of ['application/octet-stream', 'application/json']) {
      const res = ok(await postBinary(body, headerLength, contentType));
      const { outputs } = parseBinaryResponse(res);
      assert.deepEqual(
        outputs.map((o) => o.name),
        ['image'],
      );
      sameFloats(outputs[0].values, reference.get('image')!, `${contentType}: the same image floats`);
    }
  });

  test('mixed: binary inputs with JSON outputs; JSON inputs with one output binary by its own binary_data', async () => {
    const reference = await jsonReference();
    const { body, headerLength } = binaryBody(
      {
        inputs: [
          { name: 'z', shape: [2, 16], datatype: 'FP32', parameters: { binary_data_size: 128 } },
          { name: 'y', shape: [2], datatype: 'INT64', data: classes },
        ],
      },
      [fp32Bytes(zFlat)],
    );
    const jsonOut = await request(server)
      .post('/v2/models/dogs/infer')
      .set('Content-Type', 'application/octet-stream')
      .set(HEADER, String(headerLength))
      .send(body)
      .expect(200);
    assert.match(jsonOut.headers['content-type'], /^application\/json/, 'no output asked binary: a JSON response');
    assert.equal(jsonOut.headers[HEADER.toLowerCase()], undefined);
    for (const o of jsonOut.body.outputs as Array<{ name: string; data: number[] }>)
      sameFloats(Float32Array.from(o.data), reference.get(o.name)!, `${o.name} from binary inputs`);

    // The request asks every output binary, the image's own binary_data: false wins for it.
    const mixed = await postJson({
      inputs: jsonInputs(),
      parameters: { binary_data_output: true },
      outputs: [{ name: 'image', parameters: { binary_data: false } }, { name: 'attention' }],
    })
      .buffer(true)
      .parse(binary)
      .expect(200);
    const { outputs } = parseBinaryResponse(mixed);
    assert.deepEqual(
      outputs.map((o) => [o.name, o.parameters?.binary_data_size === undefined]),
      [
        ['image', true],
        ['attention', false],
      ],
    );
    for (const o of outputs) sameFloats(o.values, reference.get(o.name)!, `${o.name} in the mixed response`);

    const oneBinary = await postJson({
      inputs: jsonInputs(),
      outputs: [{ name: 'attention', parameters: { binary_data: true } }],
    })
      .buffer(true)
      .parse(binary)
      .expect(200);
    const attention = parseBinaryResponse(oneBinary).outputs;
    assert.deepEqual(
      attention.map((o) => o.name),
      ['attention'],
    );
    sameFloats(attention[0].values, reference.get('attention')!, 'attention alone, binary');
  });

  test('JSON stays the default; an octet-stream body without the header is all JSON header', async () => {
    const res = await postJson({ inputs: jsonInputs(), outputs: [{ name: 'image' }] }).expect(200);
    assert.match(res.headers['content-type'], /^application\/json/);
    assert.equal(res.headers[HEADER.toLowerCase()], undefined);
    assert.equal(res.body.outputs[0].data.length, 2 * 768);
    const whole = Buffer.from(JSON.stringify({ inputs: jsonInputs(), outputs: [{ name: 'image' }] }));
    const octet = await request(server)
      .post('/v2/models/dogs/infer')
      .set('Content-Type', 'application/octet-stream')
      .send(whole)
      .expect(200);
    assert.deepEqual(octet.body.outputs[0].data, res.body.outputs[0].data);
  });

  test('malformed binary requests: coded 400s naming the field, and the server keeps serving', async () => {
    const header = (inputs: object[]) => ({ inputs });
    const zBin = { name: 'z', shape: [2, 16], datatype: 'FP32', parameters: { binary_data_size: 128 } };
    const yBin = { name: 'y', shape: [2], datatype: 'INT64', parameters: { binary_data_size: 16 } };
    const good = binaryBody(header([zBin, yBin]), [fp32Bytes(zFlat), int64Bytes(classes)]);
    const nanZ = Float32Array.from(zFlat);
    nanZ[5] = NaN;
    const cases: Array<{
      what: string;
      body: Buffer;
      headerLength: number | string | undefined;
      code: string;
      field: string;
      contentType?: string;
    }> = [
      {
        what: 'header not a number',
        body: good.body,
        headerLength: 'abc',
        code: 'INVALID_ARGUMENT',
        field: `header.${HEADER}`,
      },
      {
        what: 'header negative',
        body: good.body,
        headerLength: '-1',
        code: 'INVALID_ARGUMENT',
        field: `header.${HEADER}`,
      },
      {
        what: 'header past the body',
        body: good.body,
        headerLength: good.body.length + 1,
        code: 'INVALID_ARGUMENT',
        field: `header.${HEADER}`,
      },
      {
        what: 'header cut short of its JSON',
        body: good.body,
        headerLength: good.headerLength - 1,
        code: 'MALFORMED_JSON',
        field: 'body',
      },
      {
        what: 'a size that is not shape x datatype',
        ...binaryBody(header([{ ...zBin, parameters: { binary_data_size: 124 } }, yBin]), [
          fp32Bytes(zFlat).subarray(4),
          int64Bytes(classes),
        ]),
        code: 'INVALID_ARGUMENT',
        field: 'body.inputs[0].parameters.binary_data_size',
      },
      {
        what: 'INT64 classes sized as INT32',
        ...binaryBody(header([zBin, { ...yBin, parameters: { binary_data_size: 8 } }]), [
          fp32Bytes(zFlat),
          int32Bytes(classes),
        ]),
        code: 'INVALID_ARGUMENT',
        field: 'body.inputs[1].parameters.binary_data_size',
      },
      {
        what: 'sizes past the end of the body',
        ...binaryBody(header([zBin, yBin]), [fp32Bytes(zFlat), int64Bytes(classes).subarray(8)]),
        code: 'INVALID_ARGUMENT',
        field: 'body.inputs[1].parameters.binary_data_size',
      },
      {
        what: 'bytes left over after the inputs',
        ...binaryBody(header([zBin, yBin]), [fp32Bytes(zFlat), int64Bytes(classes), Buffer.alloc(3)]),
        code: 'INVALID_ARGUMENT',
        field: 'body',
      },
      {
        what: 'both data and binary_data_size',
        ...binaryBody(header([{ ...zBin, data: Array.from(zFlat) }, yBin]), [fp32Bytes(zFlat), int64Bytes(classes)]),
        code: 'INVALID_ARGUMENT',
        field: 'body.inputs.0.data',
      },
      {
        what: 'neither data nor binary_data_size',
        ...binaryBody(header([{ name: 'z', shape: [2, 16], datatype: 'FP32' }, yBin]), [int64Bytes(classes)]),
        code: 'INVALID_ARGUMENT',
        field: 'body.inputs.0.data',
      },
      {
        what: 'binary_data_size on a datatype the model does not take (FP64)',
        ...binaryBody(header([{ ...zBin, datatype: 'FP64', parameters: { binary_data_size: 256 } }, yBin]), [
          Buffer.alloc(256),
          int64Bytes(classes),
        ]),
        code: 'INVALID_ARGUMENT',
        field: 'body.inputs[0].datatype',
      },
      {
        what: 'BYTES tensors are not taken',
        ...binaryBody(header([zBin, { ...yBin, datatype: 'BYTES' }]), [fp32Bytes(zFlat), int64Bytes(classes)]),
        code: 'INVALID_ARGUMENT',
        field: 'body.inputs.1.datatype',
      },
      {
        what: 'a NaN latent',
        ...binaryBody(header([zBin, yBin]), [fp32Bytes(nanZ), int64Bytes(classes)]),
        code: 'INVALID_ARGUMENT',
        field: 'body.inputs[0]',
      },
      {
        what: 'a class past the last (INT64)',
        ...binaryBody(header([zBin, yBin]), [fp32Bytes(zFlat), int64Bytes([0, 2 ** 40])]),
        code: 'INVALID_ARGUMENT',
        field: 'body.inputs[1]',
      },
      {
        what: 'binary_data_size in a plain JSON body (no bytes after it)',
        body: Buffer.from(JSON.stringify(header([zBin, { name: 'y', shape: [2], datatype: 'INT64', data: classes }]))),
        headerLength: undefined,
        contentType: 'application/json',
        code: 'INVALID_ARGUMENT',
        field: 'body.inputs[0].parameters.binary_data_size',
      },
    ];
    for (const c of cases) {
      const res = await postBinary(c.body, c.headerLength, c.contentType ?? 'application/octet-stream');
      const error = answer(res);
      assert.equal(res.status, 400, `${c.what}: ${JSON.stringify(error)}`);
      assert.equal(typeof error.error, 'string', c.what);
      assert.equal(error.code, c.code, `${c.what}: ${JSON.stringify(error)}`);
      assert.equal(error.field, c.field, `${c.what}: ${JSON.stringify(error)}`);
    }
    const text = await request(server)
      .post('/v2/models/dogs/infer')
      .set('Content-Type', 'text/plain')
      .send('{}')
      .expect(415);
    assert.equal(text.body.code, 'UNSUPPORTED_MEDIA_TYPE');
    assert.deepEqual(text.body.allowed, ['application/json', 'application/octet-stream']);
    ok(await postBinary(good.body, good.headerLength));
  });

  test('MAX_INFER_RESPONSE_BYTES counts 4 bytes a binary value and 24 a JSON one; the body limit holds for binary bodies', async () => {
    // The image output is 768 values a row: 65,536 bytes hold 3 JSON rows (24 bytes a value), or 21 binary ones (4).
    const limited = await startTestServer(await makeModelsDir([{ name: 'dogs', classes: TINY_CLASSES }]), {
      maxInferResponseBytes: 65_536,
      bodyLimitBytes: 4096,
    });
    const { server: limitedServer, base: limitedBase } = await listenLocally(limited.app);
    try {
      const post = (n: number, binaryOutput: boolean) => {
        const { body, headerLength } = binaryBody(
          {
            parameters: { binary_data_output: binaryOutput },
            inputs: [
              { name: 'z', shape: [n, 16], datatype: 'FP32', parameters: { binary_data_size: n * 64 } },
              { name: 'y', shape: [n], datatype: 'INT64', parameters: { binary_data_size: n * 8 } },
            ],
            outputs: [{ name: 'image' }],
          },
          [fp32Bytes(new Float32Array(n * 16).fill(0.25)), int64Bytes(new Array(n).fill(0))],
        );
        return postBinary(body, headerLength, 'application/octet-stream', limitedBase);
      };
      const jsonRefused = answer(await post(4, false));
      assert.deepEqual([jsonRefused.field, jsonRefused.allowed], ['body.inputs[0].shape', '1..3 rows']);
      ok(await post(3, false));
      const binaryRows = parseBinaryResponse(ok(await post(21, true)));
      assert.equal(binaryRows.outputs[0].values.length, 21 * 768);
      const binaryRefused = answer(await post(22, true));
      assert.deepEqual([binaryRefused.field, binaryRefused.allowed], ['body.inputs[0].shape', '1..21 rows']);
      const tooLarge = await postBinary(Buffer.alloc(5000), 2, 'application/octet-stream', limitedBase);
      assert.equal(tooLarge.status, 413);
      assert.equal(answer(tooLarge).code, 'PAYLOAD_TOO_LARGE');
    } finally {
      limitedServer.close();
      await limited.close();
    }
  });
});
