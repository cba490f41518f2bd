/** The ONNX proto helpers: float16 conversion, tensors, attributes, describeModelIO on a hand-made graph. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSession, runSession } from '../src/ort-session.js';
import {
  attribute,
  describeModelIO,
  encodeModel,
  float16BitsToFloat32,
  float32ToFloat16Bits,
  floatTensor,
  int64Tensor,
  makeNode,
  tensorValues,
  valueInfo,
} from '../src/onnx-model.js';

test('float16 conversion: exact values, rounding, overflow, subnormals', () => {
  const cases: Array<[number, number]> = [
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [0.5, 0x3800],
    [65504, 0x7bff],
    [65520, 0x7c00],
    [1e6, 0x7c00],
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [2 ** -14, 0x0400],
    [2 ** -24, 0x0001],
    [2 ** -26, 0x0000],
    [0.1, 0x2e66],
    [1 + 2 ** -11, 0x3c00],
    [1 + 3 * 2 ** -11, 0x3c02],
  ];
  for (const [value, bits] of cases) assert.equal(float32ToFloat16Bits(value), bits, `${value}`);
  assert.ok(Number.isNaN(float16BitsToFloat32(float32ToFloat16Bits(Number.NaN))));
  for (const [value, bits] of cases) {
    if (
      Math.abs(value) <= 65504 &&
      value !== 2 ** -26 &&
      value !== 0.1 &&
      value !== 1 + 2 ** -11 &&
      value !== 1 + 3 * 2 ** -11
    ) {
      assert.equal(float16BitsToFloat32(bits), value);
    }
  }
  assert.equal(float16BitsToFloat32(0x2e66), 0.0999755859375);
  for (let bits = 0; bits < 0x7c00; bits += 37) assert.equal(float32ToFloat16Bits(float16BitsToFloat32(bits)), bits);
});

test('tensors round-trip and attributes get the right types', () => {
  assert.deepEqual(tensorValues(floatTensor('a', [2, 2], [1, 2.5, -3, 0.25])), [1, 2.5, -3, 0.25]);
  assert.deepEqual(tensorValues(floatTensor('h', [3], [1, 0.1, -2], 'float16')), [1, 0.0999755859375, -2]);
  assert.deepEqual(tensorValues(int64Tensor('s', [4], [0, -1, 4, 4])), [0, -1, 4, 4]);
  assert.throws(() => floatTensor('bad', [2, 3], [1, 2]), /need 6 values, got 2/);
  assert.equal(attribute('axis', 0).type, 2); // INT
  assert.equal(attribute('alpha', 0.5).type, 1); // FLOAT
  assert.equal(attribute('alpha', { float: 1 }).type, 1);
  assert.equal(attribute('perm', [0, 2, 1]).type, 7); // INTS
  assert.equal(attribute('mode', 'nearest').type, 3); // STRING
});

test('describeModelIO on a hand-made graph, and the graph runs', async () => {
  // out = x * w + 1 with x [n, 3] float32; idx [n] int64 (unused by the computation, passed through Gather).
  const bytes = encodeModel({
    graphName: 'hand',
    opset: 17,
    nodes: [
      makeNode('Mul', ['x', 'w'], ['xw']),
      makeNode('Add', ['xw', 'one'], ['out']),
      makeNode('Gather', ['table', 'idx'], ['picked'], { axis: 0 }),
    ],
    inputs: [valueInfo('x', 'float32', ['n', 3]), valueInfo('idx', 'int64', ['n'])],
    outputs: [valueInfo('out', 'float32', ['n', 3]), valueInfo('picked', 'float32', ['n', 2])],
    initializers: [
      floatTensor('w', [3], [1, 2, 3]),
      floatTensor('one', [1], [1]),
      floatTensor('table', [2, 2], [10, 11, 20, 21]),
    ],
    metadata: { hello: 'world' },
  });
  const io = describeModelIO(bytes);
  assert.deepEqual(io.inputs, [
    { name: 'x', type: 'float32', shape: ['n', 3] },
    { name: 'idx', type: 'int64', shape: ['n'] },
  ]);
  assert.deepEqual(io.outputs, [
    { name: 'out', type: 'float32', shape: ['n', 3] },
    { name: 'picked', type: 'float32', shape: ['n', 2] },
  ]);
  assert.equal(io.metadata.hello, 'world');
  assert.equal(io.irVersion, 8);
  const session = await loadSession(bytes, { providers: ['cpu'] });
  const r = await runSession(
    session,
    {
      x: { data: Float32Array.of(1, 1, 1, 2, 2, 2), dims: [2, 3] },
      idx: { data: BigInt64Array.of(1n, 0n), dims: [2] },
    },
    ['out', 'picked'],
  );
  assert.deepEqual([...r.outputs.out.data], [2, 3, 4, 3, 5, 7]);
  assert.deepEqual([...r.outputs.picked.data], [20, 21, 10, 11]);
});

test('describeModelIO leaves out initializers listed as graph inputs and reports unknown dims as -1', () => {
  const bytes = encodeModel({
    graphName: 'old-style',
    opset: 13,
    nodes: [makeNode('Add', ['x', 'b'], ['y'])],
    inputs: [valueInfo('x', 'float32', [2]), valueInfo('b', 'float32', [2])],
    outputs: [{ name: 'y', type: { tensorType: { elemType: 1, shape: { dim: [{}] } } } }],
    initializers: [floatTensor('b', [2], [1, 2])],
  });
  const io = describeModelIO(bytes);
  assert.deepEqual(io.inputs, [{ name: 'x', type: 'float32', shape: [2] }]);
  assert.deepEqual(io.outputs, [{ name: 'y', type: 'float32', shape: [-1] }]);
});
