/**
 * Without the tracing SDK (no OTEL_* environment: the CLI never imports it), the server answers as
 * always, no tracer provider is registered, and the batcher gets no tracing hooks.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { trace } from '@opentelemetry/api';
import request from 'supertest';
import { batchSpansFor } from '../../src/telemetry/batch-spans.js';
import { markCacheHit } from '../../src/telemetry/cache-hit.js';
import { tracingActive } from '../../src/telemetry/request-span.js';
import { makeModelsDir, startTestServer, TINY_CLASSES } from '../helpers/test-server.js';

test('tracing off: requests work, nothing records spans, the batcher has no tracer', async () => {
  const server = await startTestServer(await makeModelsDir([{ name: 'dogs', classes: TINY_CLASSES }]));
  try {
    await request(server.app).get('/generate?class=saint_bernard&seed=7').expect(200);
    assert.equal(tracingActive(), false);
    assert.equal(trace.getTracer('probe').startSpan('probe').isRecording(), false, 'no tracer provider registered');
    assert.equal(
      batchSpansFor('dogs', '1', () => 'cpu'),
      undefined,
    );
    assert.doesNotThrow(() => markCacheHit(true));
  } finally {
    await server.close();
  }
});
