/**
 * The SAGAN ONNX graph against an independent plain-TypeScript forward pass (straight loops in
 * float64, BN in its unfolded form), plus the graph contract: dims, softmax rows, tanh range, batch
 * independence, class conditioning, describeModelIO, and the paper-scale parameter / FLOP counts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSession, runSession, type LoadedSession } from '../src/ort-session.js';
import { describeModelIO, decodeModel } from '../src/onnx-model.js';
import {
  buildSaganGenerator,
  countParameters,
  estimateFlops,
  randomWeights,
  resolveConfig,
  validateWeights,
  weightShapes,
  type SaganGeneratorConfig,
  type SaganGeneratorWeights,
} from '../src/sagan-graph.js';

// ------------------------------------------------------------------------------------------------
// reference forward pass: one image at a time, NCHW, float64

interface Map3 {
  c: number;
  h: number;
  w: number;
  data: Float64Array;
}

function w(weights: SaganGeneratorWeights, name: string): Float32Array {
  const t = weights[name];
  if (!t) throw new Error(`reference: missing ${name}`);
  return t.data;
}

function conv2d(x: Map3, weight: Float32Array, bias: Float32Array | null, cout: number, k: number): Map3 {
  const pad = (k - 1) / 2;
  const out = new Float64Array(cout * x.h * x.w);
  for (let o = 0; o < cout; o++) {
    for (let i = 0; i < x.h; i++) {
      for (let j = 0; j < x.w; j++) {
        let acc = bias ? bias[o] : 0;
        for (let c = 0; c < x.c; c++) {
          for (let di = 0; di < k; di++) {
            const ii = i + di - pad;
            if (ii < 0 || ii >= x.h) continue;
            for (let dj = 0; dj < k; dj++) {
              const jj = j + dj - pad;
              if (jj < 0 || jj >= x.w) continue;
              acc += x.data[(c * x.h + ii) * x.w + jj] * weight[((o * x.c + c) * k + di) * k + dj];
            }
          }
        }
        out[(o * x.h + i) * x.w + j] = acc;
      }
    }
  }
  return { c: cout, h: x.h, w: x.w, data: out };
}

/** Inference BN, unfolded: (x - mean) / sqrt(var + eps) * gamma + beta, with gamma/beta rows for class `cls`. */
function batchNorm(
  x: Map3,
  gamma: Float32Array,
  beta: Float32Array,
  mean: Float32Array,
  variance: Float32Array,
  eps: number,
  cls: number,
): Map3 {
  const out = new Float64Array(x.data.length);
  const hw = x.h * x.w;
  for (let c = 0; c < x.c; c++) {
    const g = gamma[cls * x.c + c];
    const b = beta[cls * x.c + c];
    const sd = Math.sqrt(variance[c] + eps);
    for (let p = 0; p < hw; p++) out[c * hw + p] = ((x.data[c * hw + p] - mean[c]) / sd) * g + b;
  }
  return { ...x, data: out };
}

function relu(x: Map3): Map3 {
  return { ...x, data: x.data.map((v) => Math.max(0, v)) };
}

function upsample(x: Map3): Map3 {
  const h = x.h * 2;
  const wd = x.w * 2;
  const out = new Float64Array(x.c * h * wd);
  for (let c = 0; c < x.c; c++)
    for (let i = 0; i < h; i++)
      for (let j = 0; j < wd; j++) out[(c * h + i) * wd + j] = x.data[(c * x.h + (i >> 1)) * x.w + (j >> 1)];
  return { c: x.c, h, w: wd, data: out };
}

function maxpool(x: Map3): Map3 {
  const h = x.h / 2;
  const wd = x.w / 2;
  const out = new Float64Array(x.c * h * wd);
  for (let c = 0; c < x.c; c++) {
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < wd; j++) {
        let m = -Infinity;
        for (let a = 0; a < 2; a++)
          for (let b = 0; b < 2; b++) m = Math.max(m, x.data[(c * x.h + 2 * i + a) * x.w + 2 * j + b]);
        out[(c * h + i) * wd + j] = m;
      }
    }
  }
  return { c: x.c, h, w: wd, data: out };
}

function add(a: Map3, b: Map3): Map3 {
  return { ...a, data: a.data.map((v, i) => v + b.data[i]) };
}

function attentionLayer(
  x: Map3,
  weights: SaganGeneratorWeights,
  poolKeys: boolean,
): { out: Map3; attn: Float64Array; m: number } {
  const c8 = x.c / 8;
  const c2 = x.c / 2;
  const n = x.h * x.w;
  const theta = conv2d(x, w(weights, 'attention.theta.weight'), null, c8, 1);
  let phi = conv2d(x, w(weights, 'attention.phi.weight'), null, c8, 1);
  let g = conv2d(x, w(weights, 'attention.g.weight'), null, c2, 1);
  if (poolKeys) {
    phi = maxpool(phi);
    g = maxpool(g);
  }
  const m = phi.h * phi.w;
  const attn = new Float64Array(n * m);
  for (let q = 0; q < n; q++) {
    let max = -Infinity;
    for (let k = 0; k < m; k++) {
      let s = 0;
      for (let c = 0; c < c8; c++) s += theta.data[c * n + q] * phi.data[c * m + k];
      attn[q * m + k] = s;
      max = Math.max(max, s);
    }
    let sum = 0;
    for (let k = 0; k < m; k++) {
      attn[q * m + k] = Math.exp(attn[q * m + k] - max);
      sum += attn[q * m + k];
    }
    for (let k = 0; k < m; k++) attn[q * m + k] /= sum;
  }
  const o = new Float64Array(c2 * n);
  for (let c = 0; c < c2; c++) {
    for (let q = 0; q < n; q++) {
      let s = 0;
      for (let k = 0; k < m; k++) s += g.data[c * m + k] * attn[q * m + k];
      o[c * n + q] = s;
    }
  }
  const projected = conv2d({ c: c2, h: x.h, w: x.w, data: o }, w(weights, 'attention.o.weight'), null, x.c, 1);
  const gamma = w(weights, 'attention.gamma')[0];
  return { out: { ...x, data: x.data.map((v, i) => v + gamma * projected.data[i]) }, attn, m };
}

function referenceForward(
  config: SaganGeneratorConfig,
  weights: SaganGeneratorWeights,
  z: Float32Array,
  cls: number,
): { image: Float64Array; attn: Float64Array | null } {
  const c = resolveConfig(config);
  const eps = c.bnEpsilon;
  const chans = c.channelMultipliers.map((m) => m * c.width);
  const lw = w(weights, 'linear.weight');
  const lb = w(weights, 'linear.bias');
  const cols = 16 * chans[0];
  const h0 = new Float64Array(cols);
  for (let j = 0; j < cols; j++) {
    let s = lb[j];
    for (let k = 0; k < c.zDim; k++) s += z[k] * lw[k * cols + j];
    h0[j] = s;
  }
  let x: Map3 = { c: chans[0], h: 4, w: 4, data: h0 };
  let attn: Float64Array | null = null;
  for (let i = 0; i < chans.length - 1; i++) {
    const p = `blocks.${i}`;
    const cout = chans[i + 1];
    let h = relu(
      batchNorm(
        x,
        w(weights, `${p}.bn1.gamma`),
        w(weights, `${p}.bn1.beta`),
        w(weights, `${p}.bn1.mean`),
        w(weights, `${p}.bn1.var`),
        eps,
        cls,
      ),
    );
    h = conv2d(upsample(h), w(weights, `${p}.conv1.weight`), w(weights, `${p}.conv1.bias`), cout, 3);
    h = relu(
      batchNorm(
        h,
        w(weights, `${p}.bn2.gamma`),
        w(weights, `${p}.bn2.beta`),
        w(weights, `${p}.bn2.mean`),
        w(weights, `${p}.bn2.var`),
        eps,
        cls,
      ),
    );
    h = conv2d(h, w(weights, `${p}.conv2.weight`), w(weights, `${p}.conv2.bias`), cout, 3);
    const s = conv2d(upsample(x), w(weights, `${p}.shortcut.weight`), w(weights, `${p}.shortcut.bias`), cout, 1);
    x = add(h, s);
    if (config.attentionResolution === x.h) {
      const a = attentionLayer(x, weights, config.poolKeys);
      x = a.out;
      attn = a.attn;
    }
  }
  let h = relu(
    batchNorm(
      x,
      w(weights, 'out_bn.gamma'),
      w(weights, 'out_bn.beta'),
      w(weights, 'out_bn.mean'),
      w(weights, 'out_bn.var'),
      eps,
      0,
    ),
  );
  h = conv2d(h, w(weights, 'out_conv.weight'), w(weights, 'out_conv.bias'), 3, 3);
  return { image: h.data.map(Math.tanh), attn };
}

// ------------------------------------------------------------------------------------------------
// helpers

/** Small seeded normals for test latents (independent of the module's PRNG). */
function latents(count: number, seed: number): Float32Array {
  let s = seed * 2654435761 + 1;
  const uniform = (): number => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s + 0.5) / 2147483648;
  };
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  return out;
}

/** Random weights with non-trivial running statistics, so the BN folding is exercised too. */
function testWeights(config: SaganGeneratorConfig, seed: number): SaganGeneratorWeights {
  const weights = randomWeights(config, seed);
  const r = latents(1 << 16, seed + 99);
  let k = 0;
  for (const [name, t] of Object.entries(weights)) {
    if (name.endsWith('.mean')) t.data = t.data.map(() => 0.3 * r[k++ % r.length]);
    if (name.endsWith('.var')) t.data = t.data.map(() => 0.5 + Math.abs(r[k++ % r.length]));
  }
  return weights;
}

async function run(
  session: LoadedSession,
  config: SaganGeneratorConfig,
  z: Float32Array,
  classes: number[],
  withAttention = config.attentionResolution !== null,
) {
  const b = classes.length;
  const fetches = withAttention ? ['image', 'attention'] : ['image'];
  const result = await runSession(
    session,
    {
      z: { data: z, dims: [b, config.zDim] },
      y: { data: BigInt64Array.from(classes, (c) => BigInt(c)), dims: [b] },
    },
    fetches,
  );
  return result.outputs;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const tiny = (poolKeys: boolean): SaganGeneratorConfig => ({
  imageSize: 16,
  zDim: 12,
  width: 8,
  numClasses: 3,
  channelMultipliers: [2, 2, 1],
  attentionResolution: 8,
  poolKeys,
});

// ------------------------------------------------------------------------------------------------
// tests

for (const poolKeys of [true, false]) {
  test(`ONNX graph matches the reference forward pass (16x16, attention at 8, poolKeys ${poolKeys})`, async (t) => {
    const config = tiny(poolKeys);
    const weights = testWeights(config, 7);
    const session = await loadSession(buildSaganGenerator(config, weights), { providers: ['cpu'] });
    const classes = [0, 1, 2];
    const z = latents(classes.length * config.zDim, 3);
    const out = await run(session, config, z, classes);
    const n = 8 * 8;
    const m = poolKeys ? 16 : 64;
    assert.deepEqual(out.image.dims, [3, 3, 16, 16]);
    assert.deepEqual(out.attention.dims, [3, n, m]);
    let imageErr = 0;
    let attnErr = 0;
    classes.forEach((cls, b) => {
      const ref = referenceForward(config, weights, z.subarray(b * config.zDim, (b + 1) * config.zDim), cls);
      imageErr = Math.max(imageErr, maxAbsDiff(out.image.data.subarray(b * 3 * 256, (b + 1) * 3 * 256), ref.image));
      attnErr = Math.max(attnErr, maxAbsDiff(out.attention.data.subarray(b * n * m, (b + 1) * n * m), ref.attn!));
    });
    t.diagnostic(`max abs error: image ${imageErr.toExponential(2)}, attention ${attnErr.toExponential(2)}`);
    assert.ok(imageErr < 1e-4, `image max abs error ${imageErr}`);
    assert.ok(attnErr < 1e-4, `attention max abs error ${attnErr}`);
  });
}

test('ONNX graph matches the reference for the default 32x32 layout with attention at 16, and without attention', async (t) => {
  for (const attentionResolution of [16, null]) {
    const config: SaganGeneratorConfig = {
      imageSize: 32,
      zDim: 8,
      width: 4,
      numClasses: 2,
      attentionResolution,
      poolKeys: true,
    };
    assert.deepEqual(resolveConfig(config).channels, [16, 16, 16, 16]);
    const weights = testWeights(config, 11);
    const bytes = buildSaganGenerator(config, weights);
    const io = describeModelIO(bytes);
    assert.deepEqual(
      io.outputs.map((o) => o.name),
      attentionResolution ? ['image', 'attention'] : ['image'],
    );
    const session = await loadSession(bytes, { providers: ['cpu'] });
    const z = latents(2 * config.zDim, 5);
    const out = await run(session, config, z, [1, 0]);
    for (const [b, cls] of [
      [0, 1],
      [1, 0],
    ]) {
      const ref = referenceForward(config, weights, z.subarray(b * 8, b * 8 + 8), cls);
      const err = maxAbsDiff(out.image.data.subarray(b * 3072, (b + 1) * 3072), ref.image);
      t.diagnostic(`attention ${attentionResolution}, row ${b}: image max abs error ${err.toExponential(2)}`);
      assert.ok(err < 1e-4, `image max abs error ${err} (attention ${attentionResolution})`);
      if (attentionResolution) {
        const err2 = maxAbsDiff(out.attention.data.subarray(b * 256 * 64, (b + 1) * 256 * 64), ref.attn!);
        assert.ok(err2 < 1e-4, `attention max abs error ${err2}`);
      }
    }
  }
});

test('outputs: dims, softmax rows, tanh range, batch independence, class conditioning', async () => {
  const config = tiny(true);
  const weights = randomWeights(config, 1);
  const session = await loadSession(buildSaganGenerator(config, weights), { providers: ['cpu'] });
  const z = latents(4 * config.zDim, 9);
  const classes = [2, 0, 1, 2];
  const out = await run(session, config, z, classes);
  assert.deepEqual(out.image.dims, [4, 3, 16, 16]);
  assert.deepEqual(out.attention.dims, [4, 64, 16]);
  for (const v of out.image.data) assert.ok(v >= -1 && v <= 1, `image value ${v} outside [-1, 1]`);
  for (let row = 0; row < 4 * 64; row++) {
    let sum = 0;
    for (let k = 0; k < 16; k++) {
      const v = out.attention.data[row * 16 + k];
      assert.ok(v >= 0);
      sum += v;
    }
    assert.ok(Math.abs(sum - 1) < 1e-5, `attention row ${row} sums to ${sum}`);
  }
  // Row i of the batch equals a batch-1 run on the same z and y.
  for (let i = 0; i < 4; i++) {
    const single = await run(session, config, z.slice(i * 12, (i + 1) * 12), [classes[i]]);
    assert.ok(maxAbsDiff(single.image.data, out.image.data.subarray(i * 768, (i + 1) * 768)) < 1e-5, `image row ${i}`);
    assert.ok(
      maxAbsDiff(single.attention.data, out.attention.data.subarray(i * 1024, (i + 1) * 1024)) < 1e-5,
      `attention row ${i}`,
    );
  }
  // Same z, different classes -> different images.
  const zz = new Float32Array(3 * 12);
  for (let i = 0; i < 3; i++) zz.set(z.subarray(0, 12), i * 12);
  const byClass = await run(session, config, zz, [0, 1, 2]);
  for (const [a, b] of [
    [0, 1],
    [0, 2],
    [1, 2],
  ]) {
    const diff = maxAbsDiff(
      byClass.image.data.subarray(a * 768, (a + 1) * 768),
      byClass.image.data.subarray(b * 768, (b + 1) * 768),
    );
    assert.ok(diff > 1e-2, `classes ${a} and ${b} differ by only ${diff}`);
  }
  // Images are not saturated for random weights.
  let saturated = 0;
  for (const v of out.image.data) if (Math.abs(v) > 0.99) saturated++;
  assert.ok(saturated / out.image.data.length < 0.05, `saturated fraction ${saturated / out.image.data.length}`);
  // Larger batches work with no batch-specific shapes.
  const big = await run(
    session,
    config,
    latents(64 * 12, 4),
    Array.from({ length: 64 }, (_, i) => i % 3),
  );
  assert.deepEqual(big.image.dims, [64, 3, 16, 16]);
});

test('describeModelIO reports names, element types and dims (and agrees with ORT)', async () => {
  const config = tiny(true);
  const bytes = buildSaganGenerator(config, randomWeights(config, 0), { name: 'tiny' });
  const io = describeModelIO(bytes);
  assert.deepEqual(io.inputs, [
    { name: 'z', type: 'float32', shape: ['batch', 12] },
    { name: 'y', type: 'int64', shape: ['batch'] },
  ]);
  assert.deepEqual(io.outputs, [
    { name: 'image', type: 'float32', shape: ['batch', 3, 16, 16] },
    { name: 'attention', type: 'float32', shape: ['batch', 64, 16] },
  ]);
  assert.equal(io.opset, 17);
  assert.equal(JSON.parse(io.metadata['sagan.config']).attentionResolution, 8);
  assert.equal(decodeModel(bytes).graph?.name, 'tiny');
  const session = await loadSession(bytes, { providers: ['cpu'] });
  assert.deepEqual(session.inputs, io.inputs);
  assert.deepEqual(session.outputs, io.outputs);
  const unpooled = describeModelIO(buildSaganGenerator(tiny(false), randomWeights(tiny(false), 0)));
  assert.deepEqual(unpooled.outputs[1].shape, ['batch', 64, 64]);
});

test('other opsets and float16 weight storage', async (t) => {
  const config = tiny(true);
  const weights = randomWeights(config, 3);
  const z = latents(2 * 12, 1);
  const base = await run(
    await loadSession(buildSaganGenerator(config, weights), { providers: ['cpu'] }),
    config,
    z,
    [0, 2],
  );
  for (const opset of [13, 18, 21]) {
    const out = await run(
      await loadSession(buildSaganGenerator(config, weights, { opset }), { providers: ['cpu'] }),
      config,
      z,
      [0, 2],
    );
    assert.ok(maxAbsDiff(out.image.data, base.image.data) < 1e-5, `opset ${opset}`);
    assert.equal(describeModelIO(buildSaganGenerator(config, weights, { opset })).opset, opset);
  }
  const wide: SaganGeneratorConfig = { ...config, width: 32 };
  const wideWeights = randomWeights(wide, 3);
  const f32Size = buildSaganGenerator(wide, wideWeights).length;
  const f16Size = buildSaganGenerator(wide, wideWeights, { weightType: 'float16' }).length;
  assert.ok(f16Size < 0.55 * f32Size, `float16 file ${f16Size} vs float32 ${f32Size}`);
  const f16 = buildSaganGenerator(config, weights, { weightType: 'float16' });
  const half = await run(await loadSession(f16, { providers: ['cpu'] }), config, z, [0, 2]);
  const err = maxAbsDiff(half.image.data, base.image.data);
  t.diagnostic(`float16 weights: file ${f16Size} vs ${f32Size} bytes, image max abs change ${err.toExponential(2)}`);
  assert.ok(err < 2e-2, `float16 weights change the image by ${err}`);
  assert.deepEqual(
    describeModelIO(f16).inputs.map((i) => i.name),
    ['z', 'y'],
  );
});

test('paper-scale 128x128 config: ~18.4 GFLOPs and ~42.1M parameters per image', (t) => {
  const config: SaganGeneratorConfig = {
    imageSize: 128,
    zDim: 128,
    width: 64,
    numClasses: 1000,
    attentionResolution: 32,
    poolKeys: true,
  };
  const c = resolveConfig(config);
  assert.deepEqual(c.channels, [1024, 1024, 512, 256, 128, 64]);
  assert.equal(c.attentionChannels, 256);
  const flops = estimateFlops(config);
  const params = countParameters(config);
  t.diagnostic(`estimateFlops ${flops}, countParameters ${params}`);
  assert.ok(Math.abs(flops / 18.4e9 - 1) < 0.05, `flops ${flops}`);
  assert.ok(Math.abs(params / 42.1e6 - 1) < 0.1, `parameters ${params}`);
  const shapes = weightShapes(config);
  assert.deepEqual(shapes['linear.weight'], [128, 16 * 1024]);
  assert.deepEqual(shapes['blocks.1.conv1.weight'], [512, 1024, 3, 3]);
  assert.deepEqual(shapes['blocks.1.bn1.gamma'], [1000, 1024]);
  assert.deepEqual(shapes['attention.g.weight'], [128, 256, 1, 1]);
  assert.deepEqual(shapes['out_conv.weight'], [3, 64, 3, 3]);
  assert.deepEqual(resolveConfig({ ...config, imageSize: 64 }).channelMultipliers, [16, 8, 4, 2, 1]);
  assert.deepEqual(resolveConfig({ ...config, imageSize: 32 }).channelMultipliers, [4, 4, 4, 4]);
});

test('the 128x128 default layout builds and runs at a small width', async () => {
  const config: SaganGeneratorConfig = {
    imageSize: 128,
    zDim: 16,
    width: 2,
    numClasses: 5,
    attentionResolution: 32,
    poolKeys: true,
  };
  const weights = randomWeights(config, 2);
  assert.equal(countParameters(weights), countParameters(config));
  const out = await run(
    await loadSession(buildSaganGenerator(config, weights), { providers: ['cpu'] }),
    config,
    latents(2 * 16, 2),
    [4, 0],
  );
  assert.deepEqual(out.image.dims, [2, 3, 128, 128]);
  assert.deepEqual(out.attention.dims, [2, 1024, 256]);
});

test('weights and configs are checked', () => {
  const config = tiny(true);
  const weights = randomWeights(config, 0);
  assert.doesNotThrow(() => validateWeights(config, weights));
  const { ['attention.gamma']: _gamma, ...missing } = weights;
  assert.throws(() => buildSaganGenerator(config, missing), /missing 'attention.gamma'/);
  assert.throws(
    () => buildSaganGenerator(config, { ...weights, 'out_conv.bias': { shape: [4], data: new Float32Array(4) } }),
    /'out_conv.bias' has shape \[4\], expected \[3\]/,
  );
  assert.throws(
    () => buildSaganGenerator(config, { ...weights, extra: { shape: [1], data: new Float32Array(1) } }),
    /unexpected weight 'extra'/,
  );
  assert.throws(() => resolveConfig({ ...config, attentionResolution: 4 }), /attentionResolution/);
  assert.throws(() => resolveConfig({ ...config, width: 4, channelMultipliers: [1, 1, 1] }), /divisible by 8/);
  assert.throws(() => resolveConfig({ ...config, imageSize: 48 }), /power of 2/);
  assert.throws(() => resolveConfig({ ...config, channelMultipliers: [2, 2] }), /needs 3 entries/);
  // Deterministic by seed, different across seeds.
  assert.deepEqual(
    randomWeights(config, 5)['blocks.0.conv1.weight'].data,
    randomWeights(config, 5)['blocks.0.conv1.weight'].data,
  );
  assert.notDeepEqual(
    randomWeights(config, 5)['blocks.0.conv1.weight'].data,
    randomWeights(config, 6)['blocks.0.conv1.weight'].data,
  );
  assert.equal(randomWeights(config, 0)['attention.gamma'].data[0], 0.5);
});
