/**
 * The front door: the HTTP server's request listener, in front of the Express app. Its one job is load
 * shedding at the lowest cost the process can pay. A generation request for a model whose queue has no
 * room for even one more image is answered 503 QUEUE_FULL here, before Express builds its request and
 * response objects, runs the middleware and routes; everything else goes to the app unchanged.
 *
 * Why: under overload most requests are refused, and refusing through Express cost about 330 us of the
 * HTTP thread each (3,000 per second per core, RELIABILITY.md); a bare Node answer costs about 36 us. On a
 * 2-core machine at 4x capacity that difference was CPU taken from inference.
 *
 * Contract: the answer is the one the app would give (same status, Retry-After, security headers,
 * X-Request-Id, JSON body in the error shape of the matched route's frontend; `src/http/error-handler.ts`
 * writes both), it is counted in
 * sagan_requests_rejected_total{reason="queue_full"} and sagan_http_request_duration_seconds under the
 * route template, and it is not access-logged (QUEUE_FULL lines are debug-level in the app as well).
 * A request the door cannot classify cheaply (bad escapes, unknown or unready model) goes to the app,
 * which answers it with its usual errors; so does a GET the response cache will answer (cached-image.ts).
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Express } from 'express';
import { isServeError } from '../errors.js';
import { type ModelRegistry } from '../models/model-registry.js';
import { isReady } from '../models/model-version.js';
import type { Metrics } from '../metrics.js';
import type { DeterministicResponses } from '../cache/deterministic-responses.js';
import { requestIdFor } from './access-log.js';
import { answeredFromCache } from './cached-image.js';
import { writeError } from './error-handler.js';
import { frontendOf } from './route-frontend.js';
import { API_ROUTES } from './route-table.js';
import { SECURITY_HEADERS } from './security-headers.js';

/**
 * The routes that queue generation work: template, method, a pattern capturing model and version, and
 * the frontend whose error shape a refusal has.
 */
const GENERATION_ROUTES = API_ROUTES.filter((r) => r.queuesWork).map((r) => ({
  route: r.path,
  method: r.method,
  frontend: frontendOf(r),
  pattern: new RegExp(`^${r.path.replace(':model', '(?<model>[^/]+)').replace(':version', '(?<version>[^/]+)')}$`),
}));

export function frontDoor(
  app: Express,
  deps: { registry: ModelRegistry; metrics: Metrics; responses: DeterministicResponses },
): RequestListener {
  const shed = (req: IncomingMessage, res: ServerResponse): boolean => {
    const arrivedAt = performance.now();
    const url = req.url ?? '';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    for (const { method, route, pattern, frontend } of GENERATION_ROUTES) {
      if (method !== req.method) continue;
      const match = pattern.exec(path);
      if (!match) continue;
      let name: string | undefined;
      let version: string | undefined;
      try {
        name =
          match.groups?.model === undefined ? deps.registry.defaultModelName() : decodeURIComponent(match.groups.model);
        version = match.groups?.version === undefined ? undefined : decodeURIComponent(match.groups.version);
      } catch {
        return false;
      }
      const entry =
        name === undefined
          ? undefined
          : version === undefined
            ? deps.registry.get(name)
            : deps.registry.getVersion(name, version);
      if (!entry || !isReady(entry)) return false;
      // A request the response cache will answer takes no room in the queue: not overload.
      if (answeredFromCache(deps, entry, req)) return false;
      try {
        entry.batcher.refuseIfFull();
        return false;
      } catch (err) {
        if (!isServeError(err)) throw err;
        const requestId = requestIdFor(req);
        res.setHeader('X-Request-Id', requestId);
        // helmet's middleware is synchronous and only sets headers: the same headers as every app response.
        SECURITY_HEADERS(req, res, () => undefined);
        writeError(res, err, requestId, frontend);
        deps.metrics.httpRequestDuration.observe(
          { route, method, status: String(res.statusCode) },
          (performance.now() - arrivedAt) / 1000,
        );
        return true;
      }
    }
    return false;
  };
  return (req, res) => {
    if (!shed(req, res)) app(req, res);
  };
}
