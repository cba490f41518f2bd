/**
 * `GET /v1/models/{model}/interpolate`: a latent walk from seed `from` to seed `to` as one image strip
 * (`steps` tiles in one row, 2 px white gaps). Tile i is the generator's image of
 * z = interp(z_from, z_to, i / (steps - 1)) (src/latent/interpolate.ts), so the first and last tiles
 * are exactly the single images of seeds `from` and `to`.
 */
import { createHash } from 'node:crypto';
import { Router } from 'express';
import { resolveClass } from '../../models/class-names.js';
import { latentForSeed } from '../../latent/seeded-latent.js';
import { interpolationPath, type InterpolationMode } from '../../latent/interpolate.js';
import { composeGrid, contentTypeFor, encodeImage, toRgbBytes, type ImageFormat, type ResizeKernel } from '../../render/image.js';
import type { AppDeps } from '../app.js';
import { checkOutputPixels, resolveOutputSize } from '../generate-request.js';
import { answeredNotModified, clientGone, requireReady } from './generate.js';

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

export function interpolateRoutes(deps: AppDeps): Router {
  const router = Router();
  const validateQuery = deps.validators.query('interpolate');
  router.get('/v1/models/:model/interpolate', async (req, res) => {
    const model = requireReady(deps, req.params.model);
    const { manifest } = model;
    const query = { ...(req.query as Record<string, unknown>) };
    validateQuery(query);
    const params = query as unknown as InterpolateParams;
    const S = manifest.image.size;
    const dim = manifest.latent.dim;
    const cls = resolveClass(manifest.classes, params.class);
    const size = resolveOutputSize(params.size, manifest, deps.config);
    checkOutputPixels(params.steps, size, 'size', 'steps');

    res.setHeader('X-Model', manifest.name);
    res.setHeader('X-Model-Version', manifest.version);
    res.setHeader('X-Class', cls.name);
    const identity = JSON.stringify([
      'interpolate', manifest.name, manifest.version, cls.index, params.from, params.to, params.steps, params.mode,
      params.truncation ?? null, params.format, size, params.resample, deps.config.pngCompressionLevel,
    ]);
    const etag = `"${createHash('sha256').update(identity).digest('base64url').slice(0, 32)}"`;
    if (answeredNotModified(req, res, etag, false)) return;

    const z = interpolationPath(latentForSeed(params.from, dim, params.truncation), latentForSeed(params.to, dim, params.truncation), params.steps, params.mode);
    const result = await model.batcher.submit(
      { z, classes: new Array<number>(params.steps).fill(cls.index), wantAttention: false },
      { signal: clientGone(res) },
    );
    const length = 3 * S * S;
    const tiles: Buffer[] = [];
    for (let i = 0; i < params.steps; i++) tiles.push(toRgbBytes(result.image.subarray(i * length, (i + 1) * length), S, manifest.image.range));
    const strip = composeGrid(tiles, S, { columns: params.steps });
    const bytes = await encodeImage(strip.rgb, strip.width, strip.height, {
      format: params.format, outputSize: Math.round((strip.width * size) / S), kernel: params.resample,
      pngCompressionLevel: deps.config.pngCompressionLevel,
    });
    res.type(contentTypeFor(params.format)).send(bytes);
  });
  return router;
}
