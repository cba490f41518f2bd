import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import {
  composeGrid,
  contentTypeFor,
  encodeImage,
  encodePng,
  isImageFormat,
  PNGJS_MAX_PIXELS,
  sharpPngOptions,
  toRgbBytes,
} from '../src/image.js';

function pattern(width: number, height: number, seed = 1): Buffer {
  const b = Buffer.alloc(width * height * 3);
  let s = seed >>> 0;
  for (let i = 0; i < b.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    b[i] = s >>> 24;
  }
  return b;
}

async function decode(buf: Buffer): Promise<{ data: Buffer; width: number; height: number; channels: number }> {
  const { data, info } = await sharp(buf).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

function pngChunkTypes(png: Buffer): string[] {
  const types: string[] = [];
  let off = 8;
  while (off < png.length) {
    const len = png.readUInt32BE(off);
    types.push(png.toString('latin1', off + 4, off + 8));
    off += 12 + len;
  }
  return types;
}

test('toRgbBytes: formula round(clamp((v-lo)/(hi-lo),0,1)*255) on [-1, 1]', () => {
  // size 2: planes R, G, B each [p(0,0), p(1,0), p(0,1), p(1,1)]
  const chw = new Float32Array([
    -1,
    1,
    0,
    0.5, // R
    -2,
    2,
    -0.5,
    0.25, // G (clamped values)
    NaN,
    Infinity,
    -Infinity,
    0.003921568859368563, // B
  ]);
  const out = toRgbBytes(chw, 2, [-1, 1]);
  assert.equal(out.length, 12);
  const expect = (v: number) => Math.round(Math.min(Math.max((v + 1) / 2, 0), 1) * 255);
  // hand-computed: -1 -> 0, 1 -> 255, 0 -> 127.5 -> 128, 0.5 -> 191.25 -> 191
  assert.deepEqual([out[0], out[3], out[6], out[9]], [0, 255, 128, 191]);
  // G: -2 -> 0, 2 -> 255, -0.5 -> 63.75 -> 64, 0.25 -> 159.375 -> 159
  assert.deepEqual([out[1], out[4], out[7], out[10]], [0, 255, 64, 159]);
  // B: NaN -> 0, +Inf -> 255, -Inf -> 0
  assert.deepEqual([out[2], out[5], out[8]], [0, 255, 0]);
  assert.equal(out[11], expect(Math.fround(0.003921568859368563)));
});

test('toRgbBytes: other range and HWC layout', () => {
  const S = 3;
  const chw = new Float32Array(3 * S * S);
  for (let c = 0; c < 3; c++) for (let i = 0; i < S * S; i++) chw[c * S * S + i] = c * 100 + i * 10;
  const out = toRgbBytes(chw, S, [0, 255]);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      for (let c = 0; c < 3; c++) {
        const v = c * 100 + (y * S + x) * 10;
        assert.equal(out[(y * S + x) * 3 + c], Math.min(v, 255), `pixel ${x},${y} ch ${c}`);
      }
    }
  }
  // range [0, 2]: 1 -> 127.5 -> 128 (ties up), 0.5 -> 63.75 -> 64, 2.5 -> 255, -0.1 -> 0
  const small = toRgbBytes(new Float32Array([1, 0.5, 2.5, -0.1, 1, 1, 1, 1, 1, 1, 1, 1]), 2, [0, 2]);
  assert.deepEqual([small[0], small[3], small[6], small[9]], [128, 64, 255, 0]);
  assert.throws(() => toRgbBytes(new Float32Array(11), 2, [-1, 1]), RangeError);
  assert.throws(() => toRgbBytes(new Float32Array(12), 2, [1, 1]), RangeError);
});

test('contentTypeFor / isImageFormat', () => {
  assert.equal(contentTypeFor('png'), 'image/png');
  assert.equal(contentTypeFor('jpeg'), 'image/jpeg');
  assert.equal(contentTypeFor('webp'), 'image/webp');
  assert.equal(isImageFormat('webp'), true);
  assert.equal(isImageFormat('gif'), false);
});

test('encodeImage png: lossless round trip, no metadata chunks, deterministic', async () => {
  const w = 7;
  const h = 5;
  const rgb = pattern(w, h);
  const png = await encodeImage(rgb, w, h, { format: 'png' });
  const d = await decode(png);
  assert.deepEqual([d.width, d.height, d.channels], [w, h, 3]);
  assert.ok(d.data.equals(rgb));
  const chunks = pngChunkTypes(png);
  assert.equal(chunks[0], 'IHDR');
  assert.equal(chunks.at(-1), 'IEND');
  for (const meta of ['tIME', 'tEXt', 'zTXt', 'iTXt', 'eXIf', 'iCCP'])
    assert.ok(!chunks.includes(meta), `no ${meta} chunk`);
  const again = await encodeImage(Buffer.from(rgb), w, h, { format: 'png' });
  assert.ok(again.equals(png));
  const level9 = await encodeImage(rgb, w, h, { format: 'png', pngCompressionLevel: 9 });
  assert.ok((await decode(level9)).data.equals(rgb));
});

test('encodeImage png at native size (pngjs) and resized (sharp): the same header, only IHDR/IDAT/IEND, the level takes effect', async () => {
  // A smooth gradient compresses, so the zlib level shows in the size.
  const w = 48;
  const rgb = Buffer.alloc(w * w * 3);
  for (let i = 0; i < w * w; i++) rgb.fill(Math.floor(i / 9) & 255, 3 * i, 3 * i + 3);
  const stored = await encodeImage(rgb, w, w, { format: 'png', pngCompressionLevel: 0 });
  const best = await encodeImage(rgb, w, w, { format: 'png', pngCompressionLevel: 9 });
  assert.ok(
    best.length < stored.length / 4,
    `level 9 (${best.length} bytes) is much smaller than level 0 (${stored.length})`,
  );
  const upscaled = await encodeImage(rgb, w, w, { format: 'png', outputSize: 2 * w });
  for (const png of [stored, best]) {
    assert.deepEqual(new Set(pngChunkTypes(png)), new Set(['IHDR', 'IDAT', 'IEND']));
    assert.ok((await decode(png)).data.equals(rgb));
    // IHDR after the width and height: bit depth 8, colour type 2 (RGB), deflate, filter method 0, not interlaced.
    assert.deepEqual([...png.subarray(24, 29)], [...upscaled.subarray(24, 29)]);
  }
});

test('encodeImage png: pngjs up to PNGJS_MAX_PIXELS unresized, sharp above it and whenever resized', async () => {
  const side = Math.sqrt(PNGJS_MAX_PIXELS);
  const small = pattern(side, side, 3);
  const large = pattern(side + 1, side, 4);
  const viaSharp = (rgb: Buffer, w: number, h: number) =>
    sharp(rgb, { raw: { width: w, height: h, channels: 3 } })
      .png(sharpPngOptions(6))
      .toBuffer();
  assert.ok(
    (await encodeImage(small, side, side, { format: 'png' })).equals(encodePng(small, side, side, 6)),
    'at the limit: pngjs',
  );
  const largePng = await encodeImage(large, side + 1, side, { format: 'png' });
  assert.ok(largePng.equals(await viaSharp(large, side + 1, side)), 'one column over the limit: sharp');
  assert.ok(
    !largePng.equals(encodePng(large, side + 1, side, 6)),
    'the two encoders write different bytes, so the routing is visible',
  );
  assert.ok((await decode(largePng)).data.equals(large));
});

test('encodeImage: nearest upscale turns each pixel into a k x k block', async () => {
  for (const [w, h, k] of [
    [4, 4, 4],
    [5, 3, 3],
  ]) {
    const rgb = pattern(w, h, w * 31 + k);
    const png = await encodeImage(rgb, w, h, { format: 'png', outputSize: w * k });
    const d = await decode(png);
    assert.deepEqual([d.width, d.height], [w * k, h * k]);
    for (let y = 0; y < h * k; y++) {
      for (let x = 0; x < w * k; x++) {
        const si = (Math.floor(y / k) * w + Math.floor(x / k)) * 3;
        const di = (y * w * k + x) * 3;
        assert.deepEqual([...d.data.subarray(di, di + 3)], [...rgb.subarray(si, si + 3)], `pixel ${x},${y}`);
      }
    }
  }
});

test('encodeImage: lanczos3 changes pixels, is deterministic; outputSize < width rejected', async () => {
  const w = 8;
  const rgb = pattern(w, w, 7);
  const nearest = await decode(await encodeImage(rgb, w, w, { format: 'png', outputSize: 32 }));
  const a = await encodeImage(rgb, w, w, { format: 'png', outputSize: 32, kernel: 'lanczos3' });
  const b = await encodeImage(rgb, w, w, { format: 'png', outputSize: 32, kernel: 'lanczos3' });
  assert.ok(a.equals(b));
  const lanczos = await decode(a);
  assert.deepEqual([lanczos.width, lanczos.height], [32, 32]);
  assert.ok(!lanczos.data.equals(nearest.data));
  await assert.rejects(encodeImage(rgb, w, w, { format: 'png', outputSize: 4 }), RangeError);
  await assert.rejects(encodeImage(rgb, w, w + 1, { format: 'png' }), RangeError);
  await assert.rejects(encodeImage(rgb, w, w, { format: 'jpeg', quality: 0 }), RangeError);
});

test('encodeImage: jpeg and webp decode to the right size and are deterministic', async () => {
  const w = 16;
  const h = 12;
  // smooth gradient so lossy codecs stay close
  const rgb = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rgb.set([x * 12, y * 16, 128], (y * w + x) * 3);
  for (const format of ['jpeg', 'webp'] as const) {
    const enc = await encodeImage(rgb, w, h, { format, outputSize: 32 });
    const meta = await sharp(enc).metadata();
    assert.equal(meta.format, format);
    assert.deepEqual([meta.width, meta.height], [32, 24]);
    const again = await encodeImage(rgb, w, h, { format, outputSize: 32 });
    assert.ok(again.equals(enc), `${format} deterministic`);
    const plain = await decode(await encodeImage(rgb, w, h, { format, quality: 95 }));
    assert.deepEqual([plain.width, plain.height], [w, h]);
    let err = 0;
    for (let i = 0; i < rgb.length; i++) err += Math.abs(plain.data[i] - rgb[i]);
    assert.ok(err / rgb.length < 8, `${format} mean abs error ${err / rgb.length}`);
  }
});

test('composeGrid: row-major placement, padding and empty cells', () => {
  const T = 3;
  const tiles = [0, 1, 2, 3, 4].map((i) => pattern(T, T, 100 + i));
  const bg: [number, number, number] = [10, 20, 30];
  const g = composeGrid(tiles, T, { background: bg });
  // columns = ceil(sqrt(5)) = 3, rows = 2
  assert.equal(g.width, 3 * T + 2 * 2);
  assert.equal(g.height, 2 * T + 1 * 2);
  assert.equal(g.rgb.length, g.width * g.height * 3);
  const px = (x: number, y: number) => [...g.rgb.subarray((y * g.width + x) * 3, (y * g.width + x) * 3 + 3)];
  const owner = new Map<string, number>();
  tiles.forEach((tile, i) => {
    const x0 = (i % 3) * (T + 2);
    const y0 = Math.floor(i / 3) * (T + 2);
    for (let y = 0; y < T; y++) {
      for (let x = 0; x < T; x++) {
        assert.deepEqual(
          px(x0 + x, y0 + y),
          [...tile.subarray((y * T + x) * 3, (y * T + x) * 3 + 3)],
          `tile ${i} px ${x},${y}`,
        );
        owner.set(`${x0 + x},${y0 + y}`, i);
      }
    }
  });
  for (let y = 0; y < g.height; y++) {
    for (let x = 0; x < g.width; x++) if (!owner.has(`${x},${y}`)) assert.deepEqual(px(x, y), bg, `bg at ${x},${y}`);
  }
  // explicit columns, zero padding, default white background
  const g2 = composeGrid(tiles, T, { columns: 2, padding: 0 });
  assert.deepEqual([g2.width, g2.height], [6, 9]);
  assert.deepEqual([...g2.rgb.subarray((2 * T * 6 + T) * 3, (2 * T * 6 + T) * 3 + 3)], [255, 255, 255]);
  assert.ok(g2.rgb.subarray(2 * T * 6 * 3, 2 * T * 6 * 3 + 9).equals(tiles[4].subarray(0, 9)));
  // columns capped at n
  const g3 = composeGrid(tiles.slice(0, 2), T, { columns: 8 });
  assert.deepEqual([g3.width, g3.height], [2 * T + 2, T]);
  assert.throws(() => composeGrid([], T), RangeError);
  assert.throws(() => composeGrid([Buffer.alloc(5)], T), RangeError);
});
