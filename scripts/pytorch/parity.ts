/**
 * Compares what a running sagan-serve returns for a PyTorch-exported generator with PyTorch's own images
 * (reference.json, written by scripts/pytorch/export_sagan.py). Each reference sample is requested twice:
 * by its explicit z (POST /generate) and by its seed (GET /generate?seed=), which also holds the server's
 * seed-to-latent contract against scripts/reference/latent.py. Differences are in 8-bit levels (0..255).
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
  return sharp(Buffer.from(await res.arrayBuffer())).removeAlpha().raw().toBuffer();
}

function maxDifference(served: Buffer, expected: Buffer): number {
  if (served.length !== expected.length) throw new Error(`served ${served.length} bytes of RGB, PyTorch ${expected.length}`);
  let maxDiff = 0;
  for (let i = 0; i < expected.length; i++) maxDiff = Math.max(maxDiff, Math.abs(served[i] - expected[i]));
  return maxDiff;
}

/** `baseUrl` is the server's origin, e.g. http://127.0.0.1:8080. */
export async function compareWithPytorch(baseUrl: string, model: string, reference: PytorchReference): Promise<ParityResult[]> {
  const results: ParityResult[] = [];
  for (const sample of reference.samples) {
    const expected = Buffer.from(sample.rgb_base64, 'base64');
    const byZ = await servedPixels(await fetch(`${baseUrl}/v1/models/${model}/generate`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ class: sample.class, z: sample.z }),
    }), `seed ${sample.seed} by z`);
    const bySeed = await servedPixels(
      await fetch(`${baseUrl}/v1/models/${model}/generate?class=${sample.class}&seed=${sample.seed}`), `seed ${sample.seed} by seed`);
    results.push({ seed: sample.seed, class: sample.class, maxDiffByZ: maxDifference(byZ, expected), maxDiffBySeed: maxDifference(bySeed, expected) });
  }
  return results;
}
