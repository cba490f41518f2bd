/**
 * `npm run bench:png`: the two PNG encoders the server uses, on the same pixels, one size at a time.
 * pngjs (encodePng, synchronous on the calling thread) writes a PNG at the generator's resolution;
 * sharp (libvips, libuv's pool) writes resized ones. Both use filter type 0 and zlib at the same level.
 *
 * Pixels: one generator image of --model-dir, resized with sharp's bicubic kernel to each --sizes side
 * (so the larger sizes stand for a larger generator's output, not for nearest-neighbour upscales, which
 * compress far better), plus nearest-neighbour upscales when --nearest is given.
 * Per size and encoder: ms for one image alone (mean of back-to-back encodes), images/s with the whole
 * machine (sharp: --concurrency encodes in flight; pngjs: one thread, times the cores, which is what
 * RENDER_THREADS of them would reach at best), and bytes.
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import sharp from 'sharp';
import { encodePng, sharpPngOptions, toRgbBytes } from '@sagan-serve/model-contract/image';
import { RawBench } from './bench/raw.js';
import { fmt, intList, nonNegativeInt, positiveNumber, table, timestamp, writeJson } from './bench/report.js';
import { timeConcurrently, timeRuns } from './bench/timed-runs.js';

interface Options {
  modelDir: string;
  sizes: number[];
  level: number;
  seconds: number;
  concurrency: number;
  nearest: boolean;
  out?: string;
}

const program = new Command('bench:png')
  .description('Compare the PNG encoders (pngjs on the calling thread, sharp on libuv) on generator output')
  .option('--model-dir <dir>', 'model whose output is encoded', 'models/dogs64')
  .option('--sizes <list>', 'image sides in px', intList, [64, 128, 256])
  .option('--level <n>', 'zlib level 0-9', nonNegativeInt, 6)
  .option('--seconds <s>', 'timed seconds per measurement', positiveNumber, 1)
  .option('--concurrency <n>', 'sharp encodes in flight', positiveNumber, 8)
  .option('--nearest', 'also nearest-neighbour upscales of the generator image (what size= requests make)', false)
  .option('--out <file>', 'JSON results (default bench-results/png-<timestamp>.json)');

/** One generator image (seed 7, class 7 mod the class count), as the server converts it. */
async function generatorImage(modelDir: string): Promise<{ rgb: Buffer; size: number }> {
  const bench = await RawBench.open(modelDir, ['cpu'], 0);
  try {
    const { size, range } = bench.manifest.image;
    return { rgb: toRgbBytes(await bench.runOnce(1, 7), size, range), size };
  } finally {
    await bench.close();
  }
}

/** Mean ms per call of `encode`, back to back, for about `seconds`. */
async function msPerImage(encode: () => Promise<Buffer> | Buffer, seconds: number): Promise<number> {
  const { times, wallSeconds } = await timeRuns(async () => encode(), { seconds, warmupRuns: 20 });
  return (wallSeconds * 1000) / times.length;
}

async function sharpRate(encode: () => Promise<Buffer>, seconds: number, concurrency: number): Promise<number> {
  const { calls, wallSeconds } = await timeConcurrently(encode, { seconds, concurrency });
  return calls / wallSeconds;
}

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<Options>();
  const cores = availableParallelism();
  const source = await generatorImage(o.modelDir);
  const cases: { label: string; side: number; kernel: 'cubic' | 'nearest' }[] = o.sizes.map((side) => ({
    label: `${side} (bicubic)`,
    side,
    kernel: 'cubic',
  }));
  if (o.nearest)
    for (const side of o.sizes)
      if (side > source.size) cases.push({ label: `${side} (nearest)`, side, kernel: 'nearest' });
  const rows = [];
  for (const c of cases) {
    const rgb =
      c.side === source.size
        ? source.rgb
        : await sharp(source.rgb, { raw: { width: source.size, height: source.size, channels: 3 } })
            .resize(c.side, c.side, { kernel: c.kernel, fit: 'fill' })
            .raw()
            .toBuffer();
    const viaSharp = () =>
      sharp(rgb, { raw: { width: c.side, height: c.side, channels: 3 } })
        .png(sharpPngOptions(o.level))
        .toBuffer();
    const viaPngjs = () => encodePng(rgb, c.side, c.side, o.level);
    const [a, b] = [await viaSharp(), viaPngjs()];
    const same = (await sharp(a).raw().toBuffer()).equals(await sharp(b).raw().toBuffer());
    if (!same) throw new Error(`the encoders disagree on the pixels at ${c.label}`);
    const pngjsMs = await msPerImage(viaPngjs, o.seconds);
    rows.push({
      image: c.label,
      sharpMsAlone: await msPerImage(viaSharp, o.seconds),
      sharpImagesPerSecond: await sharpRate(viaSharp, o.seconds, o.concurrency),
      sharpBytes: a.length,
      pngjsMsAlone: pngjsMs,
      pngjsImagesPerSecondAllCores: (1000 / pngjsMs) * cores,
      pngjsBytes: b.length,
    });
  }
  const out = [
    `\nPNG encoders (zlib level ${o.level}, filter 0; ${cores} cores; generator image of ${o.modelDir}, decoded pixels identical):`,
    table(
      [
        'image',
        'sharp ms alone',
        `sharp images/s (${o.concurrency} in flight)`,
        'sharp bytes',
        'pngjs ms alone',
        `pngjs images/s (x ${cores} cores)`,
        'pngjs bytes',
      ],
      rows.map((r) => [
        r.image,
        fmt(r.sharpMsAlone, 3),
        fmt(r.sharpImagesPerSecond, 0),
        r.sharpBytes,
        fmt(r.pngjsMsAlone, 3),
        fmt(r.pngjsImagesPerSecondAllCores, 0),
        r.pngjsBytes,
      ]),
    ),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  const file = await writeJson(o.out ?? path.join('bench-results', `png-${timestamp()}.json`), {
    options: o,
    cores,
    rows,
  });
  process.stderr.write(`[bench:png] wrote ${file}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
