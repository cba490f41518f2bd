/**
 * `GET /v1/models/{model}/interpolate`: a latent walk from seed `from` to seed `to` as one image strip
 * (`steps` tiles in one row, 2 px white gaps). Tile i is the generator's image of
 * z = interp(z_from, z_to, i / (steps - 1)) (src/latent/interpolate.ts), so the first and last tiles
 * are exactly the single images of seeds `from` and `to`.
 */
import { resolveClass } from '../../models/resolve-class.js';
import { latentForSeed } from '@sagan-serve/model-contract/seeded-latent';
import { interpolationPath } from '../../latent/interpolate.js';
import { contentTypeFor } from '@sagan-serve/model-contract/image';
import { checkFormatLimits } from '../../render/format-limits.js';
import { renderModelOf } from '../../render/render-request.js';
import { sendCachedImage } from '../cached-image.js';
import { checkOutputPixels, resolveOutputSize, strongEtag } from '../generate-request.js';
import { headerValue } from '../header-value.js';
import { answeredHead, answeredNotModified } from '../image-response.js';
import { setModelHeaders } from '../model-headers.js';
import type { RouteDefinition } from '../route.js';
import { route } from '../route-stages.js';

export const interpolateRoutes: readonly RouteDefinition[] = [
  route({ method: 'GET', path: '/v1/models/:model/interpolate', operationId: 'interpolate', queuesWork: true })
    .readyModel()
    .query()
    .handle(async ({ context, req, res, model, query: params }) => {
      const { manifest } = model;
      const dim = manifest.latent.dim;
      const cls = resolveClass(manifest.classes, params.class);
      const size = resolveOutputSize(params.size, manifest, context.config);
      checkOutputPixels(params.steps, size, 'size', 'steps');
      checkFormatLimits(
        manifest,
        params.steps,
        { format: params.format, size, attention: 'none', queries: [], columns: params.steps },
        'size',
      );

      setModelHeaders(res, manifest);
      res.setHeader('X-Class', headerValue(cls.name));
      const etag = strongEtag([
        'interpolate',
        manifest.name,
        manifest.version,
        model.contentDigest,
        cls.index,
        params.from,
        params.to,
        params.steps,
        params.mode,
        params.truncation ?? null,
        params.format,
        size,
        params.resample,
        context.config.pngCompressionLevel,
      ]);
      if (answeredNotModified(req, res, etag, false) || answeredHead(req, res, contentTypeFor(params.format))) return;

      const image = { etag, deterministic: true, model, contentType: contentTypeFor(params.format) };
      await sendCachedImage(context, res, image, async (signal) => {
        const z = interpolationPath(
          latentForSeed(params.from, dim, params.truncation),
          latentForSeed(params.to, dim, params.truncation),
          params.steps,
          params.mode,
        );
        const result = await model.batcher.submit(
          { z, classes: new Array<number>(params.steps).fill(cls.index), wantAttention: false },
          { signal, rowsField: 'steps' },
        );
        return context.renderer.render(renderModelOf(manifest), result, params.steps, {
          format: params.format,
          size,
          resample: params.resample,
          attention: 'none',
          queries: [],
          pngCompressionLevel: context.config.pngCompressionLevel,
          columns: params.steps,
        });
      });
    }),
];
