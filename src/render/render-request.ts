/**
 * Turns one request's generator rows into the encoded image it asked for: a single image, an n-image
 * grid, or an attention overlay/panel, upscaled and encoded. Layouts are documented in openapi.yaml.
 */
import type { ModelManifest } from '../models/manifest.js';
import { overlay, panel, type Query } from './attention.js';
import { composeGrid, encodeImage, toRgbBytes, type ImageFormat, type ResizeKernel } from './image.js';

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

export interface GeneratedRows {
  /** [n, 3, S, S]. */
  image: Float32Array;
  /** [n, queries, keys] when attention was fetched. */
  attention: Float32Array | undefined;
}

/** Encoded bytes of sample i alone (no grid), for streams. */
export async function renderSample(manifest: ModelManifest, rows: GeneratedRows, index: number, format: ImageFormat, pngCompressionLevel: number): Promise<Buffer> {
  const S = manifest.image.size;
  const length = 3 * S * S;
  const rgb = toRgbBytes(rows.image.subarray(index * length, (index + 1) * length), S, manifest.image.range);
  return encodeImage(rgb, S, S, { format, pngCompressionLevel });
}

export async function renderRequest(manifest: ModelManifest, rows: GeneratedRows, n: number, spec: RenderSpec): Promise<Buffer> {
  const S = manifest.image.size;
  const length = 3 * S * S;
  const tiles: Buffer[] = [];
  for (let i = 0; i < n; i++) tiles.push(toRgbBytes(rows.image.subarray(i * length, (i + 1) * length), S, manifest.image.range));
  let composed: { rgb: Buffer; width: number; height: number };
  if (spec.attention !== 'none' && manifest.attention && rows.attention) {
    const { grid, key_grid: keyGrid } = manifest.attention;
    const render = spec.attention === 'overlay' ? overlay : panel;
    composed = render(tiles[0], S, rows.attention.subarray(0, grid[0] * grid[1] * keyGrid[0] * keyGrid[1]), grid, keyGrid, spec.queries);
  } else if (n === 1) {
    composed = { rgb: tiles[0], width: S, height: S };
  } else {
    composed = composeGrid(tiles, S, { columns: spec.columns });
  }
  const outputSize = Math.round((composed.width * spec.size) / S);
  return encodeImage(composed.rgb, composed.width, composed.height, {
    format: spec.format, outputSize, kernel: spec.resample, pngCompressionLevel: spec.pngCompressionLevel,
  });
}
