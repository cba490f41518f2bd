/**
 * What the app is built from (createApp's input) and what its route handlers see. Kept apart from
 * app.ts so that routes depend on these types, not on the module that registers them.
 */
import type { Logger } from 'pino';
import type { DeterministicResponses } from '../cache/deterministic-responses.js';
import type { ServerConfig } from '../config.js';
import type { Metrics } from '../metrics.js';
import type { ModelRegistry } from '../models/model-registry.js';
import type { RenderPool } from '../render/render-pool.js';
import type { OpenApiValidators } from './openapi-validation.js';

/** Shared, mutable server state the routes read (set when SIGTERM arrives). */
export interface Lifecycle {
  draining: boolean;
}

export interface AppDeps {
  config: Readonly<ServerConfig>;
  registry: ModelRegistry;
  metrics: Metrics;
  logger: Logger;
  lifecycle: Lifecycle;
  validators: OpenApiValidators;
  /** Encodes response images off the HTTP thread; owned (and closed) by whoever calls createApp. */
  renderer: RenderPool;
  /** The response cache (responseCacheFor), shared with the front door, which sheds no request it answers. */
  responses: DeterministicResponses;
}

/**
 * AppDeps plus what createApp derives once for every route: the API document and the server version.
 */
export interface RouteContext extends AppDeps {
  openApiText: string;
  serverVersion: string;
}
