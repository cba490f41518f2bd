/**
 * Image format limits (WebP 16,383 px per side, JPEG 65,500, PNG 2^31 - 1): an output a format cannot
 * hold is refused with 400 INVALID_ARGUMENT naming the limit before any inference runs, on every route
 * that makes images; the computed output dimensions are the ones the renderer really produces.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import request from 'supertest';
import sharp from 'sharp';
import { isServeError } from '../../src/errors.js';
import { checkFormatLimits, largestFittingSize, MAX_SIDE_BY_FORMAT } from '../../src/render/format-limits.js';
import { outputDimensions } from '../../src/render/output-dimensions.js';
import { RenderPool } from '../../src/render/render-pool.js';
import { renderRequest, type RenderModel, type RenderSpec } from '../../src/render/render-request.js';
import {
  histogramTotals,
  makeModelsDir,
  startTestServer,
  TINY_CLASSES,
  type TestServer,
} from '../helpers/test-server.js';

const S = 16;
const MODEL: RenderModel = {
  image: { output: 'image', size: S, range: [-1, 1] },
  attention: { output: 'attention', grid: [8, 8], key_grid: [4, 4] },
};
const FIVE_QUERIES = [
  { x: 1, y: 1 },
  { x: 3, y: 3 },
  { x: 5, y: 5 },
  { x: 7, y: 7 },
  { x: 9, y: 9 },
];

function spec(overrides: Partial<RenderSpec>): RenderSpec {
  return {
    format: 'png',
    size: S,
    resample: 'nearest',
    attention: 'none',
    queries: [],
    pngCompressionLevel: 1,
    ...overrides,
  };
}

function rows(n: number, withAttention: boolean): { image: Float32Array; attention: Float32Array | undefined } {
  const image = new Float32Array(n * 3 * S * S).map((_, i) => Math.sin(i));
  const attention = withAttention ? new Float32Array(64 * 16).fill(1 / 16) : undefined;
  return { image, attention };
}

describe('output dimensions', () => {
  test('match the images the renderer really produces: single, grids, strips, overlays, panels, upscaled', async () => {
    const cases: Array<[number, Partial<RenderSpec>]> = [
      [1, {}],
      [1, { size: 40 }],
      [5, {}],
      [5, { size: 37, format: 'jpeg' }],
      [7, { columns: 7, size: 33 }],
      [4, { columns: 4, size: 24, resample: 'lanczos3', format: 'webp' }],
      [1, { attention: 'overlay', queries: [{ x: 2, y: 3 }], size: 35 }],
      [1, { attention: 'panel', queries: FIVE_QUERIES }],
      [1, { attention: 'panel', queries: FIVE_QUERIES.slice(0, 2), size: 41 }],
    ];
    for (const [n, overrides] of cases) {
      const s = spec(overrides);
      const bytes = await renderRequest(MODEL, rows(n, s.attention !== 'none'), n, s);
      const meta = await sharp(bytes).metadata();
      assert.deepEqual(
        outputDimensions(MODEL, n, s),
        { width: meta.width, height: meta.height },
        JSON.stringify({ n, ...overrides }),
      );
    }
  });
});

describe('format limits', () => {
  test('the documented per-side limits', () => {
    assert.deepEqual(MAX_SIDE_BY_FORMAT, { png: 2 ** 31 - 1, jpeg: 65_500, webp: 16_383 });
  });

  test('the limit is each side, named with the size that would fit; the largest fitting size fits and one more does not', () => {
    const strip = (size: number, format: RenderSpec['format']) => spec({ columns: 16, size, format });
    assert.equal(outputDimensions(MODEL, 16, strip(1000, 'webp')).width, 17_875);
    const largest = largestFittingSize(MODEL, 16, strip(1000, 'webp'));
    assert.ok(largest !== undefined && largest >= S);
    assert.ok(outputDimensions(MODEL, 16, strip(largest, 'webp')).width <= 16_383);
    assert.ok(outputDimensions(MODEL, 16, strip(largest + 1, 'webp')).width > 16_383);
    assert.throws(
      () => checkFormatLimits(MODEL, 16, strip(1000, 'webp'), 'size'),
      (err: unknown) => {
        assert.ok(isServeError(err));
        assert.equal(err.code, 'INVALID_ARGUMENT');
        assert.equal(err.details.field, 'size');
        assert.match(err.message, /webp/);
        assert.match(err.message, /16383/);
        assert.match(err.message, /17875 x 1000/);
        assert.match(String(err.details.allowed), new RegExp(`size <= ${largest}`));
        return true;
      },
    );
    checkFormatLimits(MODEL, 16, strip(1000, 'png'), 'size');
    checkFormatLimits(MODEL, 16, strip(1000, 'jpeg'), 'size');
    // JPEG's limit, out of reach of the server's default caps but not of its settings.
    assert.throws(
      () =>
        checkFormatLimits(
          MODEL,
          1,
          spec({ attention: 'panel', queries: FIVE_QUERIES, size: 10_000, format: 'jpeg' }),
          'size',
        ),
      /65500/,
    );
    // Tall outputs count too: the limit is per side.
    assert.throws(() => checkFormatLimits(MODEL, 64, spec({ columns: 1, size: 300, format: 'webp' }), 'size'), /16383/);
  });
});

test('the render pool refuses an output its format cannot hold before it reaches a render thread', async () => {
  const pool = new RenderPool({ threads: 1 });
  try {
    await assert.rejects(
      pool.render(MODEL, rows(16, false), 16, spec({ columns: 16, size: 1000, format: 'webp' })),
      (err: unknown) => {
        assert.ok(isServeError(err) && err.code === 'INVALID_ARGUMENT', String(err));
        return true;
      },
    );
    const ok = await pool.render(MODEL, rows(2, false), 2, spec({ format: 'webp' }));
    assert.equal((await sharp(ok).metadata()).format, 'webp');
  } finally {
    await pool.close();
  }
});

describe('format limits over HTTP', () => {
  let ts: TestServer;
  let server: Server;

  before(async () => {
    ts = await startTestServer(await makeModelsDir([{ name: 'dogs', classes: TINY_CLASSES }]), {
      defaultModel: 'dogs',
      maxImageSize: 4096,
    });
    server = ts.app.listen(0, '127.0.0.1');
  });
  after(async () => {
    server.close();
    await ts.close();
  });

  const batches = async () => (await histogramTotals(ts.metrics, 'sagan_batch_size')).count;

  test("interpolate?steps=16&size=1000&format=webp: 400 naming WebP's limit, before inference", async () => {
    const before = await batches();
    const res = await request(server).get(
      '/v1/models/dogs/interpolate?class=0&from=1&to=2&steps=16&size=1000&format=webp',
    );
    assert.equal(res.status, 400, res.text);
    assert.equal(res.body.error.code, 'INVALID_ARGUMENT');
    assert.equal(res.body.error.field, 'size');
    assert.match(res.body.error.message, /16383/);
    assert.equal(await batches(), before, 'no inference ran');
  });

  test('generate: an attention panel too wide for WebP is 400 before inference (GET and POST); a grid that fits works', async () => {
    const before = await batches();
    const query = FIVE_QUERIES.map((q) => `query=${q.x},${q.y}`).join('&');
    const get = await request(server).get(`/generate?class=0&seed=1&attention=panel&${query}&size=4096&format=webp`);
    assert.equal(get.status, 400, get.text);
    assert.equal(get.body.error.field, 'size');
    assert.match(get.body.error.message, /16383/);
    const post = await request(server)
      .post('/v1/models/dogs/generate')
      .send({
        class: 0,
        seed: 1,
        attention: 'panel',
        query: FIVE_QUERIES.map((q) => `${q.x},${q.y}`),
        size: 4096,
        format: 'webp',
      });
    assert.equal(post.status, 400, post.text);
    assert.match(post.body.error.message, /16383/);
    assert.equal(await batches(), before, 'no inference ran');
    await request(server).get('/generate?class=0&seed=1&n=4&size=64&format=webp').expect(200);
  });
});
