/**
 * Data pipeline: class-name normalisation, ImageFolder scan (incl. the Images/ layout), Pascal-VOC box
 * crops, undecodable images skipped and counted, the decode cache, deterministic sampling and flips.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import {
  DatasetSource,
  loadDataset,
  normaliseClassName,
  parseVocBoxes,
  scanImageFolder,
  squareCrop,
} from '../src/lib/data.js';
import { Rng } from '../src/lib/rng.js';

test('class folder names normalise to snake_case without WordNet ids', () => {
  assert.equal(normaliseClassName('n02109525-Saint_Bernard'), 'saint_bernard');
  assert.equal(normaliseClassName('n02085936-Maltese_dog'), 'maltese_dog');
  assert.equal(normaliseClassName('n02106662-German_shepherd'), 'german_shepherd');
  assert.equal(normaliseClassName('golden_retriever'), 'golden_retriever');
  assert.equal(normaliseClassName('Golden Retriever'), 'golden_retriever');
  assert.equal(normaliseClassName('airplane'), 'airplane');
  assert.equal(normaliseClassName('GoldenRetriever'), 'golden_retriever');
});

test('Pascal-VOC boxes and square crops', () => {
  const xml =
    '<annotation><object><bndbox><xmin>10</xmin><ymin>20</ymin><xmax>50</xmax><ymax>40</ymax></bndbox></object>' +
    '<object><bndbox><xmin>0</xmin><ymin>0</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object></annotation>';
  assert.deepEqual(parseVocBoxes(xml), [
    { xmin: 10, ymin: 20, xmax: 50, ymax: 40 },
    { xmin: 0, ymin: 0, xmax: 5, ymax: 5 },
  ]);
  assert.deepEqual(squareCrop(100, 60), { left: 20, top: 0, side: 60 });
  // 40x20 box -> 40x40 square centred on it
  assert.deepEqual(squareCrop(100, 60, { xmin: 10, ymin: 20, xmax: 50, ymax: 40 }), { left: 10, top: 10, side: 40 });
  // box near the edge: shifted inside; box larger than the short side: clamped
  assert.deepEqual(squareCrop(100, 60, { xmin: 80, ymin: 0, xmax: 100, ymax: 10 }), { left: 80, top: 0, side: 20 });
  assert.deepEqual(squareCrop(100, 60, { xmin: 0, ymin: 0, xmax: 100, ymax: 60 }), { left: 20, top: 0, side: 60 });
});

/** A tiny Stanford-Dogs-like tree: Images/<wnid-Name>/<id>.jpg and Annotation/<wnid-Name>/<id>. */
async function makeTree(root: string): Promise<void> {
  const classes = [
    ['n00000001-Red_thing', [255, 0, 0]],
    ['n00000002-Blue_thing', [0, 0, 255]],
  ] as const;
  for (const [folder, rgb] of classes) {
    await mkdir(path.join(root, 'Images', folder), { recursive: true });
    await mkdir(path.join(root, 'Annotation', folder), { recursive: true });
    for (let i = 0; i < 3; i++) {
      // 40x20 image: left half black, right half the class colour
      const w = 40;
      const h = 20;
      const px = Buffer.alloc(w * h * 3);
      for (let y = 0; y < h; y++) for (let x = w / 2; x < w; x++) px.set(rgb, (y * w + x) * 3);
      await sharp(px, { raw: { width: w, height: h, channels: 3 } })
        .jpeg({ quality: 95 })
        .toFile(path.join(root, 'Images', folder, `img${i}.jpg`));
      // the box covers the coloured half
      await writeFile(
        path.join(root, 'Annotation', folder, `img${i}`),
        '<annotation><object><bndbox><xmin>20</xmin><ymin>0</ymin><xmax>40</xmax><ymax>20</ymax></bndbox></object></annotation>',
      );
    }
  }
  await writeFile(path.join(root, 'Images', classes[0][0], 'broken.jpg'), 'not a jpeg');
}

test('ImageFolder: scan, crop to boxes, skip undecodable files, cache', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'sagan-data-'));
  try {
    await makeTree(root);
    const scan = await scanImageFolder(root);
    assert.deepEqual(scan.classes, ['red_thing', 'blue_thing']);
    assert.equal(scan.entries.length, 7);
    const cacheFile = path.join(root, 'run', 'dataset-8.bin');
    const d = await loadDataset({ data: root, annotations: path.join(root, 'Annotation'), size: 8, cacheFile });
    assert.equal(d.count, 6);
    assert.equal(d.skipped, 1);
    assert.equal(d.fromCache, false);
    assert.deepEqual(Array.from(d.labels), [0, 0, 0, 1, 1, 1]);
    // cropped to the box: every pixel has the class colour (JPEG tolerance)
    for (let i = 0; i < 6; i++) {
      const want = d.labels[i] === 0 ? [255, 0, 0] : [0, 0, 255];
      for (let p = 0; p < 64; p++)
        for (let c = 0; c < 3; c++) assert.ok(Math.abs(d.pixels[(i * 64 + p) * 3 + c] - want[c]) < 40);
    }
    // without annotations: centre square -> half black
    const centre = await loadDataset({ data: root, size: 8 });
    assert.ok(centre.pixels[0] < 40, 'left columns come from the black half');
    const again = await loadDataset({ data: root, annotations: path.join(root, 'Annotation'), size: 8, cacheFile });
    assert.equal(again.fromCache, true);
    assert.deepEqual(again.pixels, d.pixels);
    assert.deepEqual(again.classes, d.classes);
    // a different size does not reuse the cache
    assert.equal((await loadDataset({ data: root, size: 4, cacheFile })).fromCache, false);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('DatasetSource: epochs cover every image, flips come from the rng, state restores the position', () => {
  const size = 2;
  const count = 5;
  const pixels = new Uint8Array(count * size * size * 3);
  for (let i = 0; i < count; i++)
    for (let p = 0; p < size * size; p++)
      pixels.set([i * 10, p < 2 ? (p === 0 ? 0 : 255) : 0, 0], (i * size * size + p) * 3);
  const data = {
    size,
    classes: ['a', 'b'],
    folders: ['a', 'b'],
    labels: Int32Array.from([0, 1, 0, 1, 0]),
    pixels,
    count,
    skipped: 0,
    noBox: 0,
    fingerprint: 'x',
    fromCache: false,
    source: 'mem',
  };
  const src = new DatasetSource(data, 42);
  const rng = new Rng(1);
  const seen = new Set<number>();
  const batch = src.next(5, rng);
  for (let b = 0; b < 5; b++)
    seen.add(
      Math.round(((batch.images[b * 12] + 1) * 127.5) / 10) ||
        Math.round(((batch.images[b * 12 + 3] + 1) * 127.5) / 10),
    );
  assert.equal(seen.size, 5, 'one epoch = every image once');
  const state = src.state();
  const rngState = rng.state();
  const a = src.next(3, rng);
  const copy = new DatasetSource(data, 42);
  copy.restore(state);
  const b = copy.next(3, new Rng(rngState));
  assert.deepEqual(a, b);
  // flips: pixel 1 of row 0 (bright green) moves to pixel 0 when flipped
  let flipped = 0;
  for (let i = 0; i < 40; i++) {
    const x = src.next(1, rng).images;
    if (x[1] > 0.9) flipped += 1; // green of pixel 0 set -> flipped
  }
  assert.ok(flipped > 5 && flipped < 35, `about half flipped (${flipped}/40)`);
});
