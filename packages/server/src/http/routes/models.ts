/** The model repository: list and describe models, ready or not. */
import { describeModel } from '../model-description.js';
import type { RouteDefinition } from '../route.js';
import { route } from '../route-stages.js';

export const modelRoutes: readonly RouteDefinition[] = [
  route({ method: 'GET', path: '/v1/models', operationId: 'listModels', queuesWork: false }).handle(
    ({ context: { registry }, res }) => {
      res.json({
        default_model: registry.defaultModelName() ?? null,
        models: registry.list().map((m) => describeModel(m, registry.versionsOf(m.name))),
      });
    },
  ),
  route({ method: 'GET', path: '/v1/models/:model', operationId: 'getModel', queuesWork: false })
    .knownModel()
    .handle(({ context: { registry }, model, res }) => {
      res.json(describeModel(model, registry.versionsOf(model.name)));
    }),
];
