/**
 * Self-attention visualisation for one generated sample: which key positions a chosen image
 * location (a "query") attends to.
 *
 * Inputs. `attention` is one sample's attention matrix, float32 [gh*gw, kh*kw] row-major: row q
 * belongs to query cell q of the query grid [gh, gw] (q = qy * gw + qx) and column k to key cell
 * k of the key grid [kh, kw] (k = ky * kw + kx); keyGrid equals grid, or half of it when keys
 * were 2x2 max-pooled. Rows sum to 1. Queries are given in pixel coordinates of the S x S
 * generator image, 0 <= x, y < S (x to the right, y down, fractions allowed).
 *
 * Formulas (the reproducibility contract; all arithmetic in double precision):
 *
 *   Query cell:     qx = floor(x * gw / S), qy = floor(y * gh / S), queryIndex = qy * gw + qx.
 *
 *   Normalisation:  n[k] = row[k] / max_k row[k]   (all zeros if the max is not > 0), so the most
 *                   attended key cell is 1; a uniform row gives n = 1 everywhere (a flat map).
 *
 *   Upsampling:     bilinear with half-pixel centres, edge-clamped, from kh x kw to N x N (the
 *                   same as PyTorch F.interpolate(mode='bilinear', align_corners=False)):
 *                     sx = max(0, (X + 0.5) * kw / N - 0.5),  sy = max(0, (Y + 0.5) * kh / N - 0.5)
 *                     x0 = min(floor(sx), kw - 1), x1 = min(x0 + 1, kw - 1), fx = sx - x0
 *                     y0 = min(floor(sy), kh - 1), y1 = min(y0 + 1, kh - 1), fy = sy - y0
 *                     H(X, Y) = (1 - fy) * ((1 - fx) * n[y0, x0] + fx * n[y0, x1])
 *                             +      fy  * ((1 - fx) * n[y1, x0] + fx * n[y1, x1])
 *                   (upsample: 'nearest' instead uses n[floor(Y * kh / N), floor(X * kw / N)].)
 *
 *   Colour map:     colour(H) = LUT[round(clamp(H, 0, 1) * 255)] (see colormap.ts; default
 *                   matplotlib 'inferno').
 *
 *   Overlay blend:  per pixel p, m(p) = max_i H_i(p) over the queries, i*(p) = the first query
 *                   attaining it; with a = alpha (default 0.6), each channel
 *                     mode 'palette' (default): out = round((1 - a*m) * img + a*m * PALETTE[i*])
 *                     mode 'colormap':          out = round((1 - a) * img + a * colour(m))
 *                   i.e. every query's heat is painted in that query's dot colour, the hotter the
 *                   more opaque, and where maps overlap the stronger one wins.
 *
 *   Query dots:     query i is drawn in PALETTE[i % PALETTE.length] (the palette cycles) as a
 *                   filled disc of radius r = dotRadius(S) = max(2, round(S / 40)) around
 *                   pixel (cx, cy) = (floor(x), floor(y)): pixels with (px-cx)^2 + (py-cy)^2 <= r^2,
 *                   ringed in white where r^2 < d^2 <= (r+1)^2. Dots are drawn after blending, in
 *                   query order (later ones on top).
 */
import { checkColour, checkRgb, fillRgb, type RgbColour } from '@sagan-serve/model-contract/image';
import { colormapIndex, colormapLut, isColormapName, type ColormapName } from './colormap.js';
import { serveError } from '../errors.js';

/** Query colours, in query order (CSS hex); a web page can use these to match the dots. */
export const QUERY_PALETTE: readonly string[] = Object.freeze([
  '#ff3b30', // red
  '#34c759', // green
  '#007aff', // blue
  '#ffcc00', // yellow
  '#af52de', // purple
  '#ff9500', // orange
  '#32ade6', // cyan
  '#a2845e', // brown
]);

/** QUERY_PALETTE as [r, g, b] bytes. */
export const QUERY_PALETTE_RGB: readonly (readonly [number, number, number])[] = Object.freeze(
  QUERY_PALETTE.map((hex) =>
    Object.freeze([1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number]),
  ),
);

/** Colour of query i (the palette cycles). */
export function queryColour(i: number): RgbColour {
  const c = QUERY_PALETTE_RGB[((i % QUERY_PALETTE_RGB.length) + QUERY_PALETTE_RGB.length) % QUERY_PALETTE_RGB.length];
  return [c[0], c[1], c[2]];
}

/** Colour of the ring drawn around each query dot. */
export const DOT_RING_COLOUR: RgbColour = [255, 255, 255];

/** Query-dot radius in px for an image of side `size`: max(2, round(size / 40)). */
export function dotRadius(size: number): number {
  return Math.max(2, Math.round(size / 40));
}

export interface Query {
  x: number;
  y: number;
}

export type Upsample = 'bilinear' | 'nearest';

export interface RenderedImage {
  rgb: Buffer;
  width: number;
  height: number;
}

// ---------------------------------------------------------------------------------------------

/**
 * Picks the attention row of the query cell under image pixel (x, y):
 * qx = floor(x * gw / S), qy = floor(y * gh / S), queryIndex = qy * gw + qx.
 * `row` is a copy of length kh * kw. Throws ServeError INVALID_ARGUMENT (field 'query') when the
 * point is outside [0, S) x [0, S), and RangeError when the tensor does not match the grids.
 */
export function attentionRow(
  attention: Float32Array,
  grid: [number, number],
  keyGrid: [number, number],
  query: Query,
  imageSize: number,
): { row: Float32Array; queryIndex: number } {
  checkAttention(attention, grid, keyGrid);
  checkQuery(query, imageSize);
  const [gh, gw] = grid;
  const qx = Math.min(gw - 1, Math.floor((query.x * gw) / imageSize));
  const qy = Math.min(gh - 1, Math.floor((query.y * gh) / imageSize));
  const queryIndex = qy * gw + qx;
  const k = keyGrid[0] * keyGrid[1];
  return { row: attention.slice(queryIndex * k, (queryIndex + 1) * k), queryIndex };
}

/** n[k] = row[k] / max(row); all zeros if max(row) is not > 0. */
export function normaliseRow(row: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i] > max) max = row[i];
  const out = new Float64Array(row.length);
  if (!(max > 0) || !Number.isFinite(max)) return out;
  for (let i = 0; i < row.length; i++) {
    const v = row[i] / max;
    out[i] = Number.isFinite(v) ? v : 0;
  }
  return out;
}

/** Upsamples an h x w map to outSize x outSize with the formula in the module comment. */
export function upsampleMap(
  map: ArrayLike<number>,
  h: number,
  w: number,
  outSize: number,
  mode: Upsample = 'bilinear',
): Float64Array {
  if (map.length !== h * w) throw new RangeError(`map has ${map.length} values, expected ${h}*${w}`);
  checkSide(outSize, 'outSize');
  const out = new Float64Array(outSize * outSize);
  if (mode === 'nearest') {
    const xs = new Int32Array(outSize);
    for (let X = 0; X < outSize; X++) xs[X] = Math.min(w - 1, Math.floor((X * w) / outSize));
    for (let Y = 0; Y < outSize; Y++) {
      const base = Math.min(h - 1, Math.floor((Y * h) / outSize)) * w;
      for (let X = 0; X < outSize; X++) out[Y * outSize + X] = map[base + xs[X]];
    }
    return out;
  }
  if (mode !== 'bilinear') throw new RangeError(`unknown upsample mode ${String(mode)}`);
  const [x0s, x1s, fxs] = axisWeights(w, outSize);
  const [y0s, y1s, fys] = axisWeights(h, outSize);
  for (let Y = 0; Y < outSize; Y++) {
    const r0 = y0s[Y] * w;
    const r1 = y1s[Y] * w;
    const fy = fys[Y];
    for (let X = 0; X < outSize; X++) {
      const x0 = x0s[X];
      const x1 = x1s[X];
      const fx = fxs[X];
      const top = (1 - fx) * map[r0 + x0] + fx * map[r0 + x1];
      const bottom = (1 - fx) * map[r1 + x0] + fx * map[r1 + x1];
      out[Y * outSize + X] = (1 - fy) * top + fy * bottom;
    }
  }
  return out;
}

function axisWeights(n: number, outSize: number): [Int32Array, Int32Array, Float64Array] {
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const f = new Float64Array(outSize);
  for (let X = 0; X < outSize; X++) {
    const s = Math.max(0, ((X + 0.5) * n) / outSize - 0.5);
    const a = Math.min(Math.floor(s), n - 1);
    i0[X] = a;
    i1[X] = Math.min(a + 1, n - 1);
    f[X] = s - a;
  }
  return [i0, i1, f];
}

export interface HeatmapOptions {
  /** Default 'inferno'. */
  colormap?: ColormapName;
  /** Default 'bilinear'. */
  upsample?: Upsample;
}

/**
 * One query's attention as a colour image: normalise the row to its max, upsample the kh x kw
 * map to outSize x outSize, colour-map (formulas in the module comment).
 */
export function heatmapRgb(
  row: ArrayLike<number>,
  keyGrid: [number, number],
  outSize: number,
  opts: HeatmapOptions = {},
): RenderedImage {
  checkGrid(keyGrid, 'keyGrid');
  const [kh, kw] = keyGrid;
  if (row.length !== kh * kw) throw new RangeError(`attention row has ${row.length} values, expected ${kh}*${kw}`);
  const lut = lutFor(opts.colormap);
  const heat = upsampleMap(normaliseRow(row), kh, kw, outSize, opts.upsample ?? 'bilinear');
  const rgb = Buffer.allocUnsafe(outSize * outSize * 3);
  for (let p = 0; p < heat.length; p++) {
    const li = colormapIndex(heat[p]) * 3;
    rgb[p * 3] = lut[li];
    rgb[p * 3 + 1] = lut[li + 1];
    rgb[p * 3 + 2] = lut[li + 2];
  }
  return { rgb, width: outSize, height: outSize };
}

export interface OverlayOptions extends HeatmapOptions {
  /** Maximum heat opacity, 0..1; default 0.6. */
  alpha?: number;
  /** 'palette' (default): heat painted in each query's colour; 'colormap': max heat through the colour map. */
  mode?: 'palette' | 'colormap';
  /** Draw the query dots; default true. */
  dots?: boolean;
}

/**
 * The S x S image with the queries' attention blended over it and the query dots on top
 * (formulas in the module comment). Returns a new buffer; `rgb` is not modified.
 */
export function overlay(
  rgb: Buffer,
  size: number,
  attention: Float32Array,
  grid: [number, number],
  keyGrid: [number, number],
  queries: Query[],
  opts: OverlayOptions = {},
): RenderedImage {
  checkRgb(rgb, size, size);
  checkAttention(attention, grid, keyGrid);
  const alpha = opts.alpha ?? 0.6;
  if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`alpha must be in [0, 1], got ${alpha}`);
  const mode = opts.mode ?? 'palette';
  if (mode !== 'palette' && mode !== 'colormap') throw new RangeError(`unknown overlay mode ${String(mode)}`);
  const lut = lutFor(opts.colormap);
  const [kh, kw] = keyGrid;

  const out = Buffer.from(rgb);
  if (queries.length > 0) {
    const n = size * size;
    const maxHeat = new Float64Array(n).fill(-1);
    const owner = new Int32Array(n);
    queries.forEach((q, i) => {
      const { row } = attentionRow(attention, grid, keyGrid, q, size);
      const heat = upsampleMap(normaliseRow(row), kh, kw, size, opts.upsample ?? 'bilinear');
      for (let p = 0; p < n; p++) {
        if (heat[p] > maxHeat[p]) {
          maxHeat[p] = heat[p];
          owner[p] = i;
        }
      }
    });
    const colours = queries.map((_, i) => queryColour(i));
    for (let p = 0; p < n; p++) {
      const m = Math.min(1, Math.max(0, maxHeat[p]));
      const o = p * 3;
      if (mode === 'palette') {
        const w = alpha * m;
        const c = colours[owner[p]];
        for (let ch = 0; ch < 3; ch++) out[o + ch] = Math.round((1 - w) * rgb[o + ch] + w * c[ch]);
      } else {
        const li = colormapIndex(m) * 3;
        for (let ch = 0; ch < 3; ch++) out[o + ch] = Math.round((1 - alpha) * rgb[o + ch] + alpha * lut[li + ch]);
      }
    }
  }
  if (opts.dots ?? true) drawDots(out, size, queries);
  return { rgb: out, width: size, height: size };
}

export interface PanelOptions extends HeatmapOptions {
  /** Background px between tiles; default max(2, round(S / 32)). */
  gap?: number;
  /** Width of the coloured frame of each heat map tile; default max(2, round(S / 64)). */
  border?: number;
  /** Colour of the gaps; default [255, 255, 255]. */
  background?: RgbColour;
}

/** The default gap between a panel's tiles for tiles of side `size`. */
export function panelGap(size: number): number {
  return Math.max(2, Math.round(size / 32));
}

/** The size of panel()'s image for `queryCount` queries on tiles of side `size`. */
export function panelDimensions(
  size: number,
  queryCount: number,
  gap = panelGap(size),
): { width: number; height: number } {
  return { width: (1 + queryCount) * size + queryCount * gap, height: size };
}

/**
 * The SAGAN paper's Figure 1 layout, one row of q + 1 square tiles of side S:
 *
 *   [ image + query dots ] gap [ heat map 1 ] gap [ heat map 2 ] ... gap [ heat map q ]
 *
 *   width  = (1 + q) * S + q * gap,   height = S
 *   tile 0 (x = 0) is the image with the query dots (no heat blended in); tile i = 1..q starts at
 *   x = i * (S + gap) and is a frame `border` px wide in query (i-1)'s palette colour around
 *   heatmapRgb(row of query i-1, keyGrid, S - 2 * border) placed at (x + border, border).
 *   Gaps are background. Defaults: gap = max(2, round(S / 32)), border = max(2, round(S / 64)).
 */
export function panel(
  rgb: Buffer,
  size: number,
  attention: Float32Array,
  grid: [number, number],
  keyGrid: [number, number],
  queries: Query[],
  opts: PanelOptions = {},
): RenderedImage {
  checkRgb(rgb, size, size);
  checkAttention(attention, grid, keyGrid);
  const gap = opts.gap ?? panelGap(size);
  const border = opts.border ?? Math.max(2, Math.round(size / 64));
  if (!Number.isInteger(gap) || gap < 0) throw new RangeError(`gap must be a non-negative integer, got ${gap}`);
  if (!Number.isInteger(border) || border < 0 || size - 2 * border < 1) {
    throw new RangeError(`border must be an integer in [0, ${Math.floor((size - 1) / 2)}], got ${border}`);
  }
  const background = checkColour(opts.background ?? [255, 255, 255], 'background');
  const rows = queries.map((q) => attentionRow(attention, grid, keyGrid, q, size).row);

  const { width, height } = panelDimensions(size, queries.length, gap);
  const out = Buffer.allocUnsafe(width * height * 3);
  fillRgb(out, background);

  const image = Buffer.from(rgb);
  drawDots(image, size, queries);
  blit(out, width, image, size, size, 0, 0);

  const inner = size - 2 * border;
  rows.forEach((row, i) => {
    const x0 = (i + 1) * (size + gap);
    const frame = Buffer.allocUnsafe(size * size * 3);
    fillRgb(frame, queryColour(i));
    const heat = heatmapRgb(row, keyGrid, inner, opts);
    blit(frame, size, heat.rgb, inner, inner, border, border);
    blit(out, width, frame, size, size, x0, 0);
  });
  return { rgb: out, width, height };
}

// ---------------------------------------------------------------------------------------------

/** Draws the query dots (disc + white ring, see module comment) into an S x S RGB buffer in place. */
export function drawDots(rgb: Buffer, size: number, queries: Query[]): void {
  checkRgb(rgb, size, size);
  const r = dotRadius(size);
  const r2 = r * r;
  const ring2 = (r + 1) * (r + 1);
  queries.forEach((q, i) => {
    checkQuery(q, size);
    const cx = Math.floor(q.x);
    const cy = Math.floor(q.y);
    const colour = queryColour(i);
    for (let py = Math.max(0, cy - r - 1); py <= Math.min(size - 1, cy + r + 1); py++) {
      for (let px = Math.max(0, cx - r - 1); px <= Math.min(size - 1, cx + r + 1); px++) {
        const d2 = (px - cx) * (px - cx) + (py - cy) * (py - cy);
        const c = d2 <= r2 ? colour : d2 <= ring2 ? DOT_RING_COLOUR : null;
        if (c === null) continue;
        const o = (py * size + px) * 3;
        rgb[o] = c[0];
        rgb[o + 1] = c[1];
        rgb[o + 2] = c[2];
      }
    }
  });
}

function blit(dst: Buffer, dstWidth: number, src: Buffer, w: number, h: number, x0: number, y0: number): void {
  for (let y = 0; y < h; y++) src.copy(dst, ((y0 + y) * dstWidth + x0) * 3, y * w * 3, (y + 1) * w * 3);
}

function lutFor(name: ColormapName | undefined): Uint8Array {
  const n = name ?? 'inferno';
  if (!isColormapName(n)) throw new RangeError(`unknown colormap ${String(n)}`);
  return colormapLut(n);
}

function checkSide(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${what} must be a positive integer, got ${n}`);
}

function checkGrid(g: [number, number], what: string): void {
  if (!Array.isArray(g) || g.length !== 2 || !g.every((v) => Number.isInteger(v) && v >= 1)) {
    throw new RangeError(`${what} must be [h, w] with positive integers`);
  }
}

function checkAttention(attention: Float32Array, grid: [number, number], keyGrid: [number, number]): void {
  checkGrid(grid, 'grid');
  checkGrid(keyGrid, 'keyGrid');
  const expected = grid[0] * grid[1] * keyGrid[0] * keyGrid[1];
  if (attention.length !== expected) {
    throw new RangeError(
      `attention has ${attention.length} values, expected ${grid[0]}*${grid[1]} x ${keyGrid[0]}*${keyGrid[1]} = ${expected}`,
    );
  }
}

function checkQuery(q: Query, size: number): void {
  checkSide(size, 'imageSize');
  const ok =
    q !== null &&
    typeof q === 'object' &&
    Number.isFinite(q.x) &&
    Number.isFinite(q.y) &&
    q.x >= 0 &&
    q.y >= 0 &&
    q.x < size &&
    q.y < size;
  if (!ok) {
    throw serveError.INVALID_ARGUMENT(
      'query',
      `query point (${q?.x}, ${q?.y}) is outside the ${size}x${size} image`,
      `0 <= x < ${size}, 0 <= y < ${size}`,
    );
  }
}
