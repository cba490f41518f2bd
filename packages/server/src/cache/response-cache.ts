/**
 * A least-recently-used store of encoded responses (bytes and content type) keyed by their strong ETag,
 * bounded in bytes. Knows nothing of HTTP; cache/deterministic-responses.ts puts it in front of
 * inference and the routes call that.
 */

export interface CachedResponse {
  body: Buffer;
  contentType: string;
}

/** Hooks for metrics; every method is optional. */
export interface ResponseCacheObserver {
  evicted?(entries: number): void;
  /** The store's size after a change. */
  size?(bytes: number, entries: number): void;
}

/**
 * What an entry costs besides its body: the key, the content type, the Map slot and the Buffer object.
 * Counted so that a stream of tiny bodies cannot hold far more memory than the bound says.
 */
export const ENTRY_OVERHEAD_BYTES = 256;
/** Names one entry may have besides its key: a few spellings of one URL, not one per client's variant. */
export const MAX_ALIASES_PER_ENTRY = 4;

export function entryBytes(key: string, response: CachedResponse): number {
  return response.body.length + key.length + response.contentType.length + ENTRY_OVERHEAD_BYTES;
}

export class ResponseCache {
  /** A Map iterates in insertion order: re-inserting on every hit keeps the least recently used first. */
  private readonly entries = new Map<string, CachedResponse & { bytes: number; aliases: string[] }>();
  /** Other names of entries (alias -> key), gone with their entry. */
  private readonly aliases = new Map<string, string>();
  private usedBytes = 0;

  constructor(
    /** Never held above this; 0 stores nothing. */
    readonly maxBytes: number,
    private readonly observer: ResponseCacheObserver = {},
  ) {}

  get bytes(): number {
    return this.usedBytes;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The entry, now the most recently used; undefined when absent. */
  get(key: string): CachedResponse | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return { body: entry.body, contentType: entry.contentType };
  }

  /**
   * Stores the response, evicting the least recently used entries until it fits; returns false (and
   * stores nothing) when it alone is larger than the bound.
   */
  set(key: string, response: CachedResponse): boolean {
    const body = ownBytes(response.body);
    const bytes = entryBytes(key, response);
    if (bytes > this.maxBytes) return false;
    this.remove(key);
    let evicted = 0;
    for (const oldest of this.entries.keys()) {
      if (this.usedBytes + bytes <= this.maxBytes) break;
      this.remove(oldest);
      evicted++;
    }
    this.entries.set(key, { body, contentType: response.contentType, bytes, aliases: [] });
    this.usedBytes += bytes;
    if (evicted > 0) this.observer.evicted?.(evicted);
    this.observer.size?.(this.usedBytes, this.entries.size);
    return true;
  }

  /**
   * Gives the entry of `key` another name (a request URL that always means this key), counted in its
   * bytes; at most MAX_ALIASES_PER_ENTRY names, and none that would not fit without evicting. Returns
   * whether the alias is now known.
   */
  alias(alias: string, key: string): boolean {
    if (this.aliases.get(alias) === key) return true;
    const entry = this.entries.get(key);
    const bytes = 2 * alias.length + ENTRY_OVERHEAD_BYTES / 4;
    if (entry === undefined || entry.aliases.length >= MAX_ALIASES_PER_ENTRY) return false;
    if (this.usedBytes + bytes > this.maxBytes || this.aliases.has(alias)) return false;
    entry.aliases.push(alias);
    entry.bytes += bytes;
    this.usedBytes += bytes;
    this.aliases.set(alias, key);
    this.observer.size?.(this.usedBytes, this.entries.size);
    return true;
  }

  /** Whether an entry is stored under this alias (without making it the most recently used). */
  hasAlias(alias: string): boolean {
    return this.aliases.has(alias);
  }

  private remove(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    for (const alias of entry.aliases) this.aliases.delete(alias);
    this.usedBytes -= entry.bytes;
  }
}

/**
 * The bytes in a buffer of their own. A Buffer may be a view of a larger ArrayBuffer (Node's pool of small
 * allocations, a transferred worker result): holding the view holds all of it, which the bound would not
 * see. Buffer.alloc never takes from the pool.
 */
function ownBytes(body: Buffer): Buffer {
  if (body.byteOffset === 0 && body.byteLength === body.buffer.byteLength) return body;
  const copy = Buffer.alloc(body.length);
  body.copy(copy);
  return copy;
}
