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
   * stored; a failure goes to every caller and is not. `alias`, when given, is a name that will always
   * mean this key (a GET's model version and URL): answersFromCache(alias) is then true while it is stored.
   */
  async respond(
    key: string,
    model: string,
    signal: AbortSignal,
    compute: (signal: AbortSignal) => Promise<CachedResponse>,
    alias?: string,
  ): Promise<{ response: CachedResponse; outcome: CacheOutcome }> {
    const cached = this.cache.get(key);
    if (cached !== undefined) {
      this.observer.hit?.(model);
      if (alias !== undefined) this.cache.alias(alias, key);
      return { response: cached, outcome: 'hit' };
    }
    this.observer.miss?.(model);
    const { result, joined } = this.inflight.join(key, signal, async (shared) => {
      const response = await compute(shared);
      this.cache.set(key, response);
      return response;
    });
    if (joined) this.observer.coalesced?.(model);
    const response = await result;
    if (alias !== undefined) this.cache.alias(alias, key);
    return { response, outcome: 'miss' };
  }

  /**
   * Whether a request known by `alias` would be answered from the cache now. Load shedding asks this
   * before it refuses a request to a full queue: a request that needs no queue is not overload. (The
   * entry may be evicted before the request reaches the cache; the request then queues like any other,
   * and a full queue refuses it there.)
   */
  answersFromCache(alias: string): boolean {
    return this.enabled && this.cache.hasAlias(alias);
  }
}
