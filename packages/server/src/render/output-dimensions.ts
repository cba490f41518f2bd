/**
 * The width and height of the image renderRequest() will produce, worked out from the request alone,
 * so that limits on the output can be checked before any inference runs. The layouts are the
 * renderers' own (gridDimensions, panelDimensions, resizedHeight); test/render/format-limits.test.ts
 * holds these numbers against real renders.
 */
import { gridDimensions, resizedHeight } from '@sagan-serve/model-contract/image';
import { panelDimensions } from './attention.js';
import type { RenderModel, RenderSpec } from './render-request.js';

export type LayoutSpec = Pick<RenderSpec, 'size' | 'attention' | 'queries' | 'columns'>;

export function outputDimensions(model: RenderModel, n: number, spec: LayoutSpec): { width: number; height: number } {
  const S = model.image.size;
  let composed: { width: number; height: number };
  if (spec.attention === 'panel' && model.attention) composed = panelDimensions(S, spec.queries.length);
  else if ((spec.attention === 'overlay' && model.attention) || n === 1) composed = { width: S, height: S };
  else composed = gridDimensions(n, S, { columns: spec.columns });
  const width = Math.round((composed.width * spec.size) / S);
  return { width, height: resizedHeight(composed.width, composed.height, width) };
}
