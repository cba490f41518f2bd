/**
 * Every API route, in registration order (web pages are static files, routes/web.ts). app.ts registers
 * them and answers 405 from them; the front door sheds the ones that queue work; the fuzz test and the
 * dashboard test read them; test/http/route-table.test.ts holds them against openapi.yaml.
 */
import type { RouteDefinition } from './route.js';
import { generateRoutes } from './routes/generate.js';
import { healthRoutes } from './routes/health.js';
import { inferenceProtocolRoutes } from './routes/inference-protocol.js';
import { interpolateRoutes } from './routes/interpolate.js';
import { modelRoutes } from './routes/models.js';
import { repositoryRoutes } from './routes/repository.js';
import { samplesRoutes } from './routes/samples.js';

export const API_ROUTES: readonly RouteDefinition[] = [
  ...healthRoutes,
  ...modelRoutes,
  ...generateRoutes,
  ...samplesRoutes,
  ...interpolateRoutes,
  ...inferenceProtocolRoutes,
  ...repositoryRoutes,
];

/** Each route path with the methods it has (what a 405's Allow header lists). */
export function methodsByPath(routes: readonly RouteDefinition[] = API_ROUTES): Map<string, string[]> {
  const byPath = new Map<string, string[]>();
  for (const { path, method } of routes) byPath.set(path, [...(byPath.get(path) ?? []), method]);
  return byPath;
}
