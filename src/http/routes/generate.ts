/** Image generation: `GET|POST /v1/models/{model}/generate` and the default-model alias `/generate`. */
import { type Router, type Request, type Response } from 'express';
import { ServeError } from '../../errors.js';
import { isReady, type ReadyModel } from '../../models/model-registry.js';
import { contentTypeFor } from '../../render/image.js';
import { renderModelOf } from '../../render/render-request.js';
import type { AppDeps } from '../app.js';
import { buildGenerateRequest, type GenerateParams } from '../generate-request.js';
import { findModel } from './models.js';

const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * The model (its serving version, or `version`) a request names, if it can take work now: unknown ->
 * UNKNOWN_MODEL / UNKNOWN_VERSION, not ready -> MODEL_UNAVAILABLE, queue full -> QUEUE_FULL. Called
 * first, before the request is validated and built, so that shedding load is cheap. The version is held
 * until the response ends: a reload that retires it meanwhile lets this request finish on it.
 */
export function requireReady(deps: AppDeps, name: string, res: Response, version?: string): ReadyModel {
  const entry = findModel(deps.registry, name, version);
  if (!isReady(entry)) {
    throw new ServeError('MODEL_UNAVAILABLE', `model '${entry.name}'${version !== undefined ? ` version '${version}'` : ''} is ${entry.status}${entry.reason ? `: ${entry.reason}` : ''}`, { retryAfterSeconds: entry.status === 'loading' ? 5 : 60 });
  }
  entry.batcher.refuseIfFull();
  deps.registry.hold(entry, res);
  return entry;
}

export function defaultModelName(deps: AppDeps): string {
  const name = deps.registry.defaultModelName();
  if (name === undefined) {
    throw new ServeError('UNKNOWN_MODEL', 'no default model: set DEFAULT_MODEL or use /v1/models/{model}/generate', { field: 'model', allowed: deps.registry.list().map((m) => m.name) });
  }
  return name;
}

/** Aborts when the client goes away before the response is complete. */
export function clientGone(res: Response): AbortSignal {
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort(new Error('client closed the connection'));
  });
  return controller.signal;
}

export function requireJson(req: Request): void {
  if (!req.is('application/json')) {
    throw new ServeError('UNSUPPORTED_MEDIA_TYPE', `send the body as application/json (got ${req.headers['content-type'] ?? 'no content type'})`, { field: 'body', allowed: ['application/json'] });
  }
}

/**
 * Sets ETag and Cache-Control for a deterministic image (immutable unless the server chose a random seed)
 * and answers 304 when the client's If-None-Match matches (or is `*`); returns true when it did.
 */
export function answeredNotModified(req: Request, res: Response, etag: string, randomSeed: boolean): boolean {
  res.setHeader('ETag', etag);
  res.setHeader('Cache-Control', randomSeed ? 'no-store' : IMMUTABLE);
  // `*` matches any current representation (RFC 9110 13.1.2); every valid request has one, so it is
  // answered here, before the image is generated (Express's own check would run after, and waste it).
  const tags = req.headers['if-none-match']?.split(',').map((tag) => tag.trim());
  if (tags && (tags.includes('*') || (!randomSeed && tags.includes(etag)))) {
    res.status(304).end();
    return true;
  }
  return false;
}

type ParamsReader = (req: Request) => { params: GenerateParams; nGiven: boolean };

async function generate(deps: AppDeps, req: Request, res: Response, modelName: string, read: ParamsReader, version?: string): Promise<void> {
  // The model is looked up before the parameters are read, so an unknown model says so first.
  const model = requireReady(deps, modelName, res, version);
  const { manifest } = model;
  const { params, nGiven } = read(req);
  const request = buildGenerateRequest(params, manifest, deps.config, { nGiven });
  res.setHeader('X-Model', manifest.name);
  res.setHeader('X-Model-Version', manifest.version);
  res.setHeader('X-Class', request.cls.name);
  if (request.seed !== undefined) res.setHeader('X-Seed', String(request.seed));
  if (answeredNotModified(req, res, request.etag, request.randomSeed)) return;
  const result = await model.batcher.submit(
    { z: request.z, classes: new Array<number>(request.n).fill(request.cls.index), wantAttention: request.render.attention !== 'none' },
    { signal: clientGone(res) },
  );
  const bytes = await deps.renderer.render(renderModelOf(manifest), result, request.n, request.render);
  res.type(contentTypeFor(request.render.format)).send(bytes);
}

/** Registers this module's routes on the app's API router (see app.ts). */
export function generateRoutes(router: Router, deps: AppDeps): void {
  const validateQuery = deps.validators.query('generate');
  const validateBody = deps.validators.body('generatePost');
  const fromQuery: ParamsReader = (req) => {
    const query = { ...(req.query as Record<string, unknown>) };
    validateQuery(query);
    return { params: query as unknown as GenerateParams, nGiven: true };
  };
  const fromBody: ParamsReader = (req) => {
    requireJson(req);
    const body = req.body as Record<string, unknown>;
    const nGiven = body !== null && typeof body === 'object' && 'n' in body;
    validateBody(body);
    return { params: body as unknown as GenerateParams, nGiven };
  };
  router.get('/v1/models/:model/generate', (req, res) => generate(deps, req, res, req.params.model, fromQuery));
  router.post('/v1/models/:model/generate', (req, res) => generate(deps, req, res, req.params.model, fromBody));
  router.get('/v1/models/:model/versions/:version/generate', (req, res) => generate(deps, req, res, req.params.model, fromQuery, req.params.version));
  router.post('/v1/models/:model/versions/:version/generate', (req, res) => generate(deps, req, res, req.params.model, fromBody, req.params.version));
  router.get('/generate', (req, res) => generate(deps, req, res, defaultModelName(deps), fromQuery));
  router.post('/generate', (req, res) => generate(deps, req, res, defaultModelName(deps), fromBody));
}
