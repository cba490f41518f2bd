import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ERROR_CODES, type ErrorCode } from '../src/errors.js';
import { HTTP_STATUS } from '../src/http/error-mapping.js';
import { OPENAPI_PATH, PACKAGE_ROOT } from '../src/paths.js';
import { REPO_ROOT } from '../scripts/shared/repo-root.js';

const codes = Object.keys(ERROR_CODES) as ErrorCode[];

test('every error code is in openapi.yaml ErrorCode, and nothing else is', () => {
  const doc = parse(readFileSync(OPENAPI_PATH, 'utf8'));
  assert.deepEqual([...doc.components.schemas.ErrorCode.enum].sort(), [...codes].sort());
});

test("every error code is in README's Errors table with its HTTP status", () => {
  const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Errors'), readme.indexOf('\n## ', readme.indexOf('## Errors') + 5));
  const rows = new Map([...section.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]));
  for (const code of codes) assert.equal(rows.get(code), HTTP_STATUS[code], `README row for ${code}`);
  assert.equal(rows.size, codes.length, 'README lists no codes the server does not have');
});

test('every environment variable is documented in README', async () => {
  const { ENV_VARS } = await import('../src/config.js');
  const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  for (const name of Object.keys(ENV_VARS)) assert.match(readme, new RegExp(`\\| \`${name}\` \\|`), name);
});

test('every metric is documented in README', async () => {
  const { Metrics } = await import('../src/metrics.js');
  const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const metrics = new Metrics({ processMetrics: false });
  for (const metric of metrics.registry.getMetricsAsArray())
    assert.match(readme, new RegExp(`\\| \`${metric.name}\` \\|`), metric.name);
});

test('GC pauses are recorded in the documented latency buckets (README: nodejs_gc_duration_seconds)', async () => {
  const { Metrics, LATENCY_BUCKETS_SECONDS } = await import('../src/metrics.js');
  const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  assert.match(readme, /\| `nodejs_gc_duration_seconds` \| histogram \|/);
  const metrics = new Metrics();
  // Make garbage until the app's registry has seen a collection (young-generation GCs come within milliseconds).
  let keep: unknown[] = [];
  let text = '';
  for (let i = 0; i < 200 && !/nodejs_gc_duration_seconds_count\{[^}]*\} [1-9]/.test(text); i++) {
    for (let j = 0; j < 20_000; j++) keep.push({ j, s: `x${j}` });
    keep = [];
    await new Promise((resolve) => setTimeout(resolve, 5));
    text = await metrics.registry.metrics();
  }
  const bounds = new Set([...text.matchAll(/^nodejs_gc_duration_seconds_bucket\{le="([^"]+)"/gm)].map((m) => m[1]));
  assert.deepEqual([...bounds].sort(), [...LATENCY_BUCKETS_SECONDS.map(String), '+Inf'].sort());
});

test('coded errors are made only by their factories in src/errors.ts (one wording per code), and the temporary refusals carry a retry hint', async () => {
  const { readdir } = await import('node:fs/promises');
  const { serveError } = await import('../src/errors.js');
  const offenders: string[] = [];
  for (const entry of await readdir(`${PACKAGE_ROOT}src`, { recursive: true })) {
    if (!entry.endsWith('.ts') || entry === 'errors.ts') continue;
    const text = readFileSync(`${PACKAGE_ROOT}src/${entry}`, 'utf8');
    if (/new ServeError\(/.test(text)) offenders.push(entry);
  }
  assert.deepEqual(offenders, [], 'these build a ServeError by hand instead of serveError.CODE(...)');
  assert.deepEqual(Object.keys(serveError).sort(), [...codes].sort());
  assert.equal(serveError.SHUTTING_DOWN().details.retryAfterSeconds, 1);
  assert.equal(serveError.QUEUE_FULL(3, 3, 2).details.retryAfterSeconds, 2);
  assert.ok((serveError.MODEL_UNAVAILABLE('m', undefined, 'loading', undefined).details.retryAfterSeconds ?? 0) > 0);
  assert.ok((serveError.WORKER_FAILED('is restarting').details.retryAfterSeconds ?? 0) > 0);
});
