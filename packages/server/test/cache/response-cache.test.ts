import { test } from 'node:test';
import assert from 'node:assert/strict';
import { entryBytes, ResponseCache } from '../../src/cache/response-cache.js';

const png = (bytes: number, fill = 1) => ({ body: Buffer.alloc(bytes, fill), contentType: 'image/png' });
/** What an entry of `bytes` body bytes under a one-character key costs. */
const cost = (bytes: number) => entryBytes('k', png(bytes));

test('stores and returns an entry by key; an absent key is undefined', () => {
  const cache = new ResponseCache(10_000);
  assert.equal(cache.set('a', png(100, 7)), true);
  const got = cache.get('a');
  assert.equal(got?.contentType, 'image/png');
  assert.ok(got?.body.equals(Buffer.alloc(100, 7)));
  assert.equal(cache.get('b'), undefined);
  assert.equal(cache.bytes, entryBytes('a', png(100)));
  assert.equal(cache.size, 1);
});

test('never holds more than the bound: the least recently used entries go first', () => {
  const evictions: number[] = [];
  const cache = new ResponseCache(3 * cost(1000), { evicted: (n) => evictions.push(n) });
  cache.set('a', png(1000));
  cache.set('b', png(1000));
  cache.set('c', png(1000));
  assert.equal(cache.size, 3);
  assert.ok(cache.get('a'), 'a is now the most recently used');
  cache.set('d', png(1000));
  assert.equal(cache.get('b'), undefined, 'b was the least recently used');
  assert.ok(cache.get('a') && cache.get('c') && cache.get('d'));
  assert.ok(cache.bytes <= cache.maxBytes);
  // One entry as large as the bound evicts everything else.
  cache.set('e', png(cache.maxBytes - cost(0)));
  assert.ok(cache.bytes <= cache.maxBytes);
  assert.equal(cache.size, 1);
  assert.deepEqual(evictions, [1, 3]);
});

test('an entry larger than the bound is not stored and evicts nothing', () => {
  const cache = new ResponseCache(cost(1000));
  cache.set('a', png(1000));
  assert.equal(cache.set('big', png(1001)), false);
  assert.equal(cache.get('big'), undefined);
  assert.ok(cache.get('a'));
  assert.equal(cache.bytes, cost(1000));
});

test('replacing a key counts its bytes once', () => {
  const cache = new ResponseCache(10_000);
  cache.set('a', png(100));
  cache.set('a', png(300));
  assert.equal(cache.size, 1);
  assert.equal(cache.bytes, entryBytes('a', png(300)));
});

test('a bound of 0 stores nothing', () => {
  const cache = new ResponseCache(0);
  assert.equal(cache.set('a', png(0)), false);
  assert.equal(cache.size, 0);
});

test('a body that views a larger buffer is copied, so the bound counts what is held', () => {
  const cache = new ResponseCache(10_000);
  const pool = Buffer.alloc(1 << 20, 3);
  cache.set('a', { body: pool.subarray(10, 110), contentType: 'image/png' });
  const body = cache.get('a')?.body;
  assert.equal(body?.length, 100);
  assert.equal(body?.buffer.byteLength, 100, 'not a view of the 1 MiB buffer');
});
