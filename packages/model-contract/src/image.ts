/**
 * Turning generator output into image bytes: float CHW -> uint8 RGB, grids of samples, and
 * deterministic PNG / JPEG / WebP encoding.
 *
 * Who encodes what: sharp resizes, and encodes JPEG, WebP and resized or large PNG in the same pipeline;
 * a PNG at the generator's own resolution of up to PNGJS_MAX_PIXELS (the default response) is written by
 * pngjs, synchronously on the calling thread (a render thread in the server). For the small images a
 * generator makes, sharp's cost per PNG is almost all fixed overhead (a libvips pipeline and three thread hand-offs: libuv's
 * pool, a libvips worker and back): 1.2 ms for a 64x64 PNG whose deflate takes 0.1 ms, 1.7 ms when its
 * threads have gone idle between requests; pngjs writes the same PNG in about 0.2 ms (BENCHMARKS.md).
 *
 * Byte conventions used by the server's render modules and the trainer's sample grids: an "RGB buffer" is packed HWC uint8, 3 channels,
 * row-major, no row padding: byte (y * width + x) * 3 + c holds channel c (0 R, 1 G, 2 B) of
 * pixel (x, y), with (0, 0) the top-left pixel.
 */
import { PNG } from 'pngjs';
import sharp, { type PngOptions } from 'sharp';

export type ImageFormat = 'png' | 'jpeg' | 'webp';
export const IMAGE_FORMATS: readonly ImageFormat[] = ['png', 'jpeg', 'webp'];

export type ResizeKernel = 'nearest' | 'lanczos3';
export const RESIZE_KERNELS: readonly ResizeKernel[] = ['nearest', 'lanczos3'];

export type RgbColour = [number, number, number];

export function isImageFormat(value: unknown): value is ImageFormat {
  return typeof value === 'string' && (IMAGE_FORMATS as readonly string[]).includes(value);
}

/** HTTP Content-Type of an encoded image. */
export function contentTypeFor(format: ImageFormat): 'image/png' | 'image/jpeg' | 'image/webp' {
  switch (format) {
    case 'png':
      return 'image/png';
    case 'jpeg':
      return 'image/jpeg';
    case 'webp':
      return 'image/webp';
    default:
      throw new RangeError(`unknown image format ${String(format)}; allowed: ${IMAGE_FORMATS.join(', ')}`);
  }
}

/**
 * Converts one generated sample, float32 CHW [3, size, size] with values nominally in
 * `range` = [lo, hi], to packed HWC uint8 RGB.
 *
 * Reproducibility contract (bit-exact): for every element v (a float32 widened to an IEEE-754
 * double), computed in double precision in this order:
 *
 *     t    = (v - lo) / (hi - lo)
 *     t    = min(max(t, 0), 1)
 *     byte = round(t * 255)          // round half up (JavaScript Math.round)
 *
 * NaN maps to 0, +Infinity to 255, -Infinity to 0. Output byte (y * size + x) * 3 + c comes from
 * input element c * size * size + y * size + x (channel 0 = R, 1 = G, 2 = B).
 * For the usual range [-1, 1] this is byte = round((v + 1) / 2 * 255) clamped to 0..255.
 */
export function toRgbBytes(chw: Float32Array, size: number, range: [number, number]): Buffer {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`size must be a positive integer, got ${size}`);
  const plane = size * size;
  if (chw.length !== 3 * plane) {
    throw new RangeError(`expected 3*${size}*${size} = ${3 * plane} values, got ${chw.length}`);
  }
  const [lo, hi] = range;
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(hi > lo)) {
    throw new RangeError(`range must be finite [lo, hi] with hi > lo, got [${lo}, ${hi}]`);
  }
  const span = hi - lo;
  const out = Buffer.allocUnsafe(3 * plane);
  for (let c = 0; c < 3; c++) {
    const base = c * plane;
    for (let i = 0; i < plane; i++) {
      let t = (chw[base + i] - lo) / span;
      // NaN fails both comparisons below and falls through to 0.
      if (t >= 1) t = 1;
      else if (!(t > 0)) t = 0;
      out[i * 3 + c] = Math.round(t * 255);
    }
  }
  return out;
}

export interface EncodeOptions {
  format: ImageFormat;
  /**
   * Upscale target: the output width in px (>= width). The height is scaled by the same factor,
   * round(height * outputSize / width), so for square images this is the output side.
   * Omitted or equal to width: no resampling.
   */
  outputSize?: number;
  /** Resampling kernel for outputSize; default 'nearest' (an integer factor k turns each pixel into a k x k block). */
  kernel?: ResizeKernel;
  /** zlib level 0-9 for PNG; default 6. */
  pngCompressionLevel?: number;
  /** 1-100 for JPEG / WebP; default 90. */
  quality?: number;
}

/**
 * Encodes a packed RGB buffer. Deterministic: the same input and options give byte-identical
 * output (no metadata, no timestamps; PNG uses filter-free, non-adaptive, non-palette output;
 * JPEG is baseline 4:2:0; WebP is lossy at `quality`).
 */
export async function encodeImage(rgb: Buffer, width: number, height: number, opts: EncodeOptions): Promise<Buffer> {
  checkRgb(rgb, width, height);
  const format = opts.format;
  if (!isImageFormat(format)) {
    throw new RangeError(`unknown image format ${String(format)}; allowed: ${IMAGE_FORMATS.join(', ')}`);
  }
  const kernel = opts.kernel ?? 'nearest';
  if (!(RESIZE_KERNELS as readonly string[]).includes(kernel)) {
    throw new RangeError(`unknown kernel ${String(kernel)}; allowed: ${RESIZE_KERNELS.join(', ')}`);
  }
  const level = opts.pngCompressionLevel ?? 6;
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new RangeError(`pngCompressionLevel must be an integer 0-9, got ${level}`);
  }
  const quality = opts.quality ?? 90;
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) {
    throw new RangeError(`quality must be an integer 1-100, got ${quality}`);
  }

  const resized = opts.outputSize !== undefined && opts.outputSize !== width;
  if (format === 'png' && !resized && width * height <= PNGJS_MAX_PIXELS) return encodePng(rgb, width, height, level);

  let img = sharp(rgb, { raw: { width, height, channels: 3 } });
  if (resized) {
    const outW = opts.outputSize as number;
    if (!Number.isInteger(outW) || outW < width) {
      throw new RangeError(`outputSize must be an integer >= width (${width}), got ${outW}`);
    }
    img = img.resize(outW, resizedHeight(width, height, outW), { kernel, fit: 'fill' });
  }
  switch (format) {
    case 'png':
      // Resized output already pays for a sharp pipeline, so it encodes there too (libvips's zlib-ng is
      // faster than Node's zlib on the large images upscaling makes: 1.7-1.9 against 3.1-3.5 ms for a 512x512
      // nearest upscale, `npm run bench:png -- --sizes 512 --nearest`).
      img = img.png(sharpPngOptions(level));
      break;
    case 'jpeg':
      img = img.jpeg({ quality, progressive: false, chromaSubsampling: '4:2:0', mozjpeg: false });
      break;
    case 'webp':
      img = img.webp({ quality, lossless: false, effort: 4 });
      break;
  }
  return img.toBuffer();
}

/** The height encodeImage resizes a width x height image to when its width becomes outputWidth (the aspect ratio kept). */
export function resizedHeight(width: number, height: number, outputWidth: number): number {
  return Math.max(1, Math.round((height * outputWidth) / width));
}

/**
 * Largest unresized PNG (in pixels) written by pngjs. `npm run bench:png`: pngjs is 1.5-6x faster per
 * image up to 128x128 and even at 256x256; at 512x512 sharp's zlib-ng is faster, and a synchronous encode
 * of that size (20-25 ms) would hold up the other renders queued on its thread, so big grids and panels go
 * to sharp.
 */
export const PNGJS_MAX_PIXELS = 256 * 256;

/** sharp's PNG settings for resized and large output (and for `npm run bench:png`'s comparison). */
export function sharpPngOptions(level: number): PngOptions {
  return { compressionLevel: level, adaptiveFiltering: false, palette: false, progressive: false };
}

/**
 * 8-bit RGB PNG of a packed RGB buffer, written synchronously: IHDR, IDAT, IEND only (no gamma, time
 * or text chunks), every row with filter type 0 (none), zlib at `level` with the default strategy. The
 * same choices as the sharp path (libpng), so sizes match within about 2%; pngjs's own default
 * strategy (Z_RLE) is twice as fast on generator output but 12x larger on nearest-upscaled images.
 */
export function encodePng(rgb: Buffer, width: number, height: number, level: number): Buffer {
  return PNG.sync.write({ width, height, data: rgb } as PNG, {
    colorType: 2,
    inputColorType: 2,
    inputHasAlpha: false,
    bitDepth: 8,
    filterType: 0,
    deflateLevel: level,
    deflateStrategy: 0,
  });
}

export interface GridOptions {
  /** Tiles per row; default ceil(sqrt(n)), capped at n. */
  columns?: number;
  /** Background px between adjacent tiles (no outer margin); default 2. */
  padding?: number;
  /** Colour of the padding and of unused cells in the last row; default [255, 255, 255]. */
  background?: RgbColour;
}

/** composeGrid's layout of n tiles of side tileSize (see there), without composing anything. */
export function gridDimensions(
  n: number,
  tileSize: number,
  opts: Pick<GridOptions, 'columns' | 'padding'> = {},
): { columns: number; rows: number; width: number; height: number } {
  const padding = opts.padding ?? 2;
  const columns = Math.min(opts.columns ?? Math.ceil(Math.sqrt(n)), n);
  const rows = Math.ceil(n / columns);
  return {
    columns,
    rows,
    width: columns * tileSize + (columns - 1) * padding,
    height: rows * tileSize + (rows - 1) * padding,
  };
}

/**
 * Lays equally sized square RGB tiles out in a grid.
 *
 * Layout (n tiles of side T, padding p):
 *   columns = min(opts.columns ?? ceil(sqrt(n)), n),   rows = ceil(n / columns)
 *   width   = columns * T + (columns - 1) * p,          height = rows * T + (rows - 1) * p
 *   tile i goes to column i % columns, row floor(i / columns) (row-major, input order), with its
 *   top-left pixel at x = (i % columns) * (T + p), y = floor(i / columns) * (T + p).
 * There is no outer margin; the gaps and the unused cells of an incomplete last row are filled
 * with the background colour.
 */
export function composeGrid(
  tiles: Buffer[],
  tileSize: number,
  opts: GridOptions = {},
): { rgb: Buffer; width: number; height: number } {
  const n = tiles.length;
  if (n === 0) throw new RangeError('composeGrid needs at least one tile');
  if (!Number.isInteger(tileSize) || tileSize < 1)
    throw new RangeError(`tileSize must be a positive integer, got ${tileSize}`);
  const requested = opts.columns ?? Math.ceil(Math.sqrt(n));
  if (!Number.isInteger(requested) || requested < 1)
    throw new RangeError(`columns must be a positive integer, got ${requested}`);
  const padding = opts.padding ?? 2;
  if (!Number.isInteger(padding) || padding < 0)
    throw new RangeError(`padding must be a non-negative integer, got ${padding}`);
  const background = checkColour(opts.background ?? [255, 255, 255], 'background');
  const { columns, width, height } = gridDimensions(n, tileSize, { columns: requested, padding });

  const out = Buffer.allocUnsafe(width * height * 3);
  fillRgb(out, background);
  const rowBytes = tileSize * 3;
  for (let i = 0; i < n; i++) {
    const tile = tiles[i];
    if (tile.length !== tileSize * tileSize * 3) {
      throw new RangeError(`tile ${i} has ${tile.length} bytes, expected ${tileSize}*${tileSize}*3`);
    }
    const x0 = (i % columns) * (tileSize + padding);
    const y0 = Math.floor(i / columns) * (tileSize + padding);
    for (let y = 0; y < tileSize; y++) {
      tile.copy(out, ((y0 + y) * width + x0) * 3, y * rowBytes, (y + 1) * rowBytes);
    }
  }
  return { rgb: out, width, height };
}

// ---------------------------------------------------------------------------------------------
// Small helpers shared with attention.ts.

/** Throws unless `rgb` is a packed width x height RGB buffer. */
export function checkRgb(rgb: Buffer, width: number, height: number): void {
  if (!Number.isInteger(width) || width < 1 || !Number.isInteger(height) || height < 1) {
    throw new RangeError(`width and height must be positive integers, got ${width} x ${height}`);
  }
  if (rgb.length !== width * height * 3) {
    throw new RangeError(`expected ${width}*${height}*3 = ${width * height * 3} bytes, got ${rgb.length}`);
  }
}

export function checkColour(c: RgbColour, what: string): RgbColour {
  if (!Array.isArray(c) || c.length !== 3 || !c.every((v) => Number.isInteger(v) && v >= 0 && v <= 255)) {
    throw new RangeError(`${what} must be [r, g, b] with integers 0-255`);
  }
  return c;
}

export function fillRgb(buf: Buffer, [r, g, b]: RgbColour): void {
  if (r === g && g === b) {
    buf.fill(r);
    return;
  }
  buf[0] = r;
  buf[1] = g;
  buf[2] = b;
  // Doubling copy: O(log n) calls.
  let filled = 3;
  while (filled < buf.length) {
    const n = Math.min(filled, buf.length - filled);
    buf.copy(buf, filled, 0, n);
    filled += n;
  }
}
