/**
 * Training data: an ImageFolder directory (one sub-folder per class), optional Pascal-VOC bounding
 * boxes, decoded once with sharp into a uint8 cache file, then sampled in shuffled epochs with
 * random horizontal flips.
 *
 * - Class names come from folder names, normalised to snake_case with a WordNet id prefix removed:
 *   `n02109525-Saint_Bernard` -> `saint_bernard`. Classes are sorted by folder name.
 * - A directory whose class folders sit under `Images/` (the Stanford Dogs layout) is accepted as is.
 * - With annotations (`<annotations>/<class folder>/<image id>` or `.xml`), the image is cropped to
 *   the largest box, widened to a square around it (clamped to the image), then resized; without,
 *   the centre square is used.
 * - Images sharp cannot decode are skipped and counted.
 * - The decoded set is cached (default `<run>/dataset-<size>.bin`), keyed by a fingerprint of the file
 *   list (paths, sizes, mtimes), the size and the crop mode, so later runs and epochs do not decode.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { epochPermutation, type Rng } from './rng.js';
import type { BatchSource } from './trainer.js';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif', '.bmp']);
const CACHE_MAGIC = 'SAGANDS1';

/** `n02109525-Saint_Bernard` -> `saint_bernard`; `German shepherd` -> `german_shepherd`. */
export function normaliseClassName(folder: string): string {
  const stripped = folder.replace(/^n\d{8}[-_]/, '');
  const snake = stripped
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return snake || folder.toLowerCase();
}

export interface ImageEntry {
  file: string;
  label: number;
  folder: string;
  /** File name without extension (the annotation's name). */
  id: string;
}

export interface ScannedDataset {
  root: string;
  folders: string[];
  classes: string[];
  entries: ImageEntry[];
}

async function listDirs(dir: string): Promise<string[]> {
  const items = await readdir(dir, { withFileTypes: true });
  return items
    .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
    .map((d) => d.name)
    .sort();
}

/** Lists class folders and their images. */
export async function scanImageFolder(dataDir: string): Promise<ScannedDataset> {
  let root = dataDir;
  let folders = await listDirs(root);
  if (folders.includes('Images')) {
    root = path.join(root, 'Images');
    folders = await listDirs(root);
  }
  const entries: ImageEntry[] = [];
  const used: string[] = [];
  for (const folder of folders) {
    const files = (await readdir(path.join(root, folder), { withFileTypes: true }))
      .filter((f) => f.isFile() && IMAGE_EXTENSIONS.has(path.extname(f.name).toLowerCase()))
      .map((f) => f.name)
      .sort();
    if (files.length === 0) continue;
    const label = used.length;
    used.push(folder);
    for (const name of files)
      entries.push({ file: path.join(root, folder, name), label, folder, id: path.basename(name, path.extname(name)) });
  }
  if (entries.length === 0)
    throw new Error(`no images under ${dataDir} (expected <dir>/<class>/<image>.jpg, or <dir>/Images/<class>/...)`);
  const classes = used.map(normaliseClassName);
  const dup = classes.find((c, i) => classes.indexOf(c) !== i);
  if (dup) throw new Error(`two class folders normalise to the same name '${dup}'`);
  return { root, folders: used, classes, entries };
}

export interface Box {
  xmin: number;
  ymin: number;
  xmax: number;
  ymax: number;
}

/** Bounding boxes of a Pascal-VOC annotation (all <object>s). */
export function parseVocBoxes(xml: string): Box[] {
  const boxes: Box[] = [];
  const re = /<bndbox>([\s\S]*?)<\/bndbox>/g;
  for (let m = re.exec(xml); m; m = re.exec(xml)) {
    const get = (tag: string): number => {
      const t = new RegExp(`<${tag}>\\s*([-0-9.]+)\\s*</${tag}>`).exec(m[1]);
      return t ? Number(t[1]) : NaN;
    };
    const b = { xmin: get('xmin'), ymin: get('ymin'), xmax: get('xmax'), ymax: get('ymax') };
    if ([b.xmin, b.ymin, b.xmax, b.ymax].every(Number.isFinite) && b.xmax > b.xmin && b.ymax > b.ymin) boxes.push(b);
  }
  return boxes;
}

/** The square crop: around the largest box (widened to a square, clamped), or the centre square. */
export function squareCrop(width: number, height: number, box?: Box): { left: number; top: number; side: number } {
  const maxSide = Math.min(width, height);
  if (!box) return { left: Math.floor((width - maxSide) / 2), top: Math.floor((height - maxSide) / 2), side: maxSide };
  const x0 = Math.max(0, Math.min(width, box.xmin));
  const x1 = Math.max(0, Math.min(width, box.xmax));
  const y0 = Math.max(0, Math.min(height, box.ymin));
  const y1 = Math.max(0, Math.min(height, box.ymax));
  const side = Math.max(1, Math.min(maxSide, Math.round(Math.max(x1 - x0, y1 - y0))));
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  const left = Math.round(Math.min(Math.max(cx - side / 2, 0), width - side));
  const top = Math.round(Math.min(Math.max(cy - side / 2, 0), height - side));
  return { left, top, side };
}

async function readBox(annotations: string | undefined, entry: ImageEntry): Promise<Box | undefined> {
  if (!annotations) return undefined;
  for (const name of [entry.id, `${entry.id}.xml`]) {
    try {
      const boxes = parseVocBoxes(await readFile(path.join(annotations, entry.folder, name), 'utf8'));
      if (boxes.length === 0) return undefined;
      return boxes.reduce((a, b) =>
        (b.xmax - b.xmin) * (b.ymax - b.ymin) > (a.xmax - a.xmin) * (a.ymax - a.ymin) ? b : a,
      );
    } catch {
      // try the next name
    }
  }
  return undefined;
}

/** Decodes one image to size x size RGB (packed HWC uint8). */
export async function decodeImage(file: string, size: number, box?: Box): Promise<Buffer> {
  const meta = await sharp(file).metadata();
  if (!meta.width || !meta.height) throw new Error('no dimensions');
  const crop = squareCrop(meta.width, meta.height, box);
  const { data, info } = await sharp(file)
    .extract({ left: crop.left, top: crop.top, width: crop.side, height: crop.side })
    .resize(size, size, { fit: 'fill', kernel: 'lanczos3' })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || data.length !== size * size * 3)
    throw new Error(`decoded to ${info.width}x${info.height}x${info.channels}`);
  return data;
}

export interface DecodedDataset {
  size: number;
  classes: string[];
  folders: string[];
  /** Per image: class index. */
  labels: Int32Array;
  /** n * size * size * 3 uint8 RGB, HWC per image. */
  pixels: Uint8Array;
  count: number;
  skipped: number;
  /** Images without a usable box although annotations were given. */
  noBox: number;
  fingerprint: string;
  /** True when it came from the cache file. */
  fromCache: boolean;
  source: string;
  annotations?: string;
}

export interface LoadOptions {
  data: string;
  annotations?: string;
  size: number;
  /** Cache file; undefined disables caching. */
  cacheFile?: string;
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}

async function fingerprint(scan: ScannedDataset, size: number, annotations: string | undefined): Promise<string> {
  const h = createHash('sha256');
  h.update(`v1|${size}|${annotations ? path.resolve(annotations) : '-'}|`);
  for (const e of scan.entries) {
    const s = await stat(e.file);
    h.update(`${path.relative(scan.root, e.file)}|${s.size}|${Math.floor(s.mtimeMs)}|${e.label}\n`);
  }
  return h.digest('hex').slice(0, 32);
}

interface CacheHeader {
  magic: string;
  fingerprint: string;
  size: number;
  count: number;
  classes: string[];
  folders: string[];
  skipped: number;
  noBox: number;
}

async function readCache(file: string, fp: string): Promise<DecodedDataset | undefined> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch {
    return undefined;
  }
  if (buf.length < 12 || buf.subarray(0, 8).toString('latin1') !== CACHE_MAGIC) return undefined;
  const headerLen = buf.readUInt32LE(8);
  const header = JSON.parse(buf.subarray(12, 12 + headerLen).toString('utf8')) as CacheHeader;
  if (header.fingerprint !== fp) return undefined;
  let at = 12 + headerLen;
  const labels = new Int32Array(header.count);
  for (let i = 0; i < header.count; i++) labels[i] = buf.readInt32LE(at + 4 * i);
  at += 4 * header.count;
  const pixels = new Uint8Array(buf.subarray(at, at + header.count * header.size * header.size * 3));
  if (pixels.length !== header.count * header.size * header.size * 3) return undefined;
  return {
    size: header.size,
    classes: header.classes,
    folders: header.folders,
    labels,
    pixels,
    count: header.count,
    skipped: header.skipped,
    noBox: header.noBox,
    fingerprint: fp,
    fromCache: true,
    source: '',
  };
}

async function writeCache(file: string, d: DecodedDataset): Promise<void> {
  const header: CacheHeader = {
    magic: CACHE_MAGIC,
    fingerprint: d.fingerprint,
    size: d.size,
    count: d.count,
    classes: d.classes,
    folders: d.folders,
    skipped: d.skipped,
    noBox: d.noBox,
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const head = Buffer.alloc(12);
  head.write(CACHE_MAGIC, 0, 'latin1');
  head.writeUInt32LE(json.length, 8);
  const labels = Buffer.from(d.labels.buffer, d.labels.byteOffset, d.labels.byteLength);
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(
    tmp,
    Buffer.concat([head, json, labels, Buffer.from(d.pixels.buffer, d.pixels.byteOffset, d.pixels.byteLength)]),
  );
  await rename(tmp, file);
}

/** Scans, then loads the decoded set from the cache or decodes it (and writes the cache). */
export async function loadDataset(opts: LoadOptions): Promise<DecodedDataset> {
  const scan = await scanImageFolder(opts.data);
  const fp = await fingerprint(scan, opts.size, opts.annotations);
  if (opts.cacheFile) {
    const cached = await readCache(opts.cacheFile, fp);
    if (cached) return { ...cached, source: opts.data, annotations: opts.annotations };
  }
  const n = scan.entries.length;
  const plane = opts.size * opts.size * 3;
  const decoded = new Array<Buffer | undefined>(n);
  let noBox = 0;
  let done = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < n; i = next++) {
      const e = scan.entries[i];
      const box = await readBox(opts.annotations, e);
      if (opts.annotations && !box) noBox += 1;
      try {
        decoded[i] = await decodeImage(e.file, opts.size, box);
      } catch {
        decoded[i] = undefined;
      }
      done += 1;
      opts.onProgress?.(done, n);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 8) }, worker));
  const good = decoded.map((d, i) => (d ? i : -1)).filter((i) => i >= 0);
  const labels = new Int32Array(good.length);
  const pixels = new Uint8Array(good.length * plane);
  good.forEach((src, i) => {
    labels[i] = scan.entries[src].label;
    pixels.set(decoded[src]!, i * plane);
  });
  const result: DecodedDataset = {
    size: opts.size,
    classes: scan.classes,
    folders: scan.folders,
    labels,
    pixels,
    count: good.length,
    skipped: n - good.length,
    noBox,
    fingerprint: fp,
    fromCache: false,
    source: opts.data,
    annotations: opts.annotations,
  };
  if (result.count === 0) throw new Error(`none of the ${n} images under ${opts.data} could be decoded`);
  if (opts.cacheFile) await writeCache(opts.cacheFile, result);
  return result;
}

/** Per-class image counts. */
export function classCounts(d: DecodedDataset): number[] {
  const counts = new Array<number>(d.classes.length).fill(0);
  for (const l of d.labels) counts[l] += 1;
  return counts;
}

/**
 * Shuffled epochs over a decoded set (or a subset of its indices), random horizontal flips, images
 * as NHWC float32 in [-1, 1]. The epoch order depends only on (seed, epoch); flips come from the
 * trainer's Rng; the position is checkpointed.
 */
export class DatasetSource implements BatchSource {
  readonly imageSize: number;
  readonly numClasses: number;
  private epoch = 0;
  private position = 0;
  private perm: Int32Array;
  private readonly indices: Int32Array;
  private readonly flip: boolean;

  constructor(
    readonly data: DecodedDataset,
    private readonly seed: number,
    opts: { indices?: Int32Array; flip?: boolean } = {},
  ) {
    this.imageSize = data.size;
    this.numClasses = data.classes.length;
    this.indices = opts.indices ?? Int32Array.from({ length: data.count }, (_, i) => i);
    if (this.indices.length === 0) throw new Error('empty dataset');
    this.flip = opts.flip ?? true;
    this.perm = epochPermutation(this.indices.length, this.seed, this.epoch);
  }

  get size(): number {
    return this.indices.length;
  }

  next(batch: number, rng: Rng): { images: Float32Array; labels: Int32Array } {
    const S = this.imageSize;
    const plane = S * S * 3;
    const images = new Float32Array(batch * plane);
    const labels = new Int32Array(batch);
    for (let b = 0; b < batch; b++) {
      if (this.position >= this.perm.length) {
        this.epoch += 1;
        this.position = 0;
        this.perm = epochPermutation(this.indices.length, this.seed, this.epoch);
      }
      const idx = this.indices[this.perm[this.position++]];
      labels[b] = this.data.labels[idx];
      const flip = this.flip && rng.uniform() < 0.5;
      const src = idx * plane;
      const dst = b * plane;
      for (let y = 0; y < S; y++) {
        for (let x = 0; x < S; x++) {
          const sx = flip ? S - 1 - x : x;
          const s = src + (y * S + sx) * 3;
          const d = dst + (y * S + x) * 3;
          images[d] = this.data.pixels[s] / 127.5 - 1;
          images[d + 1] = this.data.pixels[s + 1] / 127.5 - 1;
          images[d + 2] = this.data.pixels[s + 2] / 127.5 - 1;
        }
      }
    }
    return { images, labels };
  }

  state(): { epoch: number; position: number } {
    return { epoch: this.epoch, position: this.position };
  }

  restore(state: unknown): void {
    const s = state as { epoch: number; position: number };
    this.epoch = s.epoch;
    this.position = s.position;
    this.perm = epochPermutation(this.indices.length, this.seed, this.epoch);
  }
}
