/**
 * What the app knows of a route: method, path template, the OpenAPI operation it implements, whether it
 * queues generation work, and how to build its handler for an app. Routes are declared with
 * route-stages.ts, which builds this from the declaration. app.ts registers the table in route-table.ts,
 * answers 405 for a known path with another method from it, and the front door picks the routes it may
 * shed from it; a test holds it against openapi.yaml.
 */
import type { Request, Response } from 'express';
import type { RouteContext } from './app-deps.js';
import type { Frontend } from './frontend.js';

export type HttpMethod = 'GET' | 'POST';

/** A request whose path parameters (`:model`, `:version`) are single strings: no route has wildcards. */
export type RouteRequest = Request<Record<string, string>>;

/** What a route's requests go through before its handler, in the order route-stages.ts runs them. */
export type RouteStageName = 'known-model' | 'ready-model' | 'ready-default-model' | 'query' | 'json-body';

export type RouteHandler = (req: RouteRequest, res: Response) => void | Promise<void>;

export interface RouteDefinition {
  method: HttpMethod;
  /** Express template: `/v1/models/:model/generate`. */
  path: string;
  /** The operation in openapi.yaml (same method, path written `{model}`). */
  operationId: string;
  /** Generation work goes through a model's batcher: the front door sheds it when the queue is full. */
  queuesWork: boolean;
  /** The frontend it belongs to (its mount and error shape); the server's own API when absent. */
  frontend?: Frontend;
  /** The stages its requests pass before the handler runs, in order. */
  stages: readonly RouteStageName[];
  /** Called once per app: compiles validators and closes over the context. */
  createHandler: (context: RouteContext) => RouteHandler;
}
