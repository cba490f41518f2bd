/** Liveness, readiness, metrics and the OpenAPI document. */
import type { RouteDefinition } from '../route.js';
import { route } from '../route-stages.js';
import { serverReady } from '../server-ready.js';

export const healthRoutes: readonly RouteDefinition[] = [
  route({ method: 'GET', path: '/healthz', operationId: 'healthz', queuesWork: false }).handle(({ res }) => {
    res.json({ status: 'ok' });
  }),
  route({ method: 'GET', path: '/readyz', operationId: 'readyz', queuesWork: false }).handle(({ context, res }) => {
    const models = Object.fromEntries(context.registry.list().map((m) => [m.name, m.status]));
    const ready = serverReady(context);
    res.status(ready ? 200 : 503).json({ ready, draining: context.lifecycle.draining, models });
  }),
  route({ method: 'GET', path: '/metrics', operationId: 'metrics', queuesWork: false }).handle(
    async ({ context: { metrics }, res }) => {
      res.setHeader('Content-Type', metrics.registry.contentType);
      res.send(await metrics.registry.metrics());
    },
  ),
  route({ method: 'GET', path: '/openapi.yaml', operationId: 'openapi', queuesWork: false }).handle(
    ({ context, res }) => {
      res.type('application/yaml').send(context.openApiText);
    },
  ),
];
