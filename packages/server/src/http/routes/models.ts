/** The model repository: list and describe models, ready or not. */
import { describeModel } from '../model-description.js';
import type { RouteDefinition } from '../route.js';
import { findModel } from '../route-helpers.js';

export const modelRoutes: readonly RouteDefinition[] = [
  {
    method: 'GET', path: '/v1/models', operationId: 'listModels', queuesWork: false,
    createHandler: ({ registry }) => (_req, res) => {
      res.json({ default_model: registry.defaultModelName() ?? null, models: registry.list().map((m) => describeModel(m, registry.versionsOf(m.name))) });
    },
  },
  {
    method: 'GET', path: '/v1/models/:model', operationId: 'getModel', queuesWork: false,
    createHandler: ({ registry }) => (req, res) => {
      const entry = findModel(registry, req.params.model);
      res.json(describeModel(entry, registry.versionsOf(entry.name)));
    },
  },
];
