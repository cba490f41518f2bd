/**
 * An image response through the response cache (cache/deterministic-responses.ts): a request whose bytes
 * its ETag determines (a client-chosen seed) is answered from the cache or from the one generation all
 * concurrent identical requests share; any other request generates its own. `X-Cache` says which:
 * `hit`, `miss` or `bypass` (absent when RESPONSE_CACHE_MB=0).
 */
import type { Response } from 'express';
import type { RouteContext } from './app-deps.js';
import { clientGone } from './client-gone.js';
import { sendImage } from './image-response.js';
import { markCacheHit } from '../telemetry/cache-hit.js';

export interface ImageIdentity {
  /** The strong ETag: the cache key. */
  etag: string;
  /** Whether the bytes are the same on every request (a seed the client chose). */
  deterministic: boolean;
  /** The model name, the metrics' label. */
  model: string;
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
  const { response, outcome } = await responses.respond(image.etag, image.model, clientGone(res), async (signal) => ({
    body: await generate(signal),
    contentType: image.contentType,
  }));
  res.setHeader('X-Cache', outcome);
  markCacheHit(outcome === 'hit');
  sendImage(res, response.contentType, response.body);
}
