/**
 * Property-based fuzzing of every endpoint with fast-check: >= 10,000 random and adversarial requests
 * against one real app (real workers, real ONNX Runtime, real sharp) on a listening socket, through a
 * keep-alive agent. Wrong types, huge numbers, unicode, injection strings, long and repeated query
 * parameters, bad JSON (including NaN, which JSON cannot carry), wrong content types and encodings,
 * oversized bodies, z of the wrong length, random paths and methods, several encodings of path traversal.
 *
 * Every response must be: not 5xx; a 4xx whose JSON body has an error.code from ERROR_CODES with its
 * HTTP status (HTTP_STATUS); free of stack frames and file paths. Afterwards the server must still serve a valid
 * request and every queue must be empty. Valid generation requests use 16x16 models with small caps on
 * size, n and stream length so the whole run stays well under a minute on 2 cores.
 *
 * Reproduce a failure with FUZZ_SEED=<seed printed by fast-check>; FUZZ_RUNS scales the run.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { Agent } from 'node:http';
import net from 'node:net';
import fc from 'fast-check';
import { methodsByPath } from '../../src/http/route-table.js';
import { checkResponse, errorFields, leakPatterns } from '../../scripts/reliability/response-checks.js';
import { json, keepAliveAgent, send, type RawRequest } from '../../scripts/reliability/http-client.js';
import { listenLocally, makeModelsDir, startTestServer, type TestServer } from '../helpers/test-server.js';

const CLASSES = ['maltese_dog', 'golden_retriever', 'german_shepherd', 'saint_bernard'];
const BODY_LIMIT = 4096;
/** Requests sent concurrently per property run; runs x batch = total requests. */
const BATCH = 16;
const RUNS = Number(process.env.FUZZ_RUNS ?? 640);
const TIME_LIMIT_MS = 55_000;

/** Percent-encodes every byte outside the unreserved set (lone surrogates become U+FFFD, as UTF-8 must). */
function pct(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Keeps only characters a request target may carry unescaped (the rest would be refused by the client). */
function rawSafe(text: string): string {
  return text.replace(/[^\x21-\x7e]/g, '').replace(/#/g, '');
}

// ---- building blocks ---------------------------------------------------------------------------------

const INJECTION = [
  "' OR '1'='1",
  '"; DROP TABLE models; --',
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '${7*7}',
  '{{7*7}}',
  '#{7*7}',
  '$(reboot)',
  '`id`',
  '| cat /etc/passwd',
  '; ls -la',
  '../../../../etc/passwd',
  '..\\..\\..\\windows\\win.ini',
  '%00',
  '\u0000',
  '\r\nSet-Cookie: x=1',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '%s%s%s%n',
  '\u202e\u0041\u0042',
  '\ud83d\ude00',
  '\ud800',
  'A'.repeat(300),
  'null',
  'undefined',
  'true',
  '[]',
  '{}',
  '{"$gt":""}',
  'javascript:alert(1)',
  'file:///etc/passwd',
  'http://169.254.169.254/latest/meta-data/',
];
const WEIRD_NUMBERS = [
  'NaN',
  'Infinity',
  '-Infinity',
  '1e309',
  '-1e309',
  '-0',
  '0x1F',
  '0b11',
  '0o7',
  '1e-400',
  '9007199254740993',
  '4294967295',
  '4294967296',
  '-1',
  '1.5',
  '',
  ' ',
  '0.0',
  '+1',
  '1_000',
  '1,000',
  '١٢',
  '１',
  '1e3',
  '.5',
  '5.',
  '00000000000000000000001',
  '1'.repeat(400),
  '-'.repeat(3),
  'e',
  '0e0',
  '2e-1',
];

const anyText = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom(...INJECTION),
);
const weirdNumber = fc.constantFrom(...WEIRD_NUMBERS);
const longText = fc
  .tuple(fc.integer({ min: 200, max: 4000 }), fc.constantFrom('a', '9', '%', 'é', ',', '&', '='))
  .map(([n, c]) => c.repeat(n));

const className = fc.oneof(
  fc.constantFrom(...CLASSES, 'Saint Bernard', 'GOLDEN-retriever', '0', '3', '4', '99', 'a', 'b'),
  fc.integer({ min: -5, max: 10 }).map(String),
);

/** Model names as a path segment: real ones, unknown ones, traversal in several encodings, junk. */
const modelSegment = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('tiny', 'plain') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'nope',
      'TINY',
      'tiny%20',
      '%20tiny',
      'tiny%00',
      'tiny.',
      '.tiny',
      '..',
      '.',
      '%2e%2e',
      '%2E%2E',
      '..%2f..%2fetc%2fpasswd',
      '..%2F..%2F..%2Fetc%2Fpasswd',
      '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '..%252f..%252fetc',
      '%252e%252e',
      '%c0%ae%c0%ae',
      '%c0%af',
      '..%5c..%5cwindows',
      '..%c0%af',
      '%e0%80%ae%e0%80%ae',
      'tiny%2f..%2fplain',
      'tiny%2F..',
      '%2Ftmp',
      '%2fetc%2fpasswd',
      'model.json',
      'generator.onnx',
      '..%2fmodel.json',
      '%E0%A4%A',
      '%',
      '%zz',
      '%u002e%u002e',
      'con',
      'nul',
      'aux',
      '~root',
      '*',
      '%2A',
      'tiny;x=1',
      'tiny%3Bx',
      'a'.repeat(300),
    ),
  },
  { weight: 2, arbitrary: anyText.map(pct) },
);

/** Every route the app declares (so a new route is fuzzed without touching this file), any model segment. */
const declaredRoute = fc
  .tuple(fc.constantFrom(...methodsByPath().keys()), modelSegment)
  .map(([template, model]) => template.replace(':model', model));

const endpoint = fc.oneof(
  { weight: 4, arbitrary: declaredRoute },
  { weight: 6, arbitrary: fc.constant('/generate') },
  { weight: 8, arbitrary: modelSegment.map((m) => `/v1/models/${m}/generate`) },
  { weight: 4, arbitrary: modelSegment.map((m) => `/v1/models/${m}/samples`) },
  { weight: 2, arbitrary: modelSegment.map((m) => `/v1/models/${m}`) },
  { weight: 1, arbitrary: fc.constantFrom('/v1/models', '/healthz', '/readyz', '/metrics', '/openapi.yaml') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '/',
      '/v1',
      '/v1/',
      '/v1/models/',
      '//generate',
      '/generate/',
      '/GENERATE',
      '/v1/models/tiny/generate/x',
      '/v1//models',
      '/./generate',
      '/../generate',
      '/%2e%2e/etc/passwd',
      '/generate%00',
      '/generate;jsessionid=1',
      '/generate%2F',
      '/.env',
      '/.git/config',
      '/server-status',
      '/static/../../etc/passwd',
      '/public/%2e%2e/%2e%2e/package.json',
      '/favicon.ico',
      '/v1/models/tiny/generate%3Fclass=0',
      '/metrics/',
      '/healthz/../readyz',
    ),
  },
  {
    weight: 2,
    arbitrary: fc.array(anyText.map(pct), { minLength: 1, maxLength: 5 }).map((segments) => `/${segments.join('/')}`),
  },
  { weight: 1, arbitrary: fc.webPath() },
);

const queryKey = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.constantFrom(
      'class',
      'seed',
      'truncation',
      'format',
      'size',
      'n',
      'attention',
      'query',
      'resample',
      'from',
      'to',
      'steps',
      'mode',
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'z',
      'model',
      '__proto__',
      'constructor',
      'class[]',
      'class[0]',
      'seed[]',
      'Class',
      'CLASS',
      '',
      ' class',
    ),
  },
  { weight: 1, arbitrary: anyText },
);

/** Values that are right for their parameter, so that some fuzzed requests do generate. */
const goodValue: Record<string, fc.Arbitrary<string>> = {
  class: className,
  seed: fc.oneof(fc.nat(100).map(String), fc.constantFrom('0', '4294967295')),
  truncation: fc.constantFrom('0.5', '1', '0.01', '1e-3'),
  format: fc.constantFrom('png', 'jpeg', 'webp', 'PNG', 'gif'),
  size: fc.constantFrom('16', '32', '48', '15', '49', '8192'),
  n: fc.constantFrom('1', '2', '4', '5', '0'),
  attention: fc.constantFrom('none', 'overlay', 'panel', 'both'),
  query: fc.constantFrom('0,0', '15,15', '8,4', '16,0', '99999,1', '1,', ',1', '1,1,1', '-1,2', '1.5,2'),
  resample: fc.constantFrom('nearest', 'lanczos3', 'cubic'),
  from: fc.oneof(fc.nat(100).map(String), fc.constantFrom('-1', '4294967296')),
  to: fc.oneof(fc.nat(100).map(String), fc.constantFrom('1.5', '')),
  steps: fc.constantFrom('2', '8', '16', '1', '17', '0'),
  mode: fc.constantFrom('lerp', 'slerp', 'cubic'),
};

const queryPair = queryKey.chain((key) =>
  fc.tuple(
    fc.constant(key),
    fc.oneof(
      { weight: 6, arbitrary: Object.hasOwn(goodValue, key) ? goodValue[key] : anyText },
      { weight: 2, arbitrary: weirdNumber },
      { weight: 2, arbitrary: anyText },
      { weight: 1, arbitrary: longText },
    ),
  ),
);

/** A query string: encoded properly, sent raw (only safe characters), or with broken percent-escapes. */
const queryString = fc
  .tuple(fc.array(queryPair, { maxLength: 10 }), fc.constantFrom('encoded', 'encoded', 'encoded', 'raw', 'broken'))
  .map(([pairs, style]) => {
    if (pairs.length === 0) return '';
    const parts = pairs.map(([k, v]) => {
      if (style === 'raw') return `${rawSafe(k)}=${rawSafe(v)}`;
      if (style === 'broken') return `${pct(k)}=${pct(v)}${['%', '%E0%A4%A', '%zz', '%%', '%u0041'][v.length % 5]}`;
      return `${pct(k)}=${pct(v)}`;
    });
    return `?${parts.join('&')}`;
  });

/** A valid generate query (so the fuzz also drives real generation through batching and rendering). */
const validGenerateQuery = (classes: string[], attention: boolean) =>
  fc
    .record({
      class: fc.oneof(fc.constantFrom(...classes), fc.nat(classes.length - 1).map(String)),
      seed: fc.option(fc.nat(1000), { nil: undefined }),
      truncation: fc.option(fc.constantFrom(0.3, 0.7, 1), { nil: undefined }),
      format: fc.option(fc.constantFrom('png', 'jpeg', 'webp'), { nil: undefined }),
      size: fc.option(fc.constantFrom(16, 24, 32, 48), { nil: undefined }),
      n: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
      // A model without attention is asked for an overlay now and then (NO_ATTENTION).
      attention: attention
        ? fc.option(fc.constantFrom('overlay', 'panel'), { nil: undefined })
        : fc.oneof({ weight: 9, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constant('overlay') }),
      query: fc.array(
        fc.tuple(fc.nat(15), fc.nat(15)).map(([x, y]) => `${x},${y}`),
        { maxLength: 3 },
      ),
      resample: fc.option(fc.constantFrom('nearest', 'lanczos3'), { nil: undefined }),
    })
    .map((q) => {
      if (q.attention) q.n = undefined;
      const parts = Object.entries(q).flatMap(([k, v]) => {
        if (v === undefined) return [];
        if (Array.isArray(v)) return q.attention ? v.map((p) => `query=${p}`) : [];
        return [`${k}=${pct(String(v))}`];
      });
      return `?${parts.join('&')}`;
    });

/** A valid interpolation strip query (class 0 and 1 exist in both models). */
const validInterpolateQuery = fc
  .record({
    class: fc.constantFrom('0', '1'),
    from: fc.nat(1000),
    to: fc.nat(1000),
    steps: fc.option(fc.integer({ min: 2, max: 16 }), { nil: undefined }),
    mode: fc.option(fc.constantFrom('lerp', 'slerp'), { nil: undefined }),
    truncation: fc.option(fc.constantFrom(0.5, 1), { nil: undefined }),
    format: fc.option(fc.constantFrom('png', 'jpeg', 'webp'), { nil: undefined }),
    size: fc.option(fc.constantFrom(16, 32), { nil: undefined }),
  })
  .map(
    (q) =>
      `?${Object.entries(q)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join('&')}`,
  );

const latentValue = fc.oneof(
  { weight: 8, arbitrary: fc.double({ min: -3, max: 3, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(1e308, -1e308, 1001, -1000.5, 5e-324, -0, Number.MAX_SAFE_INTEGER) },
  { weight: 1, arbitrary: fc.double() }, // NaN and +-Infinity become null in JSON.stringify
);
const latent = fc.oneof(
  { weight: 5, arbitrary: fc.array(latentValue, { minLength: 16, maxLength: 16 }) },
  { weight: 3, arbitrary: fc.array(latentValue, { minLength: 0, maxLength: 40 }) },
  {
    weight: 1,
    arbitrary: fc.array(fc.oneof(fc.string(), fc.boolean(), fc.constant(null), fc.array(fc.nat())), { maxLength: 16 }),
  },
);
const zField = fc.oneof(
  latent,
  fc.array(latent, { minLength: 1, maxLength: 5 }),
  fc.constantFrom('0,1,2', 'NaN', 0, null, {}, [[[]]], [[1, 2], 3]),
);

const fieldValue = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: weirdNumber },
  { weight: 1, arbitrary: fc.constantFrom(1e308, -1, 0, 1.5, 4294967296, 2 ** 53, -0, true, null, [], {}) },
);

const generateBody = fc.record(
  {
    class: fc.oneof(className, fc.nat(10), fieldValue),
    seed: fc.oneof(fc.nat(1000), fieldValue),
    truncation: fc.oneof(fc.double({ min: 0, max: 1.5, noNaN: true }), fieldValue),
    format: fc.oneof(fc.constantFrom('png', 'jpeg', 'webp'), fieldValue),
    size: fc.oneof(fc.constantFrom(16, 32, 48, 64), fieldValue),
    n: fc.oneof(fc.integer({ min: 1, max: 5 }), fieldValue),
    attention: fc.oneof(fc.constantFrom('none', 'overlay', 'panel'), fieldValue),
    query: fc.oneof(fc.array(fc.constantFrom('1,1', '15,15', '16,16', 'x'), { maxLength: 6 }), fieldValue),
    resample: fc.oneof(fc.constantFrom('nearest', 'lanczos3'), fieldValue),
    z: zField,
    extra: fieldValue,
  },
  { requiredKeys: [] },
);

const samplesBody = fc.record(
  {
    class: fc.oneof(className, fc.nat(10), fieldValue),
    classes: fc.oneof(fc.array(fc.oneof(className, fc.nat(6)), { maxLength: 4 }), fieldValue),
    seeds: fc.oneof(
      fc.array(fc.oneof(fc.nat(100), fc.constantFrom(-1, 1.5, 4294967296)), { maxLength: 6 }),
      fieldValue,
    ),
    start_seed: fc.oneof(fc.nat(100), fieldValue),
    count: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.constantFrom(0, 9, 1e9, 1e308), fieldValue),
    truncation: fc.oneof(fc.constantFrom(0.5, 1), fieldValue),
    format: fc.oneof(fc.constantFrom('png', 'jpeg', 'webp'), fieldValue),
    extra: fieldValue,
  },
  { requiredKeys: [] },
);

/** Bodies JSON cannot express or that are broken on purpose. */
const RAW_BODIES = [
  '{"class":0,"z":[NaN]}',
  '{"class":0,"z":[Infinity]}',
  '{"class":0,"z":[-Infinity]}',
  '{"class":0,"z":[1e400]}',
  '{"class":0,"seed":NaN}',
  '{"class":0,"n":Infinity}',
  "{'class':0}",
  '{"class":0,}',
  '{"class":0',
  '{class:0}',
  '',
  'null',
  '[]',
  '"class"',
  '1',
  'true',
  '\ufeff{"class":0}',
  '{"class":0}garbage',
  '{"class":0}{"class":1}',
  '{"class":"\\ud800"}',
  '{"class":"\\u0000"}',
  '{"__proto__":{"polluted":1},"class":0}',
  '{"constructor":{"prototype":{}},"class":0}',
  '{"class":0,"class":1}',
  `${'['.repeat(5000)}${']'.repeat(5000)}`,
  `{"class":0,"z":${'['.repeat(2000)}${']'.repeat(2000)}}`,
  '{"class":0,"z":[0x10]}',
  '{"class":0,"z":[.5]}',
  '{"class":0,"z":[+1]}',
  '{"class":0,"z":[01]}',
  '\u0000\u0001\u0002',
];

const body = fc.oneof(
  { weight: 5, arbitrary: generateBody.map((b) => JSON.stringify(b)) },
  { weight: 3, arbitrary: samplesBody.map((b) => JSON.stringify(b)) },
  { weight: 2, arbitrary: fc.constantFrom(...RAW_BODIES) },
  { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 64 }) },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: BODY_LIMIT - 50, max: BODY_LIMIT * 3 })
      .map((n) => `{"class":0,"pad":"${'x'.repeat(n)}"}`),
  },
);

const contentType = fc.oneof(
  { weight: 10, arbitrary: fc.constant('application/json') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8',
      'application/json; charset=latin1',
      'application/json; charset=utf-16',
      'application/json; charset=x-unknown',
      'APPLICATION/JSON',
      'application/vnd.api+json',
      'application/merge-patch+json',
      'text/plain',
      'text/json',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/xml',
      'image/png',
      '*/*',
      'json',
      ';',
      'application/json;;',
      'application/json; boundary',
      'application/',
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 30 }) },
);

const method = fc.oneof(
  { weight: 10, arbitrary: fc.constant('GET') },
  { weight: 10, arbitrary: fc.constant('POST') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'PUT',
      'DELETE',
      'PATCH',
      'HEAD',
      'OPTIONS',
      'TRACE',
      'PROPFIND',
      'PURGE',
      'SEARCH',
      'QUERY',
    ),
  },
);

const printable = fc.string({ unit: 'grapheme-ascii', maxLength: 60 });
const extraHeaders = fc.record(
  {
    'x-request-id': fc.oneof(printable, fc.uuid(), fc.constant('a'.repeat(200))),
    'if-none-match': fc.oneof(printable, fc.constant('*'), fc.constant('"x", W/"y"')),
    accept: fc.constantFrom('*/*', 'image/png', 'application/json', 'text/html', 'x/y'),
    'content-encoding': fc.constantFrom('identity', 'gzip', 'deflate', 'br', 'x-unknown', 'gzip, gzip'),
    'accept-encoding': fc.constantFrom('gzip', 'br', '*'),
    'x-forwarded-for': fc.constantFrom('127.0.0.1', '::1', 'evil'),
    expect: fc.constantFrom('100-continue'),
  },
  { requiredKeys: [] },
);

const fuzzRequest: fc.Arbitrary<RawRequest> = fc.oneof(
  // Anything anywhere.
  {
    weight: 5,
    arbitrary: fc
      .record({
        method,
        path: endpoint,
        query: queryString,
        body: fc.option(body, { freq: 2 }),
        type: fc.option(contentType),
        headers: extraHeaders,
      })
      .map(({ method: m, path, query, body: b, type, headers }) => ({
        method: m,
        path: `${path}${query}`,
        body: b ?? undefined,
        headers: { ...headers, ...(type !== null ? { 'content-type': type } : {}) },
      })),
  },
  // GET generate with mostly valid parameters.
  {
    weight: 3,
    arbitrary: fc
      .oneof(
        {
          weight: 4,
          arbitrary: fc.tuple(
            fc.constantFrom('/generate', '/v1/models/tiny/generate'),
            validGenerateQuery(CLASSES, true),
          ),
        },
        {
          weight: 2,
          arbitrary: fc.tuple(fc.constant('/v1/models/plain/generate'), validGenerateQuery(['a', 'b'], false)),
        },
        {
          weight: 1,
          arbitrary: fc.tuple(
            fc.constantFrom('/v1/models/tiny/interpolate', '/v1/models/plain/interpolate'),
            validInterpolateQuery,
          ),
        },
      )
      .map(([path, query]) => ({ method: 'GET', path: `${path}${query}` })),
  },
  // POST JSON to the generation endpoints.
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.constantFrom(
          '/generate',
          '/v1/models/tiny/generate',
          '/v1/models/plain/generate',
          '/v1/models/tiny/samples',
          '/v1/models/plain/samples',
        ),
        body,
        contentType,
      )
      .map(([path, b, type]) => ({ method: 'POST', path, body: b, headers: { 'content-type': type } })),
  },
);

// ---- the test -------------------------------------------------------------------------------------------

describe('fuzz', () => {
  let ts: TestServer;
  let server: Server;
  let base: string;
  let agent: Agent;

  before(async () => {
    const dir = await makeModelsDir([
      { name: 'tiny', classes: CLASSES, batching: { maxQueueDelayMs: 2 } },
      { name: 'plain', classes: ['a', 'b'], attentionResolution: null, seed: 2, batching: { maxQueueDelayMs: 2 } },
    ]);
    ts = await startTestServer(dir, {
      defaultModel: 'tiny',
      maxImageSize: 48,
      maxSamplesPerImage: 4,
      maxStreamSamples: 8,
      bodyLimitBytes: BODY_LIMIT,
      pngCompressionLevel: 1,
    });
    ({ server, base } = await listenLocally(ts.app));
    agent = keepAliveAgent(BATCH);
  });
  after(async () => {
    agent.destroy();
    await new Promise((resolve) => server.close(resolve));
    await ts.close();
  });

  test(
    `${RUNS * BATCH} random and adversarial requests: no 5xx, coded 4xx, no leaks, still serving`,
    { timeout: 120_000 },
    async () => {
      const leaks = leakPatterns([ts.modelsDir]);
      const statuses = new Map<number, number>();
      const codes = new Map<string, number>();
      let sent = 0;
      let firstFailure: string | undefined;
      let slowest = 0;
      const slow: string[] = [];
      const started = performance.now();
      const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

      const details = await fc.check(
        fc.asyncProperty(fc.array(fuzzRequest, { minLength: BATCH, maxLength: BATCH }), async (requests) => {
          const responses = await Promise.all(requests.map((r) => send(base, { ...r, timeoutMs: 15_000 }, agent)));
          sent += requests.length;
          responses.forEach((res, i) => {
            slowest = Math.max(slowest, res.ms);
            if (res.ms > 2000)
              slow.push(
                `${Math.round(res.ms)} ms ${requests[i].method} ${requests[i].path.slice(0, 200)} ${JSON.stringify(requests[i].headers ?? {}).slice(0, 300)}`,
              );
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
            if (res.status >= 400 && String(res.headers['content-type']).startsWith('application/json')) {
              try {
                const code = String(errorFields(json(res)).code);
                codes.set(code, (codes.get(code) ?? 0) + 1);
              } catch {
                /* reported by checkResponse */
              }
            }
            const problems = checkResponse(res.status, res.headers, res.body, {
              method: requests[i].method,
              leaks,
              echo: `${requests[i].path}\n${String(requests[i].body ?? '')}`,
            });
            if (problems.length > 0) {
              const r = requests[i];
              firstFailure ??= `${r.method} ${r.path.slice(0, 300)} ${JSON.stringify(r.headers ?? {})} body=${JSON.stringify(String(r.body ?? '').slice(0, 300))} -> ${problems.join('; ')}`;
              throw new Error(
                `${r.method} ${r.path.slice(0, 300)} ${JSON.stringify(r.headers ?? {})} body=${JSON.stringify(String(r.body ?? '').slice(0, 300))}\n  -> ${problems.join('\n  -> ')}`,
              );
            }
          });
        }),
        {
          numRuns: RUNS,
          seed,
          plugins: [fc.interruptAfterTimeLimit(TIME_LIMIT_MS)],
          endOnFailure: process.env.FUZZ_SHRINK !== '1',
        },
      );
      const seconds = (performance.now() - started) / 1000;
      console.log(
        `# fuzz: ${sent} requests in ${seconds.toFixed(1)} s (${(sent / seconds).toFixed(0)}/s), seed ${details.seed}`,
      );
      console.log(`# fuzz statuses: ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}`);
      console.log(
        `# fuzz error codes: ${JSON.stringify(Object.fromEntries([...codes].sort(([, a], [, b]) => b - a)))}`,
      );
      console.log(
        `# fuzz: slowest response ${slowest.toFixed(0)} ms${slow.length > 0 ? `; over 2 s: ${slow.length}\n#   ${slow.slice(0, 5).join('\n#   ')}` : ''}`,
      );
      if (details.failed)
        assert.fail(`fuzz failed (seed ${details.seed}): ${firstFailure ?? String(details.errorInstance)}`);
      if (details.interrupted)
        console.log(`# fuzz: interrupted by the ${TIME_LIMIT_MS} ms budget after ${details.numRuns} runs`);
      else assert.ok(sent >= RUNS * BATCH, `sent ${sent}`);
      assert.ok((statuses.get(200) ?? 0) > RUNS, 'a fair share of requests were valid and generated images');

      // Still serving, nothing left behind.
      const ok = await send(base, { method: 'GET', path: '/generate?class=saint_bernard&seed=7' }, agent);
      assert.equal(ok.status, 200);
      assert.equal(ok.headers['content-type'], 'image/png');
      for (const entry of ts.registry.list())
        assert.equal(entry.batcher?.queuedRows, 0, `${entry.name} queue is empty`);
      assert.equal((await send(base, { method: 'GET', path: '/healthz' }, agent)).status, 200);
    },
  );

  test('malformed HTTP at the socket level is answered by Node (400/431) without reaching the app or killing it', async () => {
    const port = Number(new URL(base).port);
    const raw = (text: string | Buffer) =>
      new Promise<string>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1');
        const chunks: Buffer[] = [];
        socket.on('data', (c: Buffer) => chunks.push(c));
        socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
        socket.on('error', (err) =>
          chunks.length > 0 ? resolve(Buffer.concat(chunks).toString('latin1')) : reject(err),
        );
        socket.setTimeout(5000, () => socket.destroy(new Error('socket timeout')));
        socket.end(text);
      });
    const cases: Array<[string, string | Buffer, RegExp]> = [
      [
        'header larger than 16 KiB',
        `GET /generate?class=0 HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
        /^HTTP\/1\.1 431/,
      ],
      [
        'request line larger than 16 KiB',
        `GET /generate?class=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
        /^HTTP\/1\.1 431/,
      ],
      ['garbage request line', 'HELLO\r\n\r\n', /^HTTP\/1\.1 400/],
      ['bad HTTP version', 'GET / HTTP/9.9\r\nHost: x\r\n\r\n', /^HTTP\/1\.1 (400|505)/],
      ['space in the target', 'GET /gen erate HTTP/1.1\r\nHost: x\r\n\r\n', /^HTTP\/1\.1 400/],
      [
        'invalid chunked body',
        'POST /generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
        /^HTTP\/1\.1 400/,
      ],
      [
        'both content-length and chunked',
        'POST /generate HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
        /^HTTP\/1\.1 400/,
      ],
      ['NUL in a header', 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n', /^HTTP\/1\.1 400/],
      [
        'bare LF header smuggling',
        'GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\nContent-Length: 5\r\n\r\n',
        /^HTTP\/1\.1 (400|200)/,
      ],
      [
        'absolute-form target',
        'GET http://evil.example/healthz HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n',
        /^HTTP\/1\.1 (200|404)/,
      ],
    ];
    for (const [name, text, expected] of cases) {
      const reply = await raw(text);
      assert.match(reply, expected, `${name}: ${reply.slice(0, 200)}`);
      assert.ok(!leakPatterns([ts.modelsDir]).some((p) => p.test(reply)), `${name}: leak in ${reply.slice(0, 300)}`);
    }
    assert.equal((await send(base, { method: 'GET', path: '/healthz' })).status, 200);
  });
});

describe('fuzz: repository control', () => {
  const TOKEN = 'fuzz-admin-token-0123456789';
  let ts: TestServer;
  let server: Server;
  let base: string;

  before(async () => {
    const dir = await makeModelsDir([{ name: 'tiny', classes: CLASSES, batching: { maxQueueDelayMs: 2 } }]);
    ts = await startTestServer(dir, { defaultModel: 'tiny', modelControl: 'explicit', adminToken: TOKEN });
    ({ server, base } = await listenLocally(ts.app));
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    await ts.close();
  });

  const authorization = fc.oneof(
    fc.constant(`Bearer ${TOKEN}`),
    fc.constantFrom(
      '',
      'Bearer',
      'Bearer ',
      `Bearer  ${TOKEN}`,
      `bearer ${TOKEN}`,
      `Basic ${TOKEN}`,
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(1)}`,
      `Bearer ${'a'.repeat(5000)}`,
    ),
    printable.map((t) => `Bearer ${t}`),
  );
  const controlRequest = fc.record({
    method: fc.oneof(
      { weight: 5, arbitrary: fc.constant('POST') },
      { weight: 1, arbitrary: fc.constantFrom('GET', 'PUT', 'DELETE', 'HEAD') },
    ),
    path: fc.oneof(
      fc.constant('/v1/repository/index'),
      fc
        .tuple(
          fc.oneof(
            fc.constantFrom('tiny', 'nope', '..', '.', '%2e%2e', 'tiny%2F..', '%00', 'TINY', 'a'.repeat(300)),
            anyText.map(pct),
          ),
          fc.constantFrom('load', 'unload', 'index', 'x'),
        )
        .map(([m, op]) => `/v1/repository/models/${m}/${op}`),
    ),
    body: fc.option(body, { freq: 2 }),
    type: fc.option(contentType),
    authorization: fc.option(authorization, { freq: 4 }),
  });

  test(
    'random admin calls (tokens, names, methods, bodies) get coded answers only, and the model still serves',
    { timeout: 120_000 },
    async () => {
      const leaks = leakPatterns([ts.modelsDir]);
      const statuses = new Map<number, number>();
      let firstFailure: string | undefined;
      const details = await fc.check(
        fc.asyncProperty(controlRequest, async (r) => {
          const headers: Record<string, string> = {};
          if (r.type !== null) headers['content-type'] = r.type;
          if (r.authorization !== null) headers.authorization = r.authorization;
          const res = await send(base, {
            method: r.method,
            path: r.path,
            headers,
            ...(r.body !== null ? { body: r.body } : {}),
            timeoutMs: 30_000,
          });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          const problems = checkResponse(res.status, res.headers, res.body, {
            method: r.method,
            leaks,
            echo: `${r.path}\n${String(r.body ?? '')}`,
          });
          if (res.status === 200 && r.authorization !== `Bearer ${TOKEN}`)
            problems.push('a control call succeeded without the token');
          if (problems.length > 0) {
            firstFailure ??= `${r.method} ${r.path.slice(0, 200)} auth=${JSON.stringify(r.authorization)} -> ${problems.join('; ')}`;
            throw new Error(firstFailure);
          }
        }),
        {
          numRuns: Number(process.env.FUZZ_CONTROL_RUNS ?? 300),
          seed: process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED),
          endOnFailure: true,
        },
      );
      console.log(
        `# fuzz control: statuses ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}, seed ${details.seed}`,
      );
      if (details.failed)
        assert.fail(`fuzz failed (seed ${details.seed}): ${firstFailure ?? String(details.errorInstance)}`);
      assert.ok(
        (statuses.get(401) ?? 0) > 0 && (statuses.get(403) ?? 0) > 0 && (statuses.get(200) ?? 0) > 0,
        'refusals and successes were both exercised',
      );
      await ts.registry.load('tiny');
      assert.equal((await send(base, { method: 'GET', path: '/generate?class=0&seed=1' })).status, 200);
    },
  );
});
