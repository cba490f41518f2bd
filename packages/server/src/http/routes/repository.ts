/**
 * Repository control (Triton's model repository extension): `POST /v1/repository/index`,
 * `POST /v1/repository/models/{model}/load` and `/unload`. Guarded by admin-auth.ts; the work is the
 * registry's (model-registry.ts: versions load beside the serving one, traffic moves when ready, retired
 * versions drain before release).
 */
import { serveError } from '../../errors.js';
import { UnknownModelError } from '../../models/unknown-model-error.js';
import { requireControl } from '../admin-auth.js';
import type { AppDeps } from '../app-deps.js';
import { describeModel } from '../model-description.js';
import type { RouteDefinition } from '../route.js';
import { route } from '../route-stages.js';

async function unknownModel(deps: AppDeps, err: unknown): Promise<never> {
  if (err instanceof UnknownModelError) {
    throw serveError.UNKNOWN_MODEL(err.model, await deps.registry.repositoryModelNames());
  }
  throw err;
}

export const repositoryRoutes: readonly RouteDefinition[] = [
  route({ method: 'POST', path: '/v1/repository/index', operationId: 'repositoryIndex', queuesWork: false }).handle(
    ({ context, req, res }) => {
      requireControl(context.config, req, res);
      res.json({ models: context.registry.index() });
    },
  ),
  route({
    method: 'POST',
    path: '/v1/repository/models/:model/load',
    operationId: 'repositoryLoad',
    queuesWork: false,
  }).handle(async ({ context, req, res }) => {
    requireControl(context.config, req, res);
    const name = req.params.model;
    const versions = await context.registry.load(name).catch((err: unknown) => unknownModel(context, err));
    const failed = versions.filter((v) => v.status === 'unavailable' || v.reloadError !== undefined);
    const serving = context.registry.get(versions[0]?.name ?? name);
    if (failed.length > 0 || !serving || serving.status !== 'ready') {
      const reasons =
        failed.map((v) => `${v.version ?? '?'}: ${v.reloadError ?? v.reason}`).join('; ') || 'no version is ready';
      throw serveError.LOAD_FAILED(name, reasons, serving?.status === 'ready' ? serving.version : undefined);
    }
    res.json(describeModel(serving, context.registry.versionsOf(serving.name)));
  }),
  route({
    method: 'POST',
    path: '/v1/repository/models/:model/unload',
    operationId: 'repositoryUnload',
    queuesWork: false,
  }).handle(async ({ context, req, res }) => {
    requireControl(context.config, req, res);
    const name = req.params.model;
    await context.registry.unload(name).catch((err: unknown) => unknownModel(context, err));
    res.json({ name, unloaded: true });
  }),
];
