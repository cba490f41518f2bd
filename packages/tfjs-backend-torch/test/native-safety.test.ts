/**
 * The addon's entry points called directly, as a careless caller could: thread counts out of range, C++
 * exceptions of every kind, arguments of the wrong type, and outputs (or raw-read inputs) of the wrong
 * shape. Each must give a JavaScript error naming the entry point, never end the process and never
 * write outside the memory it was given. Calls that ended the process before they were guarded run in
 * a child process, so that a regression fails its test instead of taking the test run down.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { loadNative, MAX_THREADS } from '../src/index.js';
import type { NativeAddon } from '../src/native.js';
import { torchOrSkip, values } from './helpers.js';

const skip = torchOrSkip();
const native = (): NativeAddon => loadNative();
const INDEX_URL = new URL('../src/index.js', import.meta.url).href;

/** Runs an ES module body in a fresh Node with `native` (the addon) in scope; its stdout parsed as JSON. */
function inChild(body: string): {
  status: number | null;
  signal: NodeJS.Signals | null;
  result: unknown;
  stderr: string;
} {
  const source = `import { loadNative, registerTorchBackend } from ${JSON.stringify(INDEX_URL)};\nconst native = loadNative();\n${body}`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', source], { encoding: 'utf8', timeout: 60_000 });
  let result: unknown;
  try {
    result = JSON.parse(r.stdout);
  } catch {
    result = undefined;
  }
  return { status: r.status, signal: r.signal, result, stderr: r.stderr };
}

/** What a call threw, as plain data ('returned' when it did not throw). */
const OUTCOME = `const outcome = (f) => { try { f(); return 'returned'; } catch (e) { return e instanceof Error ? e.constructor.name + ': ' + e.message : 'non-Error ' + String(e); } };`;

function assertSurvived(r: ReturnType<typeof inChild>): void {
  assert.equal(r.signal, null, `the child process was killed by ${r.signal}; stderr: ${r.stderr.slice(-2000)}`);
  assert.equal(r.status, 0, `the child process exited ${r.status}; stderr: ${r.stderr.slice(-2000)}`);
}

test('setNumThreads refuses counts outside 1..MAX_THREADS with a RangeError, and the process goes on', { skip }, () => {
  const bad = ['0', '-1', '1.5', 'NaN', 'Infinity', '2 ** 31', '2 ** 32', String(MAX_THREADS + 1), '"2"', 'undefined'];
  const r = inChild(`${OUTCOME}
    const refused = Object.fromEntries([${bad.map((b) => JSON.stringify(b)).join(', ')}].map((b) => [b, outcome(() => native.setNumThreads(eval(b)))]));
    const accepted = outcome(() => native.setNumThreads(3));
    const viaBackend = outcome(() => registerTorchBackend({ threads: 2 ** 32 }));
    console.log(JSON.stringify({ refused, accepted, threads: native.info().threads, maxThreads: native.info().maxThreads, viaBackend }));`);
  assertSurvived(r);
  const { refused, accepted, threads, maxThreads, viaBackend } = r.result as {
    refused: Record<string, string>;
    accepted: string;
    threads: number;
    maxThreads: number;
    viaBackend: string;
  };
  for (const b of bad) {
    assert.match(
      refused[b],
      new RegExp(
        `^RangeError: torch backend, native setNumThreads: threads must be an integer from 1 to ${MAX_THREADS} \\(got `,
      ),
      `setNumThreads(${b})`,
    );
  }
  assert.equal(accepted, 'returned');
  assert.equal(threads, 3, 'a refused count leaves the last accepted one in force');
  assert.equal(maxThreads, MAX_THREADS, 'the addon and the package agree on the bound');
  assert.match(
    viaBackend,
    new RegExp(`^RangeError: torch backend: threads must be an integer from 1 to ${MAX_THREADS} \\(got 4294967296\\)`),
  );
});

test(
  'c10::Error, std::exception and any other C++ exception become JavaScript errors naming the entry point',
  { skip },
  () => {
    const r = inChild(`${OUTCOME}
    console.log(JSON.stringify(['c10', 'std', 'other'].map((kind) => outcome(() => native._throwForTest(kind)))));`);
    assertSurvived(r);
    assert.deepEqual(r.result, [
      'Error: torch backend, native _throwForTest: a c10::Error for the test',
      'Error: torch backend, native _throwForTest: a std::runtime_error for the test',
      'Error: torch backend, native _throwForTest: unknown C++ exception',
    ]);
  },
);

test('every entry point turns missing and wrongly typed arguments into an error naming it', { skip }, () => {
  // Each function with no arguments, with strings, with a typed array and a non-array shape, and with
  // a shape that is not a list of non-negative integers (fractions used to be truncated silently).
  const r = inChild(`${OUTCOME}
    const calls = {
      none: [],
      strings: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'],
      shapeNotArray: [new Float32Array(4), 4, new Float32Array(4), 4],
      fractionalShape: [new Float32Array(4), [1.5, 2], new Float32Array(4), [1.5, 2], new Float32Array(4), [1.5, 2], 1, 1],
      negativeShape: [new Float32Array(4), [-2, -2], new Float32Array(4), [-2, -2], new Float32Array(4), [-2, -2], 1, 1],
      overflowingShape: [new Float32Array(4), [2 ** 32, 2 ** 32], new Float32Array(4), [2 ** 32, 2 ** 32], new Float32Array(4), [2 ** 32, 2 ** 32], 1, 1],
    };
    const out = {};
    for (const [name, f] of Object.entries(native)) {
      if (typeof f !== 'function' || name === 'info' || name === 'keepFreedMemory') continue;
      out[name] = Object.fromEntries(Object.entries(calls).map(([label, args]) => [label, outcome(() => f(...args))]));
    }
    console.log(JSON.stringify(out));`);
  assertSurvived(r);
  const results = r.result as Record<string, Record<string, string>>;
  assert.ok(Object.keys(results).length > 80, `entry points found: ${Object.keys(results).length}`);
  for (const [name, outcomes] of Object.entries(results)) {
    for (const [label, outcome] of Object.entries(outcomes)) {
      assert.match(
        outcome,
        new RegExp(`^(Range)?Error: torch backend, native ${name}: `),
        `${name} with ${label} arguments`,
      );
    }
  }
  assert.match(results.Fill.fractionalShape, /must be an integer \(got 1\.5/);
  assert.match(results.Fill.negativeShape, /must be >= 0 \(got -2\)/);
  assert.match(results.Fill.overflowingShape, /smaller than its shape/);
});

test('kernels that take named arguments name the field that is missing or of the wrong type', { skip }, () => {
  const vector = () => ({ values: new Float32Array(4), shape: [4] });
  const args = {
    theta: vector(),
    v: vector(),
    g: vector(),
    thetaOut: vector(),
    vOut: vector(),
    lrT: 1e-3,
    beta1: 0,
    beta2: 0.9,
    eps: 1e-8,
  };
  const adam = entryPoint('FusedAdam');
  adam(args);
  const refused = (fields: object, message: RegExp) =>
    assert.throws(() => adam({ ...args, ...fields }), message, JSON.stringify(fields));
  refused({ g: undefined }, /^Error: torch backend, native FusedAdam: 'g' must be a tensor \{ values, shape \}$/);
  refused(
    { g: { values: [0, 0, 0, 0], shape: [4] } },
    /^Error: torch backend, native FusedAdam: 'g': expected a typed array$/,
  );
  refused(
    { g: { values: new Float32Array(4), shape: [1.5] } },
    /^Error: torch backend, native FusedAdam: 'g': a shape's dimension must be an integer \(got 1\.5/,
  );
  refused({ lrT: '0.1' }, /^Error: torch backend, native FusedAdam: 'lrT' must be a number$/);
  refused({ m: vector() }, /^Error: torch backend, native FusedAdam: .*m and its output come together/);
  assert.throws(
    () => adam(new Float32Array(4)),
    /^Error: torch backend, native FusedAdam: expected an object of named arguments$/,
  );
  const x = { values: new Float32Array(8), shape: [1, 2, 2, 2] };
  const rows = { values: new Float32Array(2), shape: [1, 2] };
  const channels = () => ({ values: new Float32Array(2), shape: [2] });
  assert.throws(
    () =>
      entryPoint('ConditionalBatchNorm')({
        x,
        gain: rows,
        bias: rows,
        y: { ...x, values: new Float32Array(8) },
        mean: channels(),
        variance: channels(),
        rstd: channels(),
        epsilon: 1e-5,
        relu: 1,
      }),
    /^Error: torch backend, native ConditionalBatchNorm: 'relu' must be a boolean$/,
  );
});

test('info and keepFreedMemory take no arguments and answer', { skip }, () => {
  assert.equal(typeof native().info().torchVersion, 'string');
  assert.equal(typeof native().keepFreedMemory(), 'boolean');
});

// --- output shapes -------------------------------------------------------------------------------

type Dtype = 'float32' | 'int32' | 'bool';
/** A tensor argument: its dtype, shape and (for inputs) values. */
interface Arg {
  dtype: Dtype;
  shape: number[];
  values?: ArrayLike<number>;
}
/** The one object argument of a kernel that takes its arguments by name; each Arg field becomes { values, shape }. */
interface Named {
  named: Record<string, unknown>;
}
/** An argument's position, or the name of a field of a Named argument. */
type ArgRef = number | string;
/**
 * One call of a kernel: `args` lists the call's arguments, tensors as Arg (each becomes the pair typed
 * array, shape), tensor lists as Arg[], named arguments as Named, anything else as is. `outputs` and
 * `rawInputs` name the Arg arguments that the kernel writes and that it reads through raw pointers.
 */
interface Case {
  args: unknown[];
  outputs: ArgRef[];
  rawInputs?: ArgRef[];
  /** the dimension to change (default: the first of more than one element) */ dim?: number;
}

const f32 = (shape: number[], seed = 1): Arg => ({
  dtype: 'float32',
  shape,
  values: values(
    shape.reduce((a, b) => a * b, 1),
    seed,
  ),
});
const pos = (shape: number[], seed = 1): Arg => ({
  ...f32(shape, seed),
  values: Float32Array.from(
    values(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    (v) => Math.abs(v) + 0.1,
  ),
});
const bool = (shape: number[]): Arg => ({
  dtype: 'bool',
  shape,
  values: Uint8Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i % 2),
});
const int = (shape: number[], vals: number[]): Arg => ({ dtype: 'int32', shape, values: vals });
const out = (shape: number[], dtype: Dtype = 'float32'): Arg => ({ dtype, shape });
const isArg = (a: unknown): a is Arg => typeof a === 'object' && a !== null && 'dtype' in a && 'shape' in a;
const isNamed = (a: unknown): a is Named => typeof a === 'object' && a !== null && 'named' in a;

const BINARY = [
  'Add',
  'Sub',
  'Multiply',
  'RealDiv',
  'FloorDiv',
  'Mod',
  'Maximum',
  'Minimum',
  'Pow',
  'Atan2',
  'SquaredDifference',
  'Prelu',
];
const COMPARISONS = [
  'Less',
  'LessEqual',
  'Greater',
  'GreaterEqual',
  'Equal',
  'NotEqual',
  'LogicalAnd',
  'LogicalOr',
  'LogicalXor',
];
const UNARY = [
  'Abs',
  'Acos',
  'Asin',
  'Atan',
  'Ceil',
  'Cos',
  'Cosh',
  'Elu',
  'Erf',
  'Exp',
  'Expm1',
  'Floor',
  'Log',
  'Log1p',
  'Neg',
  'Reciprocal',
  'Relu',
  'Relu6',
  'Round',
  'Rsqrt',
  'Selu',
  'Sigmoid',
  'Sign',
  'Sin',
  'Sinh',
  'Softplus',
  'Sqrt',
  'Square',
  'Tan',
  'Tanh',
];
const PREDICATES = ['IsNan', 'IsInf', 'LogicalNot'];
const conv = [
  [1, 1],
  [1, 1],
  [1, 1, 1, 1],
];
const pool = [
  [2, 2],
  [2, 2],
  [0, 0],
];

/** Keyed by the typed interface's names, so that a case for a function the interface lacks does not compile. */
const CASES: Partial<Record<keyof NativeAddon, Case>> = {
  ...Object.fromEntries(BINARY.map((k) => [k, { args: [pos([2, 3], 1), pos([3], 2), out([2, 3])], outputs: [2] }])),
  ...Object.fromEntries(
    COMPARISONS.map((k) => [k, { args: [f32([2, 3], 1), f32([3], 2), out([2, 3], 'bool')], outputs: [2] }]),
  ),
  ...Object.fromEntries(UNARY.map((k) => [k, { args: [pos([2, 3]), out([2, 3])], outputs: [1] }])),
  ...Object.fromEntries(PREDICATES.map((k) => [k, { args: [f32([2, 3]), out([2, 3], 'bool')], outputs: [1] }])),
  Cast: { args: [f32([2, 3]), out([2, 3], 'int32')], outputs: [1] },
  Step: { args: [f32([2, 3]), out([2, 3]), 0], outputs: [1] },
  LeakyRelu: { args: [f32([2, 3]), out([2, 3]), 0.2], outputs: [1] },
  ClipByValue: { args: [f32([2, 3]), out([2, 3]), -0.5, 0.5], outputs: [1] },
  Select: { args: [bool([2, 3]), f32([2, 3], 1), f32([2, 3], 2), out([2, 3])], outputs: [3] },
  AddN: { args: [[f32([2, 3], 1), f32([2, 3], 2)], out([2, 3])], outputs: [1] },
  ...Object.fromEntries(
    ['Sum', 'Mean', 'Max', 'Min', 'Prod'].map((k) => [k, { args: [f32([2, 3, 4]), out([2, 4]), [1]], outputs: [1] }]),
  ),
  ...Object.fromEntries(
    ['All', 'Any'].map((k) => [k, { args: [bool([2, 3, 4]), out([2, 4], 'bool'), [1]], outputs: [1] }]),
  ),
  ...Object.fromEntries(
    ['ArgMax', 'ArgMin'].map((k) => [k, { args: [f32([2, 3, 4]), out([2, 4], 'int32'), 1], outputs: [1] }]),
  ),
  BatchMatMul: { args: [f32([2, 3, 4], 1), f32([2, 4, 5], 2), out([2, 3, 5]), false, false], outputs: [2] },
  _FusedMatMul: {
    args: [f32([3, 4], 1), f32([4, 5], 2), f32([5], 3), null, null, out([3, 5]), false, false, 'relu', 0.2],
    outputs: [5],
  },
  FusedConv2D: {
    args: [
      f32([1, 5, 5, 2], 1),
      f32([3, 3, 2, 4], 2),
      null,
      null,
      null,
      null,
      out([1, 5, 5, 4]),
      ...conv,
      'linear',
      0.2,
    ],
    outputs: [6],
  },
  Conv2DBackpropInput: { args: [f32([1, 5, 5, 4], 1), f32([3, 3, 2, 4], 2), out([1, 5, 5, 2]), ...conv], outputs: [2] },
  Conv2DBackpropFilter: {
    args: [f32([1, 5, 5, 2], 1), f32([1, 5, 5, 4], 2), out([3, 3, 2, 4]), ...conv],
    outputs: [2],
  },
  AvgPool: { args: [f32([1, 4, 4, 2]), out([1, 2, 2, 2]), ...pool], outputs: [1] },
  MaxPool: { args: [f32([1, 4, 4, 2]), out([1, 2, 2, 2]), ...pool], outputs: [1] },
  AvgPoolGrad: { args: [f32([1, 2, 2, 2], 1), f32([1, 4, 4, 2], 2), out([1, 4, 4, 2]), ...pool], outputs: [2] },
  MaxPoolGrad: { args: [f32([1, 2, 2, 2], 1), f32([1, 4, 4, 2], 2), out([1, 4, 4, 2]), ...pool], outputs: [2] },
  Softmax: { args: [f32([2, 5]), out([2, 5]), 1], outputs: [1] },
  SoftmaxGrad: { args: [f32([2, 5], 1), f32([2, 5], 2), out([2, 5]), 1], outputs: [2] },
  ReluGrad: { args: [f32([2, 5], 1), f32([2, 5], 2), out([2, 5])], outputs: [2] },
  Concat: { args: [[f32([2, 3], 1), f32([2, 2], 2)], out([2, 5]), 1], outputs: [1] },
  GatherV2: { args: [f32([4, 3]), int([2], [3, 0]), out([2, 3]), 0], outputs: [2] },
  Transpose: { args: [f32([2, 3, 4]), out([4, 2, 3]), [2, 0, 1]], outputs: [1] },
  // The output's shape is the slice's size (any size within x is a valid slice); narrow() bounds it.
  Slice: { args: [f32([4, 5]), out([2, 3]), [1, 1]], outputs: [] },
  PadV2: { args: [f32([2, 3]), out([4, 4]), [1, 1, 0, 1], 0], outputs: [1] },
  Tile: { args: [f32([2, 3]), out([4, 3]), [2, 1]], outputs: [1] },
  // Its height and width are the requested size; its channels must be x's.
  ResizeNearestNeighbor: { args: [f32([1, 2, 2, 3]), out([1, 4, 4, 3])], outputs: [1], dim: 3 },
  // Fill writes the shape it is given and reads nothing: no other shape to check it against.
  Fill: { args: [out([2, 3]), 7], outputs: [] },
  SoftmaxAttention: {
    args: [
      {
        named: {
          query: f32([2, 4, 2], 1),
          key: f32([2, 3, 2], 2),
          value: f32([2, 3, 5], 3),
          out: out([2, 4, 5]),
          weights: out([2, 4, 3]),
        },
      },
    ],
    outputs: ['out', 'weights'],
  },
  SoftmaxAttentionGrad: {
    args: [
      {
        named: {
          dOut: f32([2, 4, 5], 1),
          weights: pos([2, 4, 3], 2),
          query: f32([2, 4, 2], 3),
          key: f32([2, 3, 2], 4),
          value: f32([2, 3, 5], 5),
          dQuery: out([2, 4, 2]),
          dKey: out([2, 3, 2]),
          dValue: out([2, 3, 5]),
        },
      },
    ],
    outputs: ['dQuery', 'dKey', 'dValue'],
    rawInputs: ['dOut', 'weights'],
  },
  ConditionalBatchNorm: {
    args: [
      {
        named: {
          x: f32([2, 3, 3, 4], 1),
          gain: f32([2, 4], 2),
          bias: f32([2, 4], 3),
          y: out([2, 3, 3, 4]),
          mean: out([4]),
          variance: out([4]),
          rstd: out([4]),
          epsilon: 1e-5,
          relu: true,
        },
      },
    ],
    outputs: ['y', 'mean', 'variance', 'rstd'],
  },
  ConditionalBatchNormGrad: {
    args: [
      {
        named: {
          dy: f32([2, 3, 3, 4], 1),
          x: f32([2, 3, 3, 4], 2),
          y: f32([2, 3, 3, 4], 3),
          mean: f32([4], 4),
          rstd: pos([4], 5),
          gain: f32([2, 4], 6),
          dx: out([2, 3, 3, 4]),
          sumG: out([2, 4]),
          sumGXhat: out([2, 4]),
          relu: true,
        },
      },
    ],
    outputs: ['dx', 'sumG', 'sumGXhat'],
    rawInputs: ['dy', 'y', 'mean', 'rstd', 'gain'],
  },
  FusedAdam: {
    args: [
      {
        named: {
          theta: f32([10], 1),
          m: f32([10], 2),
          v: pos([10], 3),
          g: f32([10], 4),
          thetaOut: out([10]),
          mOut: out([10]),
          vOut: out([10]),
          lrT: 1e-3,
          beta1: 0.5,
          beta2: 0.9,
          eps: 1e-8,
        },
      },
    ],
    outputs: ['thetaOut', 'mOut', 'vOut'],
    rawInputs: ['m', 'v', 'g'],
  },
};

const GUARD = 256;
const SENTINEL: Record<Dtype, number> = { float32: 12345.5, int32: 0x5a5a5a5a, bool: 0xa5 };
const ARRAY: Record<Dtype, Float32ArrayConstructor | Int32ArrayConstructor | Uint8ArrayConstructor> = {
  float32: Float32Array,
  int32: Int32Array,
  bool: Uint8Array,
};

/**
 * The call's arguments, each tensor a view of the first elements of a larger buffer whose remainder is
 * a sentinel: a write past a tensor's end changes the sentinel, a read past it reads the sentinel.
 */
function materialise(c: Case): {
  args: unknown[];
  guards: { index: ArgRef; data: ArrayLike<number>; from: number; dtype: Dtype }[];
} {
  const guards: { index: ArgRef; data: ArrayLike<number>; from: number; dtype: Dtype }[] = [];
  const tensor = (a: Arg, index: ArgRef): [ArrayLike<number>, number[]] => {
    const n = a.shape.reduce((x, y) => x * y, 1);
    const whole = new ARRAY[a.dtype](n + GUARD).fill(SENTINEL[a.dtype]);
    if (a.values) whole.set(Array.from(a.values).slice(0, n));
    guards.push({ index, data: whole, from: n, dtype: a.dtype });
    return [whole.subarray(0, n), a.shape];
  };
  const named = (fields: Named['named']) =>
    Object.fromEntries(
      Object.entries(fields).map(([name, f]) => {
        if (!isArg(f)) return [name, f];
        const [values, shape] = tensor(f, name);
        return [name, { values, shape }];
      }),
    );
  const args = c.args.flatMap((a, i) =>
    isArg(a)
      ? tensor(a, i)
      : isNamed(a)
        ? [named(a.named)]
        : Array.isArray(a) && a.every(isArg)
          ? [a.flatMap((t) => tensor(t, i))]
          : [a],
  );
  return { args, guards };
}

function untouched(guards: ReturnType<typeof materialise>['guards']): void {
  for (const g of guards) {
    for (let i = g.from; i < g.data.length; i++) {
      if (g.data[i] !== SENTINEL[g.dtype])
        assert.fail(`argument ${g.index}: element ${i - g.from} past its end was written`);
    }
  }
}

/** The shape with dimension `dim` (default: its first of more than one element) changed by `delta`. */
function resized(shape: number[], delta: number, dim?: number): number[] {
  const d =
    dim ??
    Math.max(
      0,
      shape.findIndex((s) => s > 1),
    );
  return shape.map((s, i) => (i === d ? s + delta : s));
}

/** The Arg an ArgRef names. */
function argAt(c: Case, ref: ArgRef): Arg {
  if (typeof ref === 'number') return c.args[ref] as Arg;
  const fields = c.args.find(isNamed)?.named;
  return fields?.[ref] as Arg;
}

function withShape(c: Case, ref: ArgRef, shape: number[]): Case {
  const a = argAt(c, ref);
  if (typeof ref === 'number') return { ...c, args: c.args.map((x, i) => (i === ref ? { ...a, shape } : x)) };
  return { ...c, args: c.args.map((x) => (isNamed(x) ? { named: { ...x.named, [ref]: { ...a, shape } } } : x)) };
}

/** An export of the addon looked up by name, called as an untyped caller would. */
function entryPoint(name: string): (...args: unknown[]) => void {
  const f: unknown = Reflect.get(native(), name);
  assert.equal(typeof f, 'function', `the addon exports ${name}`);
  return f as (...args: unknown[]) => void;
}

test(
  'the shape table covers every kernel the addon exports, and the addon exports every kernel of the table (and of NativeAddon)',
  { skip },
  () => {
    const exported = Object.entries(native())
      .filter(
        ([name, f]) =>
          typeof f === 'function' && !['setNumThreads', 'info', 'keepFreedMemory', '_throwForTest'].includes(name),
      )
      .map(([name]) => name);
    assert.deepEqual(exported.filter((name) => !(name in CASES)).sort(), [], 'kernels without a case here: add one');
    assert.deepEqual(
      Object.keys(CASES)
        .filter((name) => !exported.includes(name))
        .sort(),
      [],
      'cases for kernels the addon does not export',
    );
  },
);

for (const [name, c] of Object.entries(CASES)) {
  const title = c.outputs.length
    ? `${name} checks the shapes of what it writes${c.rawInputs ? ' and reads' : ''} before touching memory`
    : `${name} writes only the memory it is given`;
  test(title, { skip }, () => {
    const kernel = entryPoint(name);
    const valid = materialise(c);
    kernel(...valid.args);
    untouched(valid.guards);
    const mismatched = [
      ...c.outputs.map((i) => ({ i, what: 'output' })),
      ...(c.rawInputs ?? []).map((i) => ({ i, what: 'input' })),
    ];
    for (const { i, what } of mismatched) {
      const shape = argAt(c, i).shape;
      for (const delta of [-1, 1]) {
        const changed = resized(shape, delta, c.dim);
        const wrong = materialise(withShape(c, i, changed));
        assert.throws(
          () => kernel(...wrong.args),
          new RegExp(`^Error: torch backend, native ${name}: `),
          `${what} ${i} of shape [${changed}] instead of [${shape}]`,
        );
        untouched(wrong.guards);
      }
    }
  });
}
