/** Liveness, readiness, metrics and the OpenAPI document. */
import type { RouteDefinition } from '../route.js';
import { serverReady } from '../route-helpers.js';

export const healthRoutes: readonly RouteDefinition[] = [
  {
    method: 'GET', path: '/healthz', operationId: 'healthz', queuesWork: false,
    createHandler: () => (_req, res) => {
      res.json({ status: 'ok' });
    },
  },
  {
    method: 'GET', path: '/readyz', operationId: 'readyz', queuesWork: false,
    createHandler: (deps) => (_req, res) => {
      const models = Object.fromEntries(deps.registry.list().map((m) => [m.name, m.status]));
      const ready = serverReady(deps);
      res.status(ready ? 200 : 503).json({ ready, draining: deps.lifecycle.draining, models });
    },
  },
  {
    method: 'GET', path: '/metrics', operationId: 'metrics', queuesWork: false,
    createHandler: ({ metrics }) => async (_req, res) => {
      res.setHeader('Content-Type', metrics.registry.contentType);
      res.send(await metrics.registry.metrics());
    },
  },
  {
    method: 'GET', path: '/openapi.yaml', operationId: 'openapi', queuesWork: false,
    createHandler: ({ openApiText }) => (_req, res) => {
      res.type('application/yaml').send(openApiText);
    },
  },
];
