import type { AppDeps } from './app-deps.js';

/** Ready for traffic (/readyz, /v2/health/ready): every model has a ready version and no drain has begun. */
export function serverReady({ registry, lifecycle }: Pick<AppDeps, 'registry' | 'lifecycle'>): boolean {
  return registry.allReady() && !lifecycle.draining;
}
