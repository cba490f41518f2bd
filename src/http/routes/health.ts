/** Liveness, readiness, metrics and the OpenAPI document. */
import type { Router } from 'express';
import type { AppDeps } from '../app.js';

/** Registers this module's routes on the app's API router (see app.ts). */
export function healthRoutes(router: Router, deps: AppDeps, openApiText: string): void {
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', (_req, res) => {
    const models = Object.fromEntries(deps.registry.list().map((m) => [m.name, m.status]));
    const ready = deps.registry.allReady() && !deps.lifecycle.draining;
    res.status(ready ? 200 : 503).json({ ready, draining: deps.lifecycle.draining, models });
  });
  router.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', deps.metrics.registry.contentType);
    res.send(await deps.metrics.registry.metrics());
  });
  router.get('/openapi.yaml', (_req, res) => {
    res.type('application/yaml').send(openApiText);
  });
}
