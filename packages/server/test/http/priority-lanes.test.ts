/**
 * Priority lanes through real HTTP: a samples stream's chunks go to the bulk lane, single requests to the
 * interactive lane, and a /generate sent while a stream runs is answered while the stream loses nothing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { send, type RawResponse } from '../../scripts/reliability/http-client.js';
import { readSamplesStream } from '../../scripts/reliability/stream-clients.js';
import { metricValue } from '../../scripts/shared/metrics-text.js';
import {
  listenLocally,
  makeModelsDir,
  startTestServer,
  TINY_CLASSES,
  type TestServer,
} from '../helpers/test-server.js';

const MAX_BATCH_SIZE = 4;
const SAMPLES = 400;

describe('priority lanes over HTTP', () => {
  let ts: TestServer;
  let server: Server;
  let base: string;

  before(async () => {
    const dir = await makeModelsDir([
      { name: 'dogs', classes: TINY_CLASSES, batching: { maxBatchSize: MAX_BATCH_SIZE, maxQueueDelayMs: 0 } },
    ]);
    ts = await startTestServer(dir);
    ({ server, base } = await listenLocally(ts.app));
  });
  after(async () => {
    server.close();
    await ts.close();
  });

  test('a /generate sent while a samples stream runs is answered, and the stream delivers every sample', async () => {
    const seen = new Set<number>();
    let generated: Promise<RawResponse> | undefined;
    const stream = await readSamplesStream(
      base,
      '/v1/models/dogs/samples',
      { class: 0, count: SAMPLES, format: 'png' },
      (index) => {
        seen.add(index);
        // Sent from inside the stream: it is running, with its next chunk queued or in a batch.
        if (index === 2 * MAX_BATCH_SIZE) generated = send(base, { method: 'GET', path: '/generate?class=1&seed=5' });
      },
    );
    assert.ok(generated, 'the generate request was sent during the stream');
    const answer = await generated;
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['content-type'], 'image/png');
    assert.equal(stream.status, 200);
    assert.equal(stream.ended, 'end');
    assert.equal(
      stream.samples,
      SAMPLES,
      `every sample arrived (last line ${JSON.stringify(stream.lastLine)?.slice(0, 200)})`,
    );
    assert.equal(seen.size, SAMPLES, 'each index once');
    assert.equal(stream.lastLine?.index, SAMPLES - 1);

    const metrics = await ts.metrics.registry.metrics();
    const waits = (lane: string) => metricValue(metrics, 'sagan_queue_wait_seconds_count', { model: 'dogs', lane });
    assert.equal(waits('bulk'), SAMPLES / MAX_BATCH_SIZE, 'every chunk of the stream waited in the bulk lane');
    assert.equal(waits('interactive'), 1, 'the generate request waited in the interactive lane');
    for (const lane of ['interactive', 'bulk'])
      assert.equal(metricValue(metrics, 'sagan_queue_depth_by_lane', { model: 'dogs', lane }), 0, `${lane} drained`);
  });
});
