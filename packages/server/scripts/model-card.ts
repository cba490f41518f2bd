/**
 * Renders a model card's images through the real server, so the card shows exactly what users get:
 *
 *   npm run model-card -- --model-dir models/dogs64
 *
 * writes `<model-dir>/samples.png` (one row per class, the same seeds in every row, so a column shares its
 * latent across classes) and `<model-dir>/attention.png` (one attention panel per class, the paper's
 * Figure 1 layout). Every tile is a `GET /generate` answered by the CLI started with MODELS_DIR set to the
 * model directory's parent, and the URLs are printed so a reader can fetch any tile themselves.
 */
import path from 'node:path';
import { Command } from 'commander';
import sharp from 'sharp';
import { readModelManifest } from '@sagan-serve/model-contract/manifest-file';
import { intList, positiveNumber } from './bench/report.js';
import { startChildServer } from './reliability/child-server.js';
import { send } from './reliability/http-client.js';

const GAP_PX = 4;

const program = new Command()
  .name('model-card')
  .description("Render a model's card images (class x seed grid, attention panels) through the real server")
  .requiredOption('--model-dir <dir>', 'model directory (model.json + ONNX file)')
  .option('--seeds <list>', 'seeds of the grid columns', intList, [1, 2, 3, 4, 5, 6, 7, 8])
  .option('--tile <px>', 'tile side in the grid (lanczos3 upscaling from the model size)', positiveNumber, 128)
  .option('--attention-seed <n>', 'seed of the attention panels', positiveNumber, 1)
  .option(
    '--query <x,y...>',
    'attention query points in model pixels, ";"-separated (default: eye, centre, background)',
  )
  .parse();

const opts = program.opts<{ modelDir: string; seeds: number[]; tile: number; attentionSeed: number; query?: string }>();
const modelDir = path.resolve(opts.modelDir);
const manifest = await readModelManifest(modelDir);
const size = manifest.image.size;
const queries = opts.query?.split(';') ?? [
  `${Math.round(size * 0.35)},${Math.round(size * 0.4)}`,
  `${size / 2},${Math.round(size * 0.6)}`,
  `${Math.round(size * 0.1)},${Math.round(size * 0.1)}`,
];

const server = await startChildServer({
  env: {
    MODELS_DIR: path.dirname(modelDir),
    DEFAULT_MODEL: manifest.name,
    MAX_IMAGE_SIZE: String(Math.max(opts.tile, size)),
  },
});
async function image(query: string): Promise<Buffer> {
  const url = `/v1/models/${encodeURIComponent(manifest.name)}/generate?${query}`;
  const res = await send(server.base, { method: 'GET', path: url, timeoutMs: 60_000 });
  if (res.status !== 200) throw new Error(`${url} -> ${res.status} ${res.body.toString('utf8').slice(0, 300)}`);
  return res.body;
}

/** Stacks equally sized images into rows with white gaps between them. */
async function compose(rows: Buffer[][], tileWidth: number, tileHeight: number): Promise<Buffer> {
  const columns = Math.max(...rows.map((r) => r.length));
  const width = columns * tileWidth + (columns - 1) * GAP_PX;
  const height = rows.length * tileHeight + (rows.length - 1) * GAP_PX;
  const composites = rows.flatMap((row, r) =>
    row.map((input, c) => ({ input, left: c * (tileWidth + GAP_PX), top: r * (tileHeight + GAP_PX) })),
  );
  return sharp({ create: { width, height, channels: 3, background: '#ffffff' } })
    .composite(composites)
    .png({ compressionLevel: 9 })
    .toBuffer();
}

try {
  const grid: Buffer[][] = [];
  for (const cls of manifest.classes) {
    grid.push(
      await Promise.all(
        opts.seeds.map((seed) => image(`class=${cls}&seed=${seed}&size=${opts.tile}&resample=lanczos3`)),
      ),
    );
  }
  await sharp(await compose(grid, opts.tile, opts.tile)).toFile(path.join(modelDir, 'samples.png'));
  console.log(
    `wrote ${path.join(opts.modelDir, 'samples.png')}: rows ${manifest.classes.join(', ')}; columns seeds ${opts.seeds.join(', ')}`,
  );
  console.log(`  each tile: GET /generate?class=<row>&seed=<column>&size=${opts.tile}&resample=lanczos3`);

  if (manifest.attention) {
    const q = queries.map((p) => `query=${p}`).join('&');
    const panels = await Promise.all(
      manifest.classes.map((cls) => image(`class=${cls}&seed=${opts.attentionSeed}&attention=panel&${q}`)),
    );
    const { width, height } = await sharp(panels[0]).metadata();
    const scale = Math.max(1, Math.floor(opts.tile / size));
    const scaled = await Promise.all(
      panels.map((p) =>
        sharp(p)
          .resize(width * scale, height * scale, { kernel: 'nearest' })
          .png()
          .toBuffer(),
      ),
    );
    await sharp(
      await compose(
        scaled.map((p) => [p]),
        width * scale,
        height * scale,
      ),
    ).toFile(path.join(modelDir, 'attention.png'));
    console.log(
      `wrote ${path.join(opts.modelDir, 'attention.png')}: one panel per class, seed ${opts.attentionSeed}, queries ${queries.join(' ')}`,
    );
    console.log(
      `  each panel: GET /generate?class=<row>&seed=${opts.attentionSeed}&attention=panel&${q} (shown ${scale}x, nearest)`,
    );
  }
} finally {
  await server.stop();
}
