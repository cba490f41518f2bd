/**
 * Turns one request's generator rows into the encoded image it asked for: a single image, an n-image
 * grid, or an attention overlay/panel, upscaled and encoded. Layouts are documented in openapi.yaml.
 * Runs inside the render threads (render-worker.ts); the HTTP thread reaches it through RenderPool.
 */
import type { ModelManifest } from '@sagan-serve/model-contract/manifest';
import { outputRowLengths, type ManifestOutputs } from '@sagan-serve/model-contract/output-shapes';
import { overlay, panel, type Query } from './attention.js';
import {
  composeGrid,
  encodeImage,
  toRgbBytes,
  type ImageFormat,
  type ResizeKernel,
} from '@sagan-serve/model-contract/image';

export type AttentionMode = 'none' | 'overlay' | 'panel';

export interface RenderSpec {
  format: ImageFormat;
  /** Output tile side in px (>= the model's size). */
  size: number;
  resample: ResizeKernel;
  attention: AttentionMode;
  /** Attention query points in model image pixels. */
  queries: Query[];
  pngCompressionLevel: number;
  /** Grid columns for n > 1; default ceil(sqrt(n)) (openapi.yaml documents the layout). */
  columns?: number;
}

/** The part of a manifest rendering needs (small, so it is cheap to send to a render thread). */
export type RenderModel = ManifestOutputs;

export function renderModelOf(manifest: ModelManifest): RenderModel {
  return { image: manifest.image, attention: manifest.attention };
}

export interface GeneratedRows {
  /** [n, 3, S, S]. */
  image: Float32Array;
  /** [n, queries, keys] when attention was fetched. */
  attention: Float32Array | undefined;
}

export async function renderRequest(
  model: RenderModel,
  rows: GeneratedRows,
  n: number,
  spec: RenderSpec,
): Promise<Buffer> {
  const S = model.image.size;
  const rowLengths = outputRowLengths(model);
  const tiles: Buffer[] = [];
  for (let i = 0; i < n; i++)
    tiles.push(toRgbBytes(rows.image.subarray(i * rowLengths.image, (i + 1) * rowLengths.image), S, model.image.range));
  let composed: { rgb: Buffer; width: number; height: number };
  if (spec.attention !== 'none' && model.attention && rows.attention) {
    const { grid, key_grid: keyGrid } = model.attention;
    const render = spec.attention === 'overlay' ? overlay : panel;
    composed = render(tiles[0], S, rows.attention.subarray(0, rowLengths.attention), grid, keyGrid, spec.queries);
  } else if (n === 1) {
    composed = { rgb: tiles[0], width: S, height: S };
  } else {
    composed = composeGrid(tiles, S, { columns: spec.columns });
  }
  const outputSize = Math.round((composed.width * spec.size) / S);
  return encodeImage(composed.rgb, composed.width, composed.height, {
    format: spec.format,
    outputSize,
    kernel: spec.resample,
    pngCompressionLevel: spec.pngCompressionLevel,
  });
}
