/**
 * `GET /v1/models/{model}/interpolate`: a latent walk from seed `from` to seed `to` as one image strip
 * (`steps` tiles in one row, 2 px white gaps). Tile i is the generator's image of
 * z = interp(z_from, z_to, i / (steps - 1)) (src/latent/interpolate.ts), so the first and last tiles
 * are exactly the single images of seeds `from` and `to`.
 */
import { resolveClass } from '../../models/resolve-class.js';
import { latentForSeed } from '@sagan-serve/model-contract/seeded-latent';
import { interpolationPath, type InterpolationMode } from '../../latent/interpolate.js';
import { contentTypeFor, type ImageFormat, type ResizeKernel } from '@sagan-serve/model-contract/image';
import { checkFormatLimits } from '../../render/format-limits.js';
import { renderModelOf } from '../../render/render-request.js';
import { checkOutputPixels, resolveOutputSize, strongEtag } from '../generate-request.js';
import { headerValue } from '../header-value.js';
import type { RouteDefinition } from '../route.js';
import { answeredHead, answeredNotModified, clientGone, requireReady, sendImage, setModelHeaders } from '../route-helpers.js';

/** The query after schema validation (defaults filled in). */
interface InterpolateParams {
  class: string | number;
  from: number;
  to: number;
  steps: number;
  truncation?: number;
  format: ImageFormat;
  size?: number;
  mode: InterpolationMode;
  resample: ResizeKernel;
}

export const interpolateRoutes: readonly RouteDefinition[] = [{
  method: 'GET', path: '/v1/models/:model/interpolate', operationId: 'interpolate', queuesWork: true,
  createHandler: (deps) => {
  const validateQuery = deps.validators.query('interpolate');
  return async (req, res) => {
    const model = requireReady(deps, req.params.model, res);
    const { manifest } = model;
    const query = { ...(req.query as Record<string, unknown>) };
    validateQuery(query);
    const params = query as unknown as InterpolateParams;
    const dim = manifest.latent.dim;
    const cls = resolveClass(manifest.classes, params.class);
    const size = resolveOutputSize(params.size, manifest, deps.config);
    checkOutputPixels(params.steps, size, 'size', 'steps');
    checkFormatLimits(manifest, params.steps, { format: params.format, size, attention: 'none', queries: [], columns: params.steps }, 'size');

    setModelHeaders(res, manifest);
    res.setHeader('X-Class', headerValue(cls.name));
    const etag = strongEtag([
      'interpolate', manifest.name, manifest.version, model.contentDigest, cls.index, params.from, params.to, params.steps, params.mode,
      params.truncation ?? null, params.format, size, params.resample, deps.config.pngCompressionLevel,
    ]);
    if (answeredNotModified(req, res, etag, false) || answeredHead(req, res, contentTypeFor(params.format))) return;

    const z = interpolationPath(latentForSeed(params.from, dim, params.truncation), latentForSeed(params.to, dim, params.truncation), params.steps, params.mode);
    const result = await model.batcher.submit(
      { z, classes: new Array<number>(params.steps).fill(cls.index), wantAttention: false },
      { signal: clientGone(res), rowsField: 'steps' },
    );
    const bytes = await deps.renderer.render(renderModelOf(manifest), result, params.steps, {
      format: params.format, size, resample: params.resample, attention: 'none', queries: [],
      pngCompressionLevel: deps.config.pngCompressionLevel, columns: params.steps,
    });
    sendImage(res, contentTypeFor(params.format), bytes);
  };
  },
}];
