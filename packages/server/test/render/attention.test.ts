import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  QUERY_PALETTE,
  QUERY_PALETTE_RGB,
  attentionRow,
  dotRadius,
  heatmapRgb,
  overlay,
  panel,
  type Query,
} from '../../src/render/attention.js';
import { colormap, colormapLut } from '../../src/render/colormap.js';
import { ServeError } from '../../src/errors.js';

// ---- independent reference implementation (written from the documented formulas) ----

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random attention [Q, K] with rows summing to 1 (softmax of random logits). */
function randomAttention(Q: number, K: number, seed: number): Float32Array {
  const r = rng(seed);
  const a = new Float32Array(Q * K);
  for (let q = 0; q < Q; q++) {
    let sum = 0;
    const e: number[] = [];
    for (let k = 0; k < K; k++) {
      e.push(Math.exp(4 * r()));
      sum += e[k];
    }
    for (let k = 0; k < K; k++) a[q * K + k] = e[k] / sum;
  }
  return a;
}

function randomImage(S: number, seed: number): Buffer {
  const r = rng(seed);
  const b = Buffer.alloc(S * S * 3);
  for (let i = 0; i < b.length; i++) b[i] = Math.floor(r() * 256);
  return b;
}

/** Expected normalised heat at output pixel (X, Y) of an N x N map, straight from the tensor. */
function refHeat(
  att: Float32Array,
  grid: [number, number],
  keyGrid: [number, number],
  S: number,
  q: Query,
  N: number,
  X: number,
  Y: number,
): number {
  const [gh, gw] = grid;
  const [kh, kw] = keyGrid;
  const qi = Math.floor((q.y * gh) / S) * gw + Math.floor((q.x * gw) / S);
  const K = kh * kw;
  const row = Array.from(att.slice(qi * K, qi * K + K));
  const max = Math.max(...row);
  const m = (ky: number, kx: number) => row[ky * kw + kx] / max;
  // PyTorch-style bilinear, align_corners = False
  const src = (o: number, n: number) => Math.max(0, (o + 0.5) * (n / N) - 0.5);
  const sx = src(X, kw);
  const sy = src(Y, kh);
  const x0 = Math.min(Math.floor(sx), kw - 1);
  const y0 = Math.min(Math.floor(sy), kh - 1);
  const x1 = x0 < kw - 1 ? x0 + 1 : x0;
  const y1 = y0 < kh - 1 ? y0 + 1 : y0;
  const lx = sx - x0;
  const ly = sy - y0;
  return (1 - ly) * (1 - lx) * m(y0, x0) + (1 - ly) * lx * m(y0, x1) + ly * (1 - lx) * m(y1, x0) + ly * lx * m(y1, x1);
}

function px(buf: Buffer, width: number, x: number, y: number): number[] {
  const o = (y * width + x) * 3;
  return [buf[o], buf[o + 1], buf[o + 2]];
}

function assertClose(actual: number[], expected: number[], tol: number, msg: string): void {
  for (let c = 0; c < 3; c++) {
    assert.ok(
      Math.abs(actual[c] - expected[c]) <= tol,
      `${msg}: got [${actual}] expected ~[${expected.map((v) => v.toFixed(2))}]`,
    );
  }
}

/** The colour must be the inferno entry for the expected heat, give or take one LUT step. */
function assertInferno(actual: number[], heat: number, msg: string): void {
  const idx = Math.round(Math.min(1, Math.max(0, heat)) * 255);
  const lut = colormapLut('inferno');
  const ok = [idx - 1, idx, idx + 1]
    .filter((i) => i >= 0 && i <= 255)
    .some((i) => lut[i * 3] === actual[0] && lut[i * 3 + 1] === actual[1] && lut[i * 3 + 2] === actual[2]);
  assert.ok(ok, `${msg}: [${actual}] is not inferno(${heat.toFixed(4)}) = [${colormap(heat)}]`);
}

const hexToRgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));

// ---- tests ----

test('inferno LUT matches matplotlib at sample points', () => {
  // matplotlib _inferno_data rows 0, 128, 255 (floats) quantised with round(v * 255)
  const ref: Array<[number, number[]]> = [
    [0, [0.001462, 0.000466, 0.013866]],
    [128, [0.735683, 0.215906, 0.330245]],
    [255, [0.988362, 0.998364, 0.644924]],
  ];
  for (const [i, f] of ref)
    assert.deepEqual(
      colormap(i / 255),
      f.map((v) => Math.round(v * 255)),
      `entry ${i}`,
    );
  assert.deepEqual(colormap(-3), colormap(0));
  assert.deepEqual(colormap(7), colormap(1));
  assert.deepEqual(colormap(0.5, 'gray'), [128, 128, 128]);
});

test('palette: at least 5 distinct colours, RGB matches hex', () => {
  assert.ok(QUERY_PALETTE.length >= 5);
  assert.equal(new Set(QUERY_PALETTE).size, QUERY_PALETTE.length);
  QUERY_PALETTE.forEach((hex, i) => assert.deepEqual([...QUERY_PALETTE_RGB[i]], hexToRgb(hex)));
});

test('attentionRow: pixel -> query cell mapping and row extraction', () => {
  const S = 32;
  const grid: [number, number] = [8, 8];
  const keyGrid: [number, number] = [4, 4];
  const att = randomAttention(64, 16, 1);
  const cases: Array<[Query, number]> = [
    [{ x: 0, y: 0 }, 0],
    [{ x: 13, y: 27 }, 6 * 8 + 3], // qx = floor(13*8/32) = 3, qy = floor(27*8/32) = 6
    [{ x: 3.99, y: 4 }, 1 * 8 + 0],
    [{ x: 31.5, y: 31.9 }, 63],
  ];
  for (const [q, idx] of cases) {
    const { row, queryIndex } = attentionRow(att, grid, keyGrid, q, S);
    assert.equal(queryIndex, idx, `query ${q.x},${q.y}`);
    assert.deepEqual([...row], [...att.subarray(idx * 16, idx * 16 + 16)]);
  }
  // non-square grid, full-resolution keys
  const att2 = randomAttention(2 * 4, 8, 2);
  assert.equal(attentionRow(att2, [2, 4], [2, 4], { x: 20, y: 17 }, 32).queryIndex, 1 * 4 + 2);
  for (const bad of [
    { x: 32, y: 0 },
    { x: -1, y: 3 },
    { x: 1, y: NaN },
  ]) {
    assert.throws(
      () => attentionRow(att, grid, keyGrid, bad, S),
      (e: unknown) => e instanceof ServeError && e.code === 'INVALID_ARGUMENT' && e.details.field === 'query',
    );
  }
  assert.throws(() => attentionRow(att, grid, [8, 8], { x: 0, y: 0 }, S), RangeError);
});

test('heatmapRgb: matches independent bilinear + inferno computation', () => {
  const S = 32;
  const grid: [number, number] = [8, 8];
  const keyGrid: [number, number] = [4, 4];
  const att = randomAttention(64, 16, 3);
  const q = { x: 20, y: 9 };
  const { row } = attentionRow(att, grid, keyGrid, q, S);
  for (const N of [32, 27]) {
    const h = heatmapRgb(row, keyGrid, N);
    assert.deepEqual([h.width, h.height, h.rgb.length], [N, N, N * N * 3]);
    for (const [X, Y] of [
      [0, 0],
      [N - 1, N - 1],
      [5, 17],
      [13, 2],
      [Math.floor(N / 2), Math.floor(N / 2)],
      [N - 1, 0],
    ]) {
      assertInferno(px(h.rgb, N, X, Y), refHeat(att, grid, keyGrid, S, q, N, X, Y), `N=${N} (${X},${Y})`);
    }
  }
  // the hottest key cell reaches exactly 1 in nearest mode
  const hn = heatmapRgb(row, keyGrid, 16, { upsample: 'nearest' });
  const maxK = row.indexOf(Math.max(...row));
  const [ky, kx] = [Math.floor(maxK / 4), maxK % 4];
  assert.deepEqual(px(hn.rgb, 16, kx * 4 + 1, ky * 4 + 2), colormap(1));
});

test('heatmapRgb: uniform row is flat, one-hot row is a hot spot in the right cell', () => {
  const uniform = new Float32Array(16).fill(1 / 16);
  const flat = heatmapRgb(uniform, [4, 4], 24);
  const top = colormap(1);
  for (let p = 0; p < 24 * 24; p++) assert.deepEqual(px(flat.rgb, 24, p % 24, Math.floor(p / 24)), top);

  const N = 32;
  const oneHot = new Float32Array(16);
  oneHot[1 * 4 + 2] = 1; // key cell ky = 1, kx = 2 -> pixels x in [16, 24), y in [8, 16)
  const h = heatmapRgb(oneHot, [4, 4], N);
  const lut = colormapLut('inferno');
  const lum = (x: number, y: number) => {
    const [r, g, b] = px(h.rgb, N, x, y);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  let best = -1;
  let bx = -1;
  let by = -1;
  for (let y = 0; y < N; y++) for (let x = 0; x < N; x++) if (lum(x, y) > best) [best, bx, by] = [lum(x, y), x, y];
  assert.ok(bx >= 16 && bx < 24 && by >= 8 && by < 16, `hot spot at ${bx},${by}`);
  // centre pixels of the cell: weight 0.9375^2 on the hot cell
  assertInferno(px(h.rgb, N, 19, 11), 0.9375 * 0.9375, 'centre');
  // far away (more than a cell from it): zero heat
  const cold = [lut[0], lut[1], lut[2]];
  for (const [x, y] of [
    [0, 0],
    [31, 31],
    [4, 28],
    [8, 0],
    [31, 23],
  ])
    assert.deepEqual(px(h.rgb, N, x, y), cold, `cold ${x},${y}`);
});

test('overlay: palette blend matches an independent computation; dots in palette colours', () => {
  const S = 64;
  const grid: [number, number] = [16, 16];
  const keyGrid: [number, number] = [8, 8];
  const att = randomAttention(256, 64, 5);
  const img = randomImage(S, 9);
  const queries: Query[] = [
    { x: 10, y: 12 },
    { x: 50, y: 40 },
    { x: 30.7, y: 55.2 },
  ];
  const alpha = 0.6;
  const out = overlay(img, S, att, grid, keyGrid, queries);
  assert.deepEqual([out.width, out.height], [S, S]);
  assert.ok(!out.rgb.equals(img));
  const r = dotRadius(S);
  const nearDot = (x: number, y: number) =>
    queries.some((q) => (x - Math.floor(q.x)) ** 2 + (y - Math.floor(q.y)) ** 2 <= (r + 1) ** 2);
  const rand = rng(77);
  let checked = 0;
  while (checked < 40) {
    const X = Math.floor(rand() * S);
    const Y = Math.floor(rand() * S);
    if (nearDot(X, Y)) continue;
    const heats = queries.map((q) => refHeat(att, grid, keyGrid, S, q, S, X, Y));
    const m = Math.max(...heats);
    const c = hexToRgb(QUERY_PALETTE[heats.indexOf(m)]);
    const w = alpha * m;
    const expected = px(img, S, X, Y).map((v, ch) => (1 - w) * v + w * c[ch]);
    assertClose(px(out.rgb, S, X, Y), expected, 2, `pixel ${X},${Y}`);
    checked++;
  }
  // dots: centre in the query colour, ring pixel white
  queries.forEach((q, i) => {
    const cx = Math.floor(q.x);
    const cy = Math.floor(q.y);
    const colour = hexToRgb(QUERY_PALETTE[i]);
    for (const [dx, dy] of [
      [0, 0],
      [r, 0],
      [0, -r],
      [-1, 1],
    ])
      assert.deepEqual(px(out.rgb, S, cx + dx, cy + dy), colour);
    assert.deepEqual(px(out.rgb, S, cx + r + 1, cy), [255, 255, 255]);
  });
  // input untouched
  assert.ok(img.equals(randomImage(S, 9)));
});

test('overlay: colormap mode, uniform attention, alpha 0', () => {
  const S = 32;
  const grid: [number, number] = [8, 8];
  const keyGrid: [number, number] = [8, 8];
  const img = randomImage(S, 4);
  const att = randomAttention(64, 64, 6);
  const q = { x: 16, y: 16 };
  const out = overlay(img, S, att, grid, keyGrid, [q], { mode: 'colormap', alpha: 0.5, dots: false });
  for (const [X, Y] of [
    [0, 0],
    [16, 16],
    [31, 3],
    [7, 25],
  ]) {
    const h = refHeat(att, grid, keyGrid, S, q, S, X, Y);
    const c = colormap(h);
    const expected = px(img, S, X, Y).map((v, ch) => 0.5 * v + 0.5 * c[ch]);
    assertClose(px(out.rgb, S, X, Y), expected, 3, `colormap ${X},${Y}`);
  }

  // uniform attention: m = 1 everywhere -> every non-dot pixel is round(0.4 img + 0.6 colour)
  const uni = new Float32Array(64 * 16).fill(1 / 16);
  const flat = overlay(img, S, uni, [8, 8], [4, 4], [{ x: 2, y: 2 }]);
  const red = hexToRgb(QUERY_PALETTE[0]);
  for (let y = 8; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const exp = px(img, S, x, y).map((v, ch) => Math.round(0.4 * v + 0.6 * red[ch]));
      assertClose(px(flat.rgb, S, x, y), exp, 1, `uniform ${x},${y}`);
    }
  }

  // ties go to the first query: two queries with identical (uniform) rows paint in colour 0
  const tie = overlay(
    img,
    S,
    uni,
    [8, 8],
    [4, 4],
    [
      { x: 2, y: 2 },
      { x: 30, y: 2 },
    ],
    { dots: false },
  );
  for (const [x, y] of [
    [0, 20],
    [31, 31],
    [16, 9],
  ]) {
    const exp = px(img, S, x, y).map((v, ch) => Math.round(0.4 * v + 0.6 * red[ch]));
    assertClose(px(tie.rgb, S, x, y), exp, 1, `tie ${x},${y}`);
  }

  const none = overlay(img, S, att, grid, keyGrid, [q], { alpha: 0, dots: false });
  assert.ok(none.rgb.equals(img));
  const noQueries = overlay(img, S, att, grid, keyGrid, []);
  assert.ok(noQueries.rgb.equals(img));
});

test('panel: Figure 1 layout, frames in query colours, heat maps match reference', () => {
  const S = 64;
  const grid: [number, number] = [16, 16];
  const keyGrid: [number, number] = [8, 8];
  const att = randomAttention(256, 64, 11);
  const img = randomImage(S, 12);
  const queries: Query[] = [
    { x: 5, y: 5 },
    { x: 40, y: 20 },
    { x: 60, y: 60 },
  ];
  const gap = Math.max(2, Math.round(S / 32));
  const border = Math.max(2, Math.round(S / 64));
  const p = panel(img, S, att, grid, keyGrid, queries);
  assert.equal(p.width, (1 + queries.length) * S + queries.length * gap);
  assert.equal(p.height, S);
  assert.equal(p.rgb.length, p.width * p.height * 3);

  // tile 0: the image, plus dots
  assert.deepEqual(px(p.rgb, p.width, 30, 50), px(img, S, 30, 50));
  queries.forEach((q, i) => assert.deepEqual(px(p.rgb, p.width, q.x, q.y), hexToRgb(QUERY_PALETTE[i])));
  // gaps are white
  for (let i = 0; i < queries.length; i++) {
    for (let g = 0; g < gap; g++) assert.deepEqual(px(p.rgb, p.width, S + i * (S + gap) + g, 17), [255, 255, 255]);
  }
  const inner = S - 2 * border;
  queries.forEach((q, i) => {
    const x0 = (i + 1) * (S + gap);
    const colour = hexToRgb(QUERY_PALETTE[i]);
    // frame
    for (const [x, y] of [
      [0, 0],
      [S - 1, S - 1],
      [border - 1, 30],
      [30, S - border],
      [S - 1, 0],
    ]) {
      assert.deepEqual(px(p.rgb, p.width, x0 + x, y), colour, `frame ${i} at ${x},${y}`);
    }
    // interior = heat map of side S - 2*border
    for (const [X, Y] of [
      [0, 0],
      [inner - 1, inner - 1],
      [10, 40],
      [33, 7],
    ]) {
      const h = refHeat(att, grid, keyGrid, S, q, inner, X, Y);
      assertInferno(px(p.rgb, p.width, x0 + border + X, border + Y), h, `heat ${i} at ${X},${Y}`);
    }
    // and identical to heatmapRgb of the same row
    const hm = heatmapRgb(attentionRow(att, grid, keyGrid, q, S).row, keyGrid, inner);
    for (let y = 0; y < inner; y++) {
      const o = ((border + y) * p.width + x0 + border) * 3;
      assert.ok(p.rgb.subarray(o, o + inner * 3).equals(hm.rgb.subarray(y * inner * 3, (y + 1) * inner * 3)));
    }
  });

  const custom = panel(img, S, att, grid, keyGrid, queries.slice(0, 1), { gap: 0, border: 0 });
  assert.deepEqual([custom.width, custom.height], [2 * S, S]);
});
