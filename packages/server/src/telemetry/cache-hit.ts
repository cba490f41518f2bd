/**
 * The response cache's mark on the request span (`sagan.cache_hit`), so traces show which answers
 * came from the cache. Does nothing when tracing is off or no request is being handled.
 */
import { requestSpan, SPAN_ATTRIBUTES, tracingActive } from './request-span.js';

export function markCacheHit(hit: boolean): void {
  if (!tracingActive()) return;
  requestSpan()?.setAttribute(SPAN_ATTRIBUTES.cacheHit, hit);
}
