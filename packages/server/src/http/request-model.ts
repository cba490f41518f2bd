/**
 * The model (or version) a request names: found, and for work, admitted. route-stages.ts runs these as a
 * route's model stage, before anything else of the request is read.
 */
import type { Response } from 'express';
import { serveError } from '../errors.js';
import type { ModelRegistry } from '../models/model-registry.js';
import { isReady, type ModelVersion, type ReadyModel } from '../models/model-version.js';
import type { RouteContext } from './app-deps.js';
import { answeredFromCache } from './cached-image.js';
import type { RouteRequest } from './route.js';

/** The model and version a path names (`:model`, `:version`); the version is undefined on a path without one. */
export function namedInPath(req: RouteRequest): { name: string; version: string | undefined } {
  const params: Readonly<Partial<Record<string, string>>> = req.params;
  return { name: params.model ?? '', version: params.version };
}

/** The model, or one of its versions: UNKNOWN_MODEL / UNKNOWN_VERSION naming what exists. */
export function findModel(registry: ModelRegistry, name: string, version?: string): ModelVersion {
  const entry = registry.get(name);
  if (!entry) {
    throw serveError.UNKNOWN_MODEL(
      name,
      registry.list().map((m) => m.name),
    );
  }
  if (version === undefined) return entry;
  const pinned = registry.getVersion(name, version);
  if (!pinned) {
    throw serveError.UNKNOWN_VERSION(
      entry.name,
      version,
      registry
        .versionsOf(name)
        .map((v) => v.version ?? '')
        .filter(Boolean),
    );
  }
  return pinned;
}

/** The entry if it is ready, else MODEL_UNAVAILABLE with its state and reason. */
export function readyOrUnavailable(entry: ModelVersion, version?: string): ReadyModel {
  if (isReady(entry)) return entry;
  throw serveError.MODEL_UNAVAILABLE(entry.name, version, entry.status, entry.reason);
}

/**
 * The model (its serving version, or `version`) a request names, if it can take work now: unknown ->
 * UNKNOWN_MODEL / UNKNOWN_VERSION, not ready -> MODEL_UNAVAILABLE, queue full -> QUEUE_FULL (unless the
 * response cache will answer it without queueing). Called first, before the request is validated and
 * built, so that shedding load is cheap. The version is held until the response ends: a reload that
 * retires it meanwhile lets this request finish on it.
 */
export function requireReady(
  deps: Pick<RouteContext, 'registry' | 'responses'>,
  name: string,
  res: Response,
  version?: string,
): ReadyModel {
  const entry = readyOrUnavailable(findModel(deps.registry, name, version), version);
  if (!answeredFromCache(deps, entry, { method: res.req.method, url: res.req.originalUrl }))
    entry.batcher.refuseIfFull();
  deps.registry.hold(entry, res);
  return entry;
}

/** The model behind `/generate`, or UNKNOWN_MODEL saying how to choose one. */
export function defaultModelName(registry: ModelRegistry): string {
  const name = registry.defaultModelName();
  if (name === undefined) {
    throw serveError.UNKNOWN_MODEL(
      undefined,
      registry.list().map((m) => m.name),
    );
  }
  return name;
}
