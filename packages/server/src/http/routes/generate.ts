/**
 * Image generation: `GET|POST /v1/models/{model}/generate`, the same for one version
 * (`/v1/models/{model}/versions/{version}/generate`), and the default-model alias `/generate`.
 */
import { contentTypeFor } from '@sagan-serve/model-contract/image';
import type { ReadyModel } from '../../models/model-version.js';
import { renderModelOf } from '../../render/render-request.js';
import { sendCachedImage } from '../cached-image.js';
import { buildGenerateRequest, type GenerateParams, isLatentList } from '../generate-request.js';
import { headerValue } from '../header-value.js';
import { answeredHead, answeredNotModified } from '../image-response.js';
import { setModelHeaders } from '../model-headers.js';
import type { RouteDefinition } from '../route.js';
import { route, type RouteCall } from '../route-stages.js';

interface GenerateCall extends RouteCall {
  model: ReadyModel;
  params: GenerateParams;
  /** Whether the request gave `n` (it may be left out beside a list of latents). */
  nGiven: boolean;
}

async function generate({ context, req, res, model, params, nGiven }: GenerateCall): Promise<void> {
  const { manifest } = model;
  const request = buildGenerateRequest(params, manifest, context.config, {
    nGiven,
    contentDigest: model.contentDigest,
  });
  setModelHeaders(res, manifest);
  res.setHeader('X-Class', headerValue(request.cls.name));
  if (request.seed !== undefined) res.setHeader('X-Seed', String(request.seed));
  if (
    answeredNotModified(req, res, request.etag, request.randomSeed) ||
    answeredHead(req, res, contentTypeFor(request.render.format))
  )
    return;
  const image = {
    etag: request.etag,
    deterministic: request.seed !== undefined && !request.randomSeed,
    model,
    contentType: contentTypeFor(request.render.format),
  };
  await sendCachedImage(context, res, image, async (signal) => {
    const result = await model.batcher.submit(
      {
        z: request.z,
        classes: new Array<number>(request.n).fill(request.cls.index),
        wantAttention: request.render.attention !== 'none',
      },
      { signal, rowsField: params.z !== undefined && isLatentList(params.z) ? 'body.z' : 'n' },
    );
    return context.renderer.render(renderModelOf(manifest), result, request.n, request.render);
  });
}

/** The model a generation route serves: the one (and version) its path names, or the default model. */
type ModelSource = 'path' | 'default';

/** GET reads the query, POST the JSON body, each validated against the route's own operation. */
function getRoute(
  path: string,
  operationId: 'generateDefault' | 'generate' | 'generateVersion',
  source: ModelSource,
): RouteDefinition {
  const declared = route({ method: 'GET', path, operationId, queuesWork: true });
  return (source === 'default' ? declared.readyDefaultModel() : declared.readyModel())
    .query()
    .handle((call) => generate({ ...call, params: call.query, nGiven: true }));
}

function postRoute(
  path: string,
  operationId: 'generateDefaultPost' | 'generatePost' | 'generateVersionPost',
  source: ModelSource,
): RouteDefinition {
  const declared = route({ method: 'POST', path, operationId, queuesWork: true });
  return (source === 'default' ? declared.readyDefaultModel() : declared.readyModel())
    .jsonBody()
    .handle((call) => generate({ ...call, params: call.body, nGiven: call.sentFields.has('n') }));
}

export const generateRoutes: readonly RouteDefinition[] = [
  getRoute('/generate', 'generateDefault', 'default'),
  postRoute('/generate', 'generateDefaultPost', 'default'),
  getRoute('/v1/models/:model/generate', 'generate', 'path'),
  postRoute('/v1/models/:model/generate', 'generatePost', 'path'),
  getRoute('/v1/models/:model/versions/:version/generate', 'generateVersion', 'path'),
  postRoute('/v1/models/:model/versions/:version/generate', 'generateVersionPost', 'path'),
];
