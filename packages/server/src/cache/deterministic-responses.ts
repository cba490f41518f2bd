/**
 * Responses that are the same bytes every time (a seeded image, a seeded latent walk), served from the
 * response cache before any queueing, or computed once for every concurrent request that asks for them
 * and then stored. Keys are strong ETags, which cover the model version and the digest of its files: a
 * new version or new files never find the old bytes, and the LRU ages their entries out.
 */
import { type CachedResponse, ResponseCache, type ResponseCacheObserver } from './response-cache.js';
import { SharedComputations } from './shared-computations.js';

/** Where a response came from: the cache, or inference (run now, or already running for another request). */
export type CacheOutcome = 'hit' | 'miss';

/** Hooks for metrics, per model; every method is optional. */
export interface DeterministicResponsesObserver extends ResponseCacheObserver {
  hit?(model: string): void;
  miss?(model: string): void;
  /** A miss that waited for a computation another request had started. */
  coalesced?(model: string): void;
}

export class DeterministicResponses {
  private readonly cache: ResponseCache;
  private readonly inflight = new SharedComputations<CachedResponse>();

  constructor(
    maxBytes: number,
    private readonly observer: DeterministicResponsesObserver = {},
  ) {
    this.cache = new ResponseCache(maxBytes, observer);
  }

  /** Off when the bound is 0: requests then compute their own response, unshared. */
  get enabled(): boolean {
    return this.cache.maxBytes > 0;
  }

  /**
   * The response for `key`: from the cache, else from `compute` (run once for all concurrent callers of
   * the key, under a signal that aborts only when every caller's `signal` has). A computed response is
   * stored; a failure goes to every caller and is not.
   */
  async respond(
    key: string,
    model: string,
    signal: AbortSignal,
    compute: (signal: AbortSignal) => Promise<CachedResponse>,
  ): Promise<{ response: CachedResponse; outcome: CacheOutcome }> {
    const cached = this.cache.get(key);
    if (cached !== undefined) {
      this.observer.hit?.(model);
      return { response: cached, outcome: 'hit' };
    }
    this.observer.miss?.(model);
    const { result, joined } = this.inflight.join(key, signal, async (shared) => {
      const response = await compute(shared);
      this.cache.set(key, response);
      return response;
    });
    if (joined) this.observer.coalesced?.(model);
    return { response: await result, outcome: 'miss' };
  }
}
