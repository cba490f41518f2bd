/**
 * Image generation: `GET|POST /v1/models/{model}/generate`, the same for one version
 * (`/v1/models/{model}/versions/{version}/generate`), and the default-model alias `/generate`.
 */
import type { Response } from 'express';
import { contentTypeFor } from '@sagan-serve/model-contract/image';
import { renderModelOf } from '../../render/render-request.js';
import type { RouteContext } from '../app-deps.js';
import { buildGenerateRequest, type GenerateParams } from '../generate-request.js';
import { headerValue } from '../header-value.js';
import type { HttpMethod, RouteDefinition, RouteHandler, RouteRequest } from '../route.js';
import { answeredHead, answeredNotModified, clientGone, defaultModelName, requireJson, requireReady, sendImage, setModelHeaders } from '../route-helpers.js';

type ParamsReader = (req: RouteRequest) => { params: GenerateParams; nGiven: boolean };
/** Which model and version a request names (the version is undefined for the serving one). */
type ModelOf = (req: RouteRequest, context: RouteContext) => { name: string; version?: string };

async function generate(context: RouteContext, req: RouteRequest, res: Response, modelOf: ModelOf, read: ParamsReader): Promise<void> {
  // The model is looked up before the parameters are read, so an unknown model says so first.
  const { name, version } = modelOf(req, context);
  const model = requireReady(context, name, res, version);
  const { manifest } = model;
  const { params, nGiven } = read(req);
  const request = buildGenerateRequest(params, manifest, context.config, { nGiven, contentDigest: model.contentDigest });
  setModelHeaders(res, manifest);
  res.setHeader('X-Class', headerValue(request.cls.name));
  if (request.seed !== undefined) res.setHeader('X-Seed', String(request.seed));
  if (answeredNotModified(req, res, request.etag, request.randomSeed) || answeredHead(req, res, contentTypeFor(request.render.format))) return;
  const result = await model.batcher.submit(
    { z: request.z, classes: new Array<number>(request.n).fill(request.cls.index), wantAttention: request.render.attention !== 'none' },
    { signal: clientGone(res), rowsField: Array.isArray(params.z?.[0]) ? 'body.z' : 'n' },
  );
  const bytes = await context.renderer.render(renderModelOf(manifest), result, request.n, request.render);
  sendImage(res, contentTypeFor(request.render.format), bytes);
}

/** GET reads the query (operation `generate`'s schema), POST the JSON body (`generatePost`'s). */
function handlerFor(method: HttpMethod, modelOf: ModelOf): RouteDefinition['createHandler'] {
  return (context): RouteHandler => {
    if (method === 'GET') {
      const validateQuery = context.validators.query('generate');
      return (req, res) => generate(context, req, res, modelOf, (r) => {
        const query = { ...(r.query as Record<string, unknown>) };
        validateQuery(query);
        return { params: query as unknown as GenerateParams, nGiven: true };
      });
    }
    const validateBody = context.validators.body('generatePost');
    return (req, res) => generate(context, req, res, modelOf, (r) => {
      requireJson(r);
      const body = r.body as Record<string, unknown>;
      const nGiven = body !== null && typeof body === 'object' && 'n' in body;
      validateBody(body);
      return { params: body as unknown as GenerateParams, nGiven };
    });
  };
}

const named: ModelOf = (req) => ({ name: req.params.model });
const pinned: ModelOf = (req) => ({ name: req.params.model, version: req.params.version });
const byDefault: ModelOf = (_req, context) => ({ name: defaultModelName(context.registry) });

const generation = (method: HttpMethod, path: string, operationId: string, modelOf: ModelOf): RouteDefinition => ({
  method, path, operationId, queuesWork: true, createHandler: handlerFor(method, modelOf),
});

export const generateRoutes: readonly RouteDefinition[] = [
  generation('GET', '/generate', 'generateDefault', byDefault),
  generation('POST', '/generate', 'generateDefaultPost', byDefault),
  generation('GET', '/v1/models/:model/generate', 'generate', named),
  generation('POST', '/v1/models/:model/generate', 'generatePost', named),
  generation('GET', '/v1/models/:model/versions/:version/generate', 'generateVersion', pinned),
  generation('POST', '/v1/models/:model/versions/:version/generate', 'generateVersionPost', pinned),
];
