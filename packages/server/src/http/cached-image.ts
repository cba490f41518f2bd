/**
 * An image response through the response cache (cache/deterministic-responses.ts): a request whose bytes
 * its ETag determines (a client-chosen seed) is answered from the cache or from the one generation all
 * concurrent identical requests share; any other request generates its own. `X-Cache` says which:
 * `hit`, `miss` or `bypass` (absent when RESPONSE_CACHE_MB=0).
 */
import type { IncomingMessage } from 'node:http';
import type { Response } from 'express';
import type { ReadyModel } from '../models/model-version.js';
import type { RouteContext } from './app-deps.js';
import { clientGone } from './client-gone.js';
import { sendImage } from './image-response.js';
import { markCacheHit } from '../telemetry/cache-hit.js';

/** What names a model version's bytes: name, version and the digest of its files. */
export type CachedImageModel = Pick<ReadyModel, 'name' | 'version' | 'contentDigest'>;

/**
 * The name a GET of `model` by this URL has in the response cache, or undefined for other methods. A
 * seeded GET's URL determines its bytes for one model version (and its files), so the front door and the
 * model stage can tell, from the URL alone, that the cache will answer it and not shed it under load.
 */
export function cachedUrlKey(
  model: CachedImageModel,
  req: Pick<IncomingMessage, 'method' | 'url'>,
): string | undefined {
  if (req.method !== 'GET' || req.url === undefined) return undefined;
  return JSON.stringify([model.name, model.version, model.contentDigest, req.url]);
}

/** Whether the response cache would answer this request without queueing (see cachedUrlKey). */
export function answeredFromCache(
  { responses }: Pick<RouteContext, 'responses'>,
  model: CachedImageModel,
  req: Pick<IncomingMessage, 'method' | 'url'>,
): boolean {
  const key = cachedUrlKey(model, req);
  return key !== undefined && responses.answersFromCache(key);
}

export interface ImageIdentity {
  /** The strong ETag: the cache key. */
  etag: string;
  /** Whether the bytes are the same on every request (a seed the client chose). */
  deterministic: boolean;
  /** The version that makes it (its name is the metrics' label). */
  model: CachedImageModel;
  contentType: string;
}

/**
 * Sends the image `generate` makes (given the signal that cancels its inference), or the cached one.
 * `generate` must not touch `res`: one call may answer several requests.
 */
export async function sendCachedImage(
  { responses }: Pick<RouteContext, 'responses'>,
  res: Response,
  image: ImageIdentity,
  generate: (signal: AbortSignal) => Promise<Buffer>,
): Promise<void> {
  if (!responses.enabled || !image.deterministic) {
    if (responses.enabled) res.setHeader('X-Cache', 'bypass');
    sendImage(res, image.contentType, await generate(clientGone(res)));
    return;
  }
  const { response, outcome } = await responses.respond(
    image.etag,
    image.model.name,
    clientGone(res),
    async (signal) => ({ body: await generate(signal), contentType: image.contentType }),
    cachedUrlKey(image.model, { method: res.req.method, url: res.req.originalUrl }),
  );
  res.setHeader('X-Cache', outcome);
  markCacheHit(outcome === 'hit');
  sendImage(res, response.contentType, response.body);
}
