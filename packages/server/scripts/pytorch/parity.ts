/**
 * Compares what a running sagan-serve returns for a PyTorch-exported generator with PyTorch's own images
 * (reference.json, written by scripts/pytorch/export_sagan.py). Each reference sample is requested twice:
 * by its explicit z (POST /generate) and by its seed (GET /generate?seed=), which also holds the server's
 * seed-to-latent contract against the model contract's reference/latent.py. Differences are in 8-bit levels (0..255).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';

export interface PytorchReference {
  size: number;
  samples: Array<{ seed: number; class: number; z: number[]; rgb_base64: string }>;
}

export interface ParityResult {
  seed: number;
  class: number;
  /** Largest per-channel difference, in 8-bit levels, between PyTorch's pixels and the served PNG's. */
  maxDiffByZ: number;
  maxDiffBySeed: number;
}

export async function readPytorchReference(modelDir: string): Promise<PytorchReference> {
  return JSON.parse(await readFile(path.join(modelDir, 'reference.json'), 'utf8')) as PytorchReference;
}

async function servedPixels(res: Response, what: string): Promise<Buffer> {
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${await res.text()}`);
  return sharp(Buffer.from(await res.arrayBuffer()))
    .removeAlpha()
    .raw()
    .toBuffer();
}

function maxDifference(served: Buffer, expected: Buffer): number {
  if (served.length !== expected.length)
    throw new Error(`served ${served.length} bytes of RGB, PyTorch ${expected.length}`);
  let maxDiff = 0;
  for (let i = 0; i < expected.length; i++) maxDiff = Math.max(maxDiff, Math.abs(served[i] - expected[i]));
  return maxDiff;
}

async function compareSample(
  baseUrl: string,
  model: string,
  sample: PytorchReference['samples'][number],
): Promise<ParityResult> {
  const expected = Buffer.from(sample.rgb_base64, 'base64');
  const [byZ, bySeed] = await Promise.all([
    fetch(`${baseUrl}/v1/models/${model}/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ class: sample.class, z: sample.z }),
    }).then((res) => servedPixels(res, `seed ${sample.seed} by z`)),
    fetch(`${baseUrl}/v1/models/${model}/generate?class=${sample.class}&seed=${sample.seed}`).then((res) =>
      servedPixels(res, `seed ${sample.seed} by seed`),
    ),
  ]);
  return {
    seed: sample.seed,
    class: sample.class,
    maxDiffByZ: maxDifference(byZ, expected),
    maxDiffBySeed: maxDifference(bySeed, expected),
  };
}

/**
 * `baseUrl` is the server's origin, e.g. http://127.0.0.1:8080. With `concurrent`, every request is sent
 * at once, so the server batches them (the graph's dynamic batch axis at work); else one sample at a time.
 */
export async function compareWithPytorch(
  baseUrl: string,
  model: string,
  reference: PytorchReference,
  options: { concurrent?: boolean } = {},
): Promise<ParityResult[]> {
  if (options.concurrent) return Promise.all(reference.samples.map((sample) => compareSample(baseUrl, model, sample)));
  const results: ParityResult[] = [];
  for (const sample of reference.samples) results.push(await compareSample(baseUrl, model, sample));
  return results;
}
