/**
 * Sample grids during training: the EMA generator in inference mode (what export ships) on a fixed
 * set of latents, one row per class, `perClass` columns; PNG through the model contract's image.ts.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { latentForSeed } from '@sagan-serve/model-contract/seeded-latent';
import { composeGrid, encodeImage, toRgbBytes } from '@sagan-serve/model-contract/image';
import { runTfjsGenerator, type ParityInputs } from './export-model.js';
import type { Trainer } from './trainer.js';

/** Fixed inputs: column j uses seed j (server seed convention) in every class row. */
export function gridInputs(zDim: number, numClasses: number, perClass: number): ParityInputs {
  const batch = numClasses * perClass;
  const z = new Float32Array(batch * zDim);
  const y = new Int32Array(batch);
  for (let k = 0; k < numClasses; k++) {
    for (let j = 0; j < perClass; j++) {
      z.set(latentForSeed(j, zDim), (k * perClass + j) * zDim);
      y[k * perClass + j] = k;
    }
  }
  return { z, y, batch };
}

/** Renders the grid PNG (batched by `chunk` samples) and returns its path. */
export async function writeSampleGrid(trainer: Trainer, file: string, perClass = 8, chunk = 64): Promise<string> {
  const { zDim, numClasses, imageSize } = trainer.model.g;
  const { weights, stats } = await trainer.inferenceWeights();
  const inputs = gridInputs(zDim, numClasses, perClass);
  const tiles: Buffer[] = [];
  const plane = 3 * imageSize * imageSize;
  for (let start = 0; start < inputs.batch; start += chunk) {
    const n = Math.min(chunk, inputs.batch - start);
    const part: ParityInputs = {
      z: inputs.z.subarray(start * zDim, (start + n) * zDim),
      y: inputs.y.subarray(start, start + n),
      batch: n,
    };
    const out = await runTfjsGenerator(trainer.model, trainer.gLayout, trainer.sLayout, weights, stats, part);
    for (let i = 0; i < n; i++)
      tiles.push(toRgbBytes(out.image.subarray(i * plane, (i + 1) * plane), imageSize, [-1, 1]));
  }
  const grid = composeGrid(tiles, imageSize, { columns: perClass, padding: 2 });
  const scale = imageSize < 64 ? Math.ceil(64 / imageSize) : 1;
  const png = await encodeImage(grid.rgb, grid.width, grid.height, { format: 'png', outputSize: grid.width * scale });
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, png);
  return file;
}
