/**
 * Writes a servable model directory: `generator.onnx` (buildSaganGenerator) and `model.json` (the
 * manifest, see manifest.ts). Used by the server's scripts/make-model.ts for placeholder models and
 * meant for the trainer's exporter.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ModelManifest } from './manifest.js';
import { MANIFEST_FILE } from './manifest-file.js';
import {
  buildSaganGenerator,
  resolveConfig,
  type BuildOptions,
  type SaganGeneratorConfig,
  type SaganGeneratorWeights,
} from './sagan-graph.js';

export const MODEL_FILE = 'generator.onnx';

/** What the manifest needs beyond the config. */
export interface ManifestExtras {
  name: string;
  version: string;
  /** One name per class index; length must equal config.numClasses. */
  classes: string[];
  /** True for placeholder models with random weights. */
  untrained?: boolean;
  description?: string;
  /** Free-form: how the weights were made (dataset, steps, seed, ...). */
  provenance?: Record<string, unknown>;
  batching?: ModelManifest['batching'];
}

/** The manifest for a generator built by buildSaganGenerator (graph names z, y, image, attention). */
export function buildManifest(config: SaganGeneratorConfig, extras: ManifestExtras): ModelManifest {
  const c = resolveConfig(config);
  if (extras.classes.length !== c.numClasses) {
    throw new Error(`manifest: ${extras.classes.length} class names for a generator with numClasses ${c.numClasses}`);
  }
  // Field order is the documented one (README "Model manifest").
  const manifest: ModelManifest = {
    name: extras.name,
    version: extras.version,
    file: MODEL_FILE,
    classes: [...extras.classes],
    latent: { input: 'z', dim: c.zDim },
    class_input: 'y',
    image: { output: 'image', size: c.imageSize, range: [-1, 1] },
  };
  if (c.attentionResolution !== null) {
    manifest.attention = {
      output: 'attention',
      grid: [c.attentionResolution, c.attentionResolution],
      key_grid: [c.keyGrid, c.keyGrid],
    };
  }
  if (extras.batching !== undefined) manifest.batching = extras.batching;
  if (extras.untrained !== undefined) manifest.untrained = extras.untrained;
  if (extras.description !== undefined) manifest.description = extras.description;
  if (extras.provenance !== undefined) manifest.provenance = extras.provenance;
  return manifest;
}

export interface WrittenModel {
  dir: string;
  modelPath: string;
  manifestPath: string;
  manifest: ModelManifest;
  /** Size of generator.onnx in bytes. */
  modelBytes: number;
}

async function writeAtomically(file: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}

/**
 * Builds the ONNX graph and writes `dir/generator.onnx` and `dir/model.json` (creating `dir`).
 * Each file is written to a temporary name and renamed, so a reader never sees half a file; the
 * manifest goes last.
 */
export async function writeModelDirectory(
  dir: string,
  config: SaganGeneratorConfig,
  weights: SaganGeneratorWeights,
  extras: ManifestExtras,
  buildOptions: BuildOptions = {},
): Promise<WrittenModel> {
  const manifest = buildManifest(config, extras);
  const bytes = buildSaganGenerator(config, weights, { name: extras.name, ...buildOptions });
  await mkdir(dir, { recursive: true });
  const modelPath = path.join(dir, MODEL_FILE);
  const manifestPath = path.join(dir, MANIFEST_FILE);
  await writeAtomically(modelPath, bytes);
  await writeAtomically(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  return { dir, modelPath, manifestPath, manifest, modelBytes: bytes.length };
}
