import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { RenderPool, defaultRenderThreads } from '../../src/render/render-pool.js';
import { renderRequest, type RenderModel, type RenderSpec } from '../../src/render/render-request.js';

const SIZE = 8;
const model: RenderModel = {
  image: { output: 'image', size: SIZE, range: [-1, 1] },
  attention: { output: 'attention', grid: [4, 4], key_grid: [2, 2] },
};

function rows(n: number, seed: number): { image: Float32Array; attention: Float32Array } {
  const image = new Float32Array(n * 3 * SIZE * SIZE);
  for (let i = 0; i < image.length; i++) image[i] = Math.sin(seed * 7.1 + i * 0.37);
  const attention = new Float32Array(n * 16 * 4);
  for (let q = 0; q < n * 16; q++)
    attention.set(
      [0.1, 0.2, 0.3, 0.4].map((v, k) => (q % 2 ? [0.4, 0.3, 0.2, 0.1][k] : v)),
      q * 4,
    );
  return { image, attention };
}

const spec = (over: Partial<RenderSpec> = {}): RenderSpec => ({
  format: 'png',
  size: SIZE,
  resample: 'nearest',
  attention: 'none',
  queries: [],
  pngCompressionLevel: 6,
  ...over,
});

test('the render threads give the same bytes as rendering in-thread, for images, grids and overlays', async () => {
  const pool = new RenderPool({ threads: 2 });
  try {
    const cases: Array<[number, RenderSpec]> = [
      [1, spec()],
      [4, spec({ format: 'webp', size: 16 })],
      [3, spec({ format: 'jpeg', columns: 3 })],
      [1, spec({ attention: 'overlay', queries: [{ x: 2, y: 3 }] })],
      [
        1,
        spec({
          attention: 'panel',
          queries: [
            { x: 1, y: 1 },
            { x: 6, y: 6 },
          ],
        }),
      ],
    ];
    const results = await Promise.all(cases.map(([n, s], i) => pool.render(model, rows(n, i), n, s)));
    for (const [i, [n, s]] of cases.entries()) {
      const expected = await renderRequest(model, rows(n, i), n, s);
      assert.ok(Buffer.isBuffer(results[i]));
      assert.ok(results[i].equals(expected), `case ${i} (${s.format}, n=${n}, attention ${s.attention}) differs`);
    }
  } finally {
    await pool.close();
  }
});

test('render() takes ownership of the rows: their buffers are moved to the render thread', async () => {
  const pool = new RenderPool({ threads: 1 });
  try {
    const input = rows(2, 1);
    const encoded = await pool.render(model, input, 2, spec({ attention: 'overlay', queries: [{ x: 1, y: 1 }] }));
    assert.equal(input.image.byteLength, 0, 'image buffer detached');
    assert.equal(input.attention.byteLength, 0, 'attention buffer detached');
    assert.deepEqual([...encoded.subarray(1, 4)].map((c) => String.fromCharCode(c)).join(''), 'PNG');
  } finally {
    await pool.close();
  }
});

test('a render that fails rejects its caller with the error, and the pool keeps serving', async () => {
  const pool = new RenderPool({ threads: 1 });
  try {
    await assert.rejects(
      pool.render(model, { image: new Float32Array(5), attention: undefined }, 1, spec()),
      /expected 3\*8\*8/,
    );
    const ok = await pool.render(model, rows(1, 3), 1, spec());
    assert.ok(ok.length > 0);
  } finally {
    await pool.close();
  }
});

test('default thread count: one per two cores, at least 1, at most 4', () => {
  assert.deepEqual(
    [1, 2, 3, 4, 8, 16, 64].map((c) => defaultRenderThreads(c)),
    [1, 1, 1, 2, 4, 4, 4],
  );
});

test(
  'render threads run at the lower priority they were given (Linux)',
  { skip: process.platform !== 'linux' && 'thread nice values are per thread only on Linux' },
  async () => {
    const niceOf = (tid: string) =>
      Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ')[16]);
    const { readdirSync } = await import('node:fs');
    const before = new Set(readdirSync('/proc/self/task'));
    const pool = new RenderPool({ threads: 2, threadNice: 7 });
    try {
      // Enough work at once that both threads have started and rendered.
      await Promise.all(Array.from({ length: 32 }, (_, i) => pool.render(model, rows(1, i), 1, spec())));
      const added = readdirSync('/proc/self/task').filter((t) => !before.has(t));
      const niced = added.filter((t) => niceOf(t) === 7);
      assert.ok(
        niced.length >= 2,
        `expected both render threads at nice 7; new threads' nice: ${added.map(niceOf).join(',')}`,
      );
      assert.equal(niceOf(String(process.pid)), 0, 'the main thread keeps its priority');
    } finally {
      await pool.close();
    }
  },
);
