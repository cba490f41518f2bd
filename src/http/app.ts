/**
 * createApp(deps): the Express app with every route and middleware, without listening, so the CLI
 * and the tests build exactly the same server.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import express, { type Express } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config.js';
import { ServeError, type ErrorCode } from '../errors.js';
import type { Metrics } from '../metrics.js';
import { PACKAGE_ROOT } from '../paths.js';
import type { ModelRegistry } from '../models/model-registry.js';
import type { RenderPool } from '../render/render-pool.js';
import { accessLog } from './access-log.js';
import { bodyLimit } from './body-limit.js';
import { errorHandler } from './error-handler.js';
import { loadOpenApiText, OpenApiValidators } from './openapi-validation.js';
import { generateRoutes } from './routes/generate.js';
import { healthRoutes } from './routes/health.js';
import { inferenceProtocolRoutes } from './routes/inference-protocol.js';
import { interpolateRoutes } from './routes/interpolate.js';
import { modelRoutes } from './routes/models.js';
import { repositoryRoutes } from './routes/repository.js';
import { samplesRoutes } from './routes/samples.js';
import { webRoutes } from './routes/web.js';

const SERVER_VERSION = (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** Shared, mutable server state the routes read (set when SIGTERM arrives). */
export interface Lifecycle { draining: boolean }

export interface AppDeps {
  config: Readonly<ServerConfig>;
  registry: ModelRegistry;
  metrics: Metrics;
  logger: Logger;
  lifecycle: Lifecycle;
  validators: OpenApiValidators;
  /** Encodes response images off the HTTP thread; owned (and closed) by whoever calls createApp. */
  renderer: RenderPool;
}

/** Route templates and their methods; a known path with another method answers 405. */
export const ROUTES: Array<[string, string[]]> = [
  ['/generate', ['GET', 'POST']],
  ['/v1/models', ['GET']],
  ['/v1/models/:model', ['GET']],
  ['/v1/models/:model/generate', ['GET', 'POST']],
  ['/v1/models/:model/versions/:version/generate', ['GET', 'POST']],
  ['/v1/models/:model/samples', ['POST']],
  ['/v1/models/:model/interpolate', ['GET']],
  ['/v1/repository/index', ['POST']],
  ['/v1/repository/models/:model/load', ['POST']],
  ['/v1/repository/models/:model/unload', ['POST']],
  ['/healthz', ['GET']],
  ['/readyz', ['GET']],
  ['/metrics', ['GET']],
  ['/openapi.yaml', ['GET']],
  ['/v2', ['GET']],
  ['/v2/health/live', ['GET']],
  ['/v2/health/ready', ['GET']],
  ['/v2/models/:model', ['GET']],
  ['/v2/models/:model/ready', ['GET']],
  ['/v2/models/:model/infer', ['POST']],
  ['/v2/models/:model/versions/:version', ['GET']],
  ['/v2/models/:model/versions/:version/ready', ['GET']],
  ['/v2/models/:model/versions/:version/infer', ['POST']],
];

/** Error codes logged at debug (see levelFor below). */
const SHED_CODES: ReadonlySet<unknown> = new Set<ErrorCode>(['QUEUE_FULL', 'SHUTTING_DOWN']);

/**
 * Security headers for every response, the web pages in routes/web.ts included: helmet's defaults with
 * a Content-Security-Policy allowing scripts, styles, images and fetches from this origin only
 * (images also from data: and blob: URLs; inline styles for Swagger UI), no plugins, no framing. No
 * upgrade-insecure-requests, since the server usually runs on plain HTTP inside a network. CORP is
 * cross-origin so that pages elsewhere may embed generated images with <img>.
 */
export const SECURITY_HEADERS = helmet({
  contentSecurityPolicy: {
    useDefaults: true,
    directives: {
      'default-src': ["'self'"],
      'img-src': ["'self'", 'data:', 'blob:'],
      'style-src': ["'self'", "'unsafe-inline'"],
      'script-src': ["'self'"],
      'connect-src': ["'self'"],
      'object-src': ["'none'"],
      'base-uri': ["'none'"],
      'frame-ancestors': ["'none'"],
      'upgrade-insecure-requests': null,
    },
  },
  crossOriginResourcePolicy: { policy: 'cross-origin' },
  xFrameOptions: { action: 'deny' },
});

export function createApp(input: Omit<AppDeps, 'validators'> & { validators?: OpenApiValidators }): Express {
  const openApiText = loadOpenApiText();
  const deps: AppDeps = { ...input, validators: input.validators ?? new OpenApiValidators(openApiText) };
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(SECURITY_HEADERS);

  app.use(accessLog(deps.logger, {
    // Health checks and scrapes would drown the log.
    ignore: (req) => req.url === '/healthz' || req.url === '/metrics' || req.url === '/readyz' || req.url === '/v2/health/live' || req.url === '/v2/health/ready',
    levelFor: (res) => {
      // Load shedding answers one request in several under overload; a log line each would add work
      // exactly when there is none to spare. sagan_requests_rejected_total counts them instead.
      if (SHED_CODES.has(res.locals.errorCode)) return 'debug';
      // Other refusals (503, 504) are expected behaviour, not server faults: warn, not error.
      if (res.statusCode === 503 || res.statusCode === 504) return 'warn';
      return res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info';
    },
    onFinished: (req, res, seconds) => {
      const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      deps.metrics.httpRequestDuration.observe({ route, method: req.method, status: String(res.statusCode) }, seconds);
    },
  }));

  app.use(bodyLimit(deps.config.bodyLimitBytes));
  app.use(express.json({ limit: deps.config.bodyLimitBytes, strict: true, type: ['application/json', 'application/*+json'] }));

  // One router for every API route: each router a request passes through costs it a round of closures
  // and state objects (garbage the event loop pays for in GC pauses under load).
  const api = express.Router();
  healthRoutes(api, deps, openApiText);
  modelRoutes(api, deps);
  generateRoutes(api, deps);
  samplesRoutes(api, deps);
  interpolateRoutes(api, deps);
  inferenceProtocolRoutes(api, deps, SERVER_VERSION);
  repositoryRoutes(api, deps);
  app.use(api);
  app.use(webRoutes());

  for (const [path, methods] of ROUTES) {
    app.all(path, (req, res) => {
      res.setHeader('Allow', methods.join(', '));
      throw new ServeError('METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${path}`, { field: 'method', allowed: methods });
    });
  }
  app.use((req) => {
    throw new ServeError('NOT_FOUND', `no route for ${req.method} ${req.path.slice(0, 200)}`, { allowed: ROUTES.map(([p]) => p) });
  });
  app.use(errorHandler);
  return app;
}
