/**
 * createApp(deps): the Express app with every route and middleware, without listening, so the CLI
 * and the tests build exactly the same server.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import express, { type Express, type Router } from 'express';
import { DeterministicResponses } from '../cache/deterministic-responses.js';
import type { ServerConfig } from '../config.js';
import { type ErrorCode, serveError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import { PACKAGE_ROOT } from '../paths.js';
import { accessLog } from './access-log.js';
import type { AppDeps, RouteContext } from './app-deps.js';
import { bodyLimit } from './body-limit.js';
import { API_FRONTEND } from './api-frontend.js';
import { isBinaryTensorBody } from './binary-tensor-body.js';
import { errorHandler } from './error-handler.js';
import type { Frontend } from './frontend.js';
import { INFERENCE_PROTOCOL_FRONTEND } from './inference-protocol-frontend.js';
import { jsonDepthLimit } from './json-depth.js';
import { loadOpenApiText } from './openapi-document.js';
import { OpenApiValidators } from './openapi-validation.js';
import type { RouteDefinition } from './route.js';
import { frontendOf, pathInFrontend } from './route-frontend.js';
import { API_ROUTES, methodsByPath } from './route-table.js';
import { webRoutes } from './routes/web.js';
import { SECURITY_HEADERS } from './security-headers.js';
import { writeIdleDeadline } from './write-idle-deadline.js';

const SERVER_VERSION = (
  JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;

const BYTES_PER_MIB = 1024 * 1024;

/** Error codes logged at debug (see levelFor below). */
const SHED_CODES: ReadonlySet<unknown> = new Set<ErrorCode>(['QUEUE_FULL', 'SHUTTING_DOWN']);

/** The response cache RESPONSE_CACHE_MB asks for (off at 0), counted in `metrics`. */
export function responseCacheFor(
  config: Pick<ServerConfig, 'responseCacheMb'>,
  metrics: Metrics,
): DeterministicResponses {
  return new DeterministicResponses(
    Math.floor(config.responseCacheMb * BYTES_PER_MIB),
    metrics.responseCacheObserver(),
  );
}

export function createApp(input: Omit<AppDeps, 'validators'> & { validators?: OpenApiValidators }): Express {
  const openApiText = loadOpenApiText();
  const deps: RouteContext = {
    ...input,
    validators: input.validators ?? new OpenApiValidators(openApiText),
    openApiText,
    serverVersion: SERVER_VERSION,
  };
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(SECURITY_HEADERS);

  app.use(
    accessLog(deps.logger, {
      // Health checks and scrapes would drown the log.
      ignore: (req) =>
        req.url === '/healthz' ||
        req.url === '/metrics' ||
        req.url === '/readyz' ||
        req.url === '/v2/health/live' ||
        req.url === '/v2/health/ready',
      levelFor: (res) => {
        // Load shedding answers one request in several under overload; a log line each would add work
        // exactly when there is none to spare. sagan_requests_rejected_total counts them instead.
        if (SHED_CODES.has(res.locals.errorCode)) return 'debug';
        // Other refusals (503, 504) are expected behaviour, not server faults: warn, not error.
        if (res.statusCode === 503 || res.statusCode === 504) return 'warn';
        return res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info';
      },
      onFinished: (req, res, seconds) => {
        // Express types req.route as any; its path is the route's template string.
        const routePath = (req.route as { path?: string } | undefined)?.path;
        const route = routePath !== undefined ? `${req.baseUrl}${routePath}` : 'unmatched';
        deps.metrics.httpRequestDuration.observe(
          { route, method: req.method, status: String(res.statusCode) },
          seconds,
        );
      },
    }),
  );

  app.use(
    writeIdleDeadline(deps.config.writeIdleTimeoutMs, () => deps.metrics.responsesCut.inc({ reason: 'write_idle' })),
  );

  // Each frontend on its own router at its mount path, the most specific first (/v2 before /): whatever
  // fails under it (its routes, its 404s and 405s, a body sent there) is answered in its error shape.
  const knownPaths = [...methodsByPath().keys()];
  const frontends = [...new Set(API_ROUTES.map(frontendOf))].sort((a, b) => b.mountPath.length - a.mountPath.length);
  for (const frontend of frontends) {
    const pages = frontend === API_FRONTEND ? [webRoutes()] : [];
    app.use(
      frontend.mountPath,
      frontendRouter(
        frontend,
        API_ROUTES.filter((r) => frontendOf(r) === frontend),
        deps,
        knownPaths,
        pages,
      ),
    );
  }
  // A failure before any frontend took the request (the middleware above).
  app.use(errorHandler(API_FRONTEND));
  return app;
}

/**
 * One frontend's router: body reading, its routes (one router for all of them: each router a request
 * passes through costs it a round of closures and state objects, garbage the event loop pays for in GC
 * pauses under load), `pages` after them, 405 for its paths' other methods, 404, and its error handler.
 * `knownPaths`: every route path of the server, which a 404 lists.
 */
function frontendRouter(
  frontend: Frontend,
  routes: readonly RouteDefinition[],
  deps: RouteContext,
  knownPaths: readonly string[],
  pages: readonly Router[],
): Router {
  const router = express.Router();
  router.use(bodyLimit(deps.config.bodyLimitBytes, frontend));
  // The Open Inference Protocol's binary tensor bodies are read as bytes (the route splits them), before
  // the JSON parser, which then skips them.
  if (frontend === INFERENCE_PROTOCOL_FRONTEND)
    router.use(express.raw({ limit: deps.config.bodyLimitBytes, type: isBinaryTensorBody }));
  router.use(
    express.json({ limit: deps.config.bodyLimitBytes, strict: true, type: ['application/json', 'application/*+json'] }),
  );
  router.use(jsonDepthLimit());
  for (const route of routes) {
    const at = pathInFrontend(frontend, route.path);
    if (route.method === 'GET') router.get(at, route.createHandler(deps));
    else router.post(at, route.createHandler(deps));
  }
  for (const page of pages) router.use(page);
  for (const [routePath, methods] of methodsByPath(routes)) {
    router.all(pathInFrontend(frontend, routePath), (req, res) => {
      res.setHeader('Allow', methods.join(', '));
      throw serveError.METHOD_NOT_ALLOWED(req.method, routePath, methods);
    });
  }
  router.use((req) => {
    throw serveError.NOT_FOUND(req.method, `${req.baseUrl}${req.path}`, knownPaths);
  });
  router.use(errorHandler(frontend));
  return router;
}
