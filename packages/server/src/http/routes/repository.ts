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

async function unknownModel(deps: AppDeps, err: unknown): Promise<never> {
  if (err instanceof UnknownModelError) {
    throw serveError.UNKNOWN_MODEL(err.model, await deps.registry.repositoryModelNames());
  }
  throw err;
}

export const repositoryRoutes: readonly RouteDefinition[] = [
  {
    method: 'POST', path: '/v1/repository/index', operationId: 'repositoryIndex', queuesWork: false,
    createHandler: (deps) => (req, res) => {
      requireControl(deps.config, req, res);
      res.json({ models: deps.registry.index() });
    },
  },
  {
    method: 'POST', path: '/v1/repository/models/:model/load', operationId: 'repositoryLoad', queuesWork: false,
    createHandler: (deps) => async (req, res) => {
      requireControl(deps.config, req, res);
      const name = req.params.model;
      const versions = await deps.registry.load(name).catch((err: unknown) => unknownModel(deps, err));
      const failed = versions.filter((v) => v.status === 'unavailable' || v.reloadError !== undefined);
      const serving = deps.registry.get(versions[0]?.name ?? name);
      if (failed.length > 0 || !serving || serving.status !== 'ready') {
        const reasons = failed.map((v) => `${v.version ?? '?'}: ${v.reloadError ?? v.reason}`).join('; ') || 'no version is ready';
        throw serveError.LOAD_FAILED(name, reasons, serving?.status === 'ready' ? serving.version : undefined);
      }
      res.json(describeModel(serving, deps.registry.versionsOf(serving.name)));
    },
  },
  {
    method: 'POST', path: '/v1/repository/models/:model/unload', operationId: 'repositoryUnload', queuesWork: false,
    createHandler: (deps) => async (req, res) => {
      requireControl(deps.config, req, res);
      const name = req.params.model;
      await deps.registry.unload(name).catch((err: unknown) => unknownModel(deps, err));
      res.json({ name, unloaded: true });
    },
  },
];
