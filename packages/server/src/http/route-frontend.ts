/**
 * Which frontend serves a route: the one its declaration names, else the server's own API. app.ts mounts
 * each frontend's routes under it, and the front door answers a shed request in its route's shape.
 */
import { API_FRONTEND } from './api-frontend.js';
import type { Frontend } from './frontend.js';
import type { RouteDefinition } from './route.js';

export function frontendOf(route: Pick<RouteDefinition, 'frontend'>): Frontend {
  return route.frontend ?? API_FRONTEND;
}

/** A route's path as registered on its frontend's router, which is mounted at the frontend's path. */
export function pathInFrontend(frontend: Frontend, path: string): string {
  if (frontend.mountPath === '/') return path;
  if (path !== frontend.mountPath && !path.startsWith(`${frontend.mountPath}/`)) {
    throw new Error(`route ${path} is not under its frontend's mount path ${frontend.mountPath}`);
  }
  // The mount path itself is '' on its router: Express reports the route as `${baseUrl}${route.path}`.
  return path.slice(frontend.mountPath.length);
}
