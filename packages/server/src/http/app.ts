/**
 * createApp(deps): the Express app with every route and middleware, without listening, so the CLI
 * and the tests build exactly the same server.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import express, { type Express } from 'express';
import { type ErrorCode, serveError } from '../errors.js';
import { PACKAGE_ROOT } from '../paths.js';
import { accessLog } from './access-log.js';
import type { AppDeps, RouteContext } from './app-deps.js';
import { bodyLimit } from './body-limit.js';
import { errorHandler } from './error-handler.js';
import { jsonDepthLimit } from './json-depth.js';
import { loadOpenApiText } from './openapi-document.js';
import { OpenApiValidators } from './openapi-validation.js';
import { API_ROUTES, methodsByPath } from './route-table.js';
import { webRoutes } from './routes/web.js';
import { SECURITY_HEADERS } from './security-headers.js';
import { writeIdleDeadline } from './write-idle-deadline.js';

const SERVER_VERSION = (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** Error codes logged at debug (see levelFor below). */
const SHED_CODES: ReadonlySet<unknown> = new Set<ErrorCode>(['QUEUE_FULL', 'SHUTTING_DOWN']);

export function createApp(input: Omit<AppDeps, 'validators'> & { validators?: OpenApiValidators }): Express {
  const openApiText = loadOpenApiText();
  const deps: RouteContext = { ...input, validators: input.validators ?? new OpenApiValidators(openApiText), openApiText, serverVersion: SERVER_VERSION };
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

  app.use(writeIdleDeadline(deps.config.writeIdleTimeoutMs, () => deps.metrics.responsesCut.inc({ reason: 'write_idle' })));
  app.use(bodyLimit(deps.config.bodyLimitBytes));
  app.use(express.json({ limit: deps.config.bodyLimitBytes, strict: true, type: ['application/json', 'application/*+json'] }));
  app.use(jsonDepthLimit());

  // One router for every API route: each router a request passes through costs it a round of closures
  // and state objects (garbage the event loop pays for in GC pauses under load).
  const api = express.Router();
  for (const route of API_ROUTES) {
    if (route.method === 'GET') api.get(route.path, route.createHandler(deps));
    else api.post(route.path, route.createHandler(deps));
  }
  app.use(api);
  app.use(webRoutes());

  const paths = methodsByPath();
  for (const [routePath, methods] of paths) {
    app.all(routePath, (req, res) => {
      res.setHeader('Allow', methods.join(', '));
      throw serveError.METHOD_NOT_ALLOWED(req.method, routePath, methods);
    });
  }
  app.use((req) => {
    throw serveError.NOT_FOUND(req.method, req.path, [...paths.keys()]);
  });
  app.use(errorHandler);
  return app;
}
