/**
 * Tracing in-process, against the SDK's in-memory exporter: a request carrying a W3C `traceparent`
 * yields one connected trace (the HTTP server span continuing the caller's span, its `queue` and
 * `encode` children, the batch's `inference` span), and requests batched together share one
 * `inference` span linked to each; a cached answer is marked on its server span.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { waitFor } from '../../scripts/reliability/http-client.js';
import type { TestServer } from '../helpers/test-server.js';
import { startTracing } from '../../src/telemetry/tracing-sdk.js';

const exporter = new InMemorySpanExporter();
const tracing = startTracing({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
// Loaded after the SDK started, as cli.ts does, so the instrumentations patch node:http and Express.
const { listenLocally, makeModelsDir, startTestServer, TINY_CLASSES } = await import('../helpers/test-server.js');

/** Batches leave only when two rows wait, so two concurrent requests share one batch, whatever the timing. */
const PAIRED_BATCHING = { maxBatchSize: 2, maxQueueDelayMs: 60_000, requestTimeoutMs: 60_000 };

let server: TestServer;
let base: string;
let close: () => Promise<void>;

before(async () => {
  const modelsDir = await makeModelsDir([
    { name: 'solo', classes: TINY_CLASSES },
    { name: 'paired', classes: TINY_CLASSES, batching: PAIRED_BATCHING },
  ]);
  server = await startTestServer(modelsDir, { responseCacheMb: 8 });
  const listening = await listenLocally(server.app);
  base = listening.base;
  close = async () => {
    await new Promise<void>((resolve) => listening.server.close(() => resolve()));
    await server.close();
  };
});

after(async () => {
  await close();
  await tracing.shutdown();
});

function traceparent(traceId: string, spanId: string): string {
  return `00-${traceId}-${spanId}-01`;
}

function randomHex(bytes: number): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('hex');
}

/** The finished spans of a trace once its HTTP server span has ended (it ends as the response finishes). */
async function finishedTrace(traceId: string): Promise<ReadableSpan[]> {
  return waitFor(`the server span of trace ${traceId}`, () => {
    const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    return spans.some((s) => s.kind === SpanKind.SERVER) ? spans : undefined;
  });
}

function only(spans: ReadableSpan[], predicate: (s: ReadableSpan) => boolean, what: string): ReadableSpan {
  const found = spans.filter(predicate);
  assert.equal(found.length, 1, `one ${what}, got ${found.map((s) => s.name).join(', ') || 'none'}`);
  return found[0];
}

test('a request with a traceparent yields one connected trace: server span, queue, inference, encode', async () => {
  const traceId = randomHex(16);
  const callerSpanId = randomHex(8);
  const res = await fetch(`${base}/v1/models/solo/generate?class=saint_bernard&seed=7`, {
    headers: { traceparent: traceparent(traceId, callerSpanId) },
  });
  assert.equal(res.status, 200);
  await res.arrayBuffer();

  const spans = await finishedTrace(traceId);
  const serverSpan = only(spans, (s) => s.kind === SpanKind.SERVER, 'HTTP server span');
  assert.equal(serverSpan.parentSpanContext?.spanId, callerSpanId, 'the server span continues the caller');
  assert.equal(serverSpan.attributes['sagan.model'], 'solo');
  assert.equal(serverSpan.attributes['http.route'], '/v1/models/:model/generate', 'Express named the route');
  const serverSpanId = serverSpan.spanContext().spanId;
  assert.ok(
    spans.some((s) => s.instrumentationScope.name.includes('express')),
    'the Express instrumentation patched the ESM app',
  );

  const queue = only(spans, (s) => s.name === 'queue', 'queue span');
  assert.equal(queue.parentSpanContext?.spanId, serverSpanId);
  assert.equal(queue.attributes['sagan.model'], 'solo');
  assert.equal(queue.attributes['sagan.version'], '1');
  assert.equal(queue.attributes['sagan.rows'], 1);
  assert.equal(queue.attributes['sagan.lane'], 'interactive');
  assert.equal(serverSpan.attributes['sagan.cache_hit'], false, 'a first seeded request is a cache miss');

  const encode = only(spans, (s) => s.name === 'encode', 'encode span');
  assert.equal(encode.parentSpanContext?.spanId, serverSpanId);
  assert.equal(encode.attributes['sagan.format'], 'png');

  const inference = only(spans, (s) => s.name === 'inference', 'inference span');
  assert.equal(inference.parentSpanContext?.spanId, serverSpanId);
  assert.deepEqual(
    inference.links.map((l) => l.context.spanId),
    [serverSpanId],
  );
  assert.equal(inference.attributes['sagan.model'], 'solo');
  assert.equal(inference.attributes['sagan.version'], '1');
  assert.equal(inference.attributes['sagan.batch_size'], 1);
  assert.equal(inference.attributes['sagan.provider'], 'cpu');

  // The stages in order: the queue wait ends before the batch runs, which ends before encoding starts.
  // Within a millisecond or so: the SDK anchors each span's clock to Date.now() when the span starts
  // (whole milliseconds), so two spans' times can disagree by up to that much.
  const ms = ([s, ns]: [number, number]) => s * 1e3 + ns / 1e6;
  const CLOCK_SLACK_MS = 2;
  assert.ok(ms(queue.endTime) <= ms(inference.startTime) + CLOCK_SLACK_MS);
  assert.ok(ms(inference.endTime) <= ms(encode.startTime) + CLOCK_SLACK_MS);
});

test("two requests batched together: one inference span, in the first one's trace, linked to both", async () => {
  const traceIds = [randomHex(16), randomHex(16)];
  const [first, second] = await Promise.all(
    traceIds.map((traceId, i) =>
      fetch(`${base}/v1/models/paired/generate?class=maltese_dog&seed=${i + 1}`, {
        headers: { traceparent: traceparent(traceId, randomHex(8)) },
      }),
    ),
  );
  assert.equal(first.status, 200);
  assert.equal(second.status, 200);
  await Promise.all([first.arrayBuffer(), second.arrayBuffer()]);

  const traces = await Promise.all(traceIds.map(finishedTrace));
  const serverSpanIds = traces.map(
    (spans) => only(spans, (s) => s.kind === SpanKind.SERVER, 'HTTP server span').spanContext().spanId,
  );
  const inferences = traces.flat().filter((s) => s.name === 'inference');
  assert.equal(inferences.length, 1, 'one batch served both requests');
  const [inference] = inferences;
  assert.equal(inference.attributes['sagan.batch_size'], 2);
  assert.deepEqual(new Set(inference.links.map((l) => l.context.spanId)), new Set(serverSpanIds));
  assert.ok(serverSpanIds.includes(inference.parentSpanContext?.spanId ?? ''), "parented to a request's span");
  for (const spans of traces) only(spans, (s) => s.name === 'queue', 'queue span per request');
});

test('a v2 infer request: its JSON tensor writing is the encode span', async () => {
  const traceId = randomHex(16);
  const res = await fetch(`${base}/v2/models/solo/infer`, {
    method: 'POST',
    headers: { traceparent: traceparent(traceId, randomHex(8)), 'Content-Type': 'application/json' },
    body: JSON.stringify({
      inputs: [
        { name: 'z', shape: [1, 16], datatype: 'FP32', data: new Array(16).fill(0.1) },
        { name: 'y', shape: [1], datatype: 'INT64', data: [0] },
      ],
    }),
  });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  const spans = await finishedTrace(traceId);
  const serverSpanId = only(spans, (s) => s.kind === SpanKind.SERVER, 'HTTP server span').spanContext().spanId;
  const encode = only(spans, (s) => s.name === 'encode', 'encode span');
  assert.equal(encode.parentSpanContext?.spanId, serverSpanId);
  assert.equal(encode.attributes['sagan.format'], 'json');
  only(spans, (s) => s.name === 'queue', 'queue span');
  only(spans, (s) => s.name === 'inference', 'inference span');
});

test('a repeat of a seeded request is a cache hit: sagan.cache_hit on the server span, no queue or inference', async () => {
  const traceId = randomHex(16);
  const res = await fetch(`${base}/v1/models/solo/generate?class=saint_bernard&seed=7`, {
    headers: { traceparent: traceparent(traceId, randomHex(8)) },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-cache'), 'hit');
  await res.arrayBuffer();
  const spans = await finishedTrace(traceId);
  const serverSpan = only(spans, (s) => s.kind === SpanKind.SERVER, 'HTTP server span');
  assert.equal(serverSpan.attributes['sagan.cache_hit'], true);
  assert.deepEqual(
    spans.filter((s) => ['queue', 'inference', 'encode'].includes(s.name)),
    [],
    'answered before any queueing',
  );
});
