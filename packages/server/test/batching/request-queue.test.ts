import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InferenceJob } from '../../src/batching/inference-job.js';
import type { RowSlice } from '../../src/batching/job-fifo.js';
import {
  bulkQueueLimit,
  bulkReservedRows,
  splitBatchRows,
  type LaneSettings,
  type Priority,
} from '../../src/batching/priority-lanes.js';
import { RequestQueue } from '../../src/batching/request-queue.js';
import { ServeError } from '../../src/errors.js';

const ON: LaneSettings = { enabled: true, bulkMinShare: 0.25 };
const OFF: LaneSettings = { enabled: false, bulkMinShare: 0.25 };

let arrivals = 0;
/** A job of `rows` rows; arrival times increase with every job made. */
function job(priority: Priority, rows = 1): InferenceJob {
  return new InferenceJob(
    { z: new Float32Array(rows), classes: new Array<number>(rows).fill(0), wantAttention: false },
    arrivals++,
    60_000,
    priority,
  );
}

const summary = (slices: RowSlice[]) => slices.map(({ job: j, count }) => `${j.priority}:${count}`);
const rowsOf = (slices: RowSlice[], priority: Priority) =>
  slices.filter((s) => s.job.priority === priority).reduce((sum, s) => sum + s.count, 0);

test('the bulk reserve is ceil(share x maxBatchSize), at least 1 row and at most the batch', () => {
  assert.equal(bulkReservedRows(0.25, 16), 4);
  assert.equal(bulkReservedRows(0.25, 10), 3);
  assert.equal(bulkReservedRows(0.1, 30), 3, 'no extra row from 0.1 x 30 = 3.0000000000000004');
  assert.equal(bulkReservedRows(0.01, 8), 1);
  assert.equal(bulkReservedRows(1, 8), 8);
});

test('bulk may hold half the queue, but always a whole batch and never more than the queue', () => {
  assert.equal(bulkQueueLimit(512, 16), 256);
  assert.equal(bulkQueueLimit(20, 16), 16);
  assert.equal(bulkQueueLimit(8, 16), 8);
});

test('a batch takes the bulk reserve, then interactive rows, then bulk rows into the room left', () => {
  assert.deepEqual(splitBatchRows(8, { interactive: 20, bulk: 20 }, 2), { interactive: 6, bulk: 2 });
  assert.deepEqual(splitBatchRows(8, { interactive: 3, bulk: 20 }, 2), { interactive: 3, bulk: 5 });
  assert.deepEqual(splitBatchRows(8, { interactive: 20, bulk: 1 }, 2), { interactive: 7, bulk: 1 });
  assert.deepEqual(splitBatchRows(8, { interactive: 20, bulk: 0 }, 2), { interactive: 8, bulk: 0 });
  assert.deepEqual(splitBatchRows(5, { interactive: 2, bulk: 3 }, 2), { interactive: 2, bulk: 3 });
});

test('lanes on: interactive jobs queued after bulk jobs leave in the next batch, ahead of them', () => {
  const queue = new RequestQueue(64, 8, ON);
  const bulk = [job('bulk', 8), job('bulk', 8)];
  for (const j of bulk) queue.admit(j, 1);
  const interactive = [job('interactive'), job('interactive', 2)];
  for (const j of interactive) queue.admit(j, 1);
  assert.deepEqual(queue.queuedRowsByPriority, { interactive: 3, bulk: 16 });
  assert.equal(queue.oldestEnqueuedAtMs, bulk[0].enqueuedAtMs, 'the batching clock is the oldest row of either lane');
  const batch = queue.take(8);
  assert.deepEqual(summary(batch), ['interactive:1', 'interactive:2', 'bulk:5']);
  assert.deepEqual(
    batch.map((s) => s.job),
    [...interactive, bulk[0]],
  );
  assert.deepEqual(queue.queuedRowsByPriority, { interactive: 0, bulk: 11 });
  assert.deepEqual(summary(queue.take(8)), ['bulk:3', 'bulk:5'], 'the split bulk job goes on first (FIFO)');
});

test('lanes off: one FIFO in arrival order, whatever the priority', () => {
  const queue = new RequestQueue(64, 8, OFF);
  const order = [job('bulk', 8), job('interactive'), job('bulk', 8), job('interactive')];
  for (const j of order) queue.admit(j, 1);
  assert.deepEqual(queue.queuedRowsByPriority, { interactive: 2, bulk: 16 }, 'depth is still reported by priority');
  assert.deepEqual(summary(queue.take(8)), ['bulk:8']);
  assert.deepEqual(summary(queue.take(8)), ['interactive:1', 'bulk:7']);
  assert.deepEqual(summary(queue.take(8)), ['bulk:1', 'interactive:1']);
  assert.equal(queue.queuedRows, 0);
});

test('bulk never starves: with interactive rows always waiting, every batch carries the reserve and bulk drains within the bound', () => {
  const maxBatchSize = 8;
  const queue = new RequestQueue(64, maxBatchSize, ON);
  const reserve = bulkReservedRows(ON.bulkMinShare, maxBatchSize);
  const bulk = [job('bulk', 8), job('bulk', 8), job('bulk', 8)];
  for (const j of bulk) queue.admit(j, 1);
  const bulkRows = 24;
  let batches = 0;
  while (queue.queuedRowsByPriority.bulk > 0) {
    // More interactive rows arrive before every batch than a batch can hold.
    for (let i = 0; i < maxBatchSize; i++) queue.admit(job('interactive'), 1);
    const waitingBulk = queue.queuedRowsByPriority.bulk;
    const batch = queue.take(maxBatchSize);
    batches++;
    assert.equal(rowsOf(batch, 'bulk'), Math.min(waitingBulk, reserve), `batch ${batches} keeps the bulk reserve`);
    assert.equal(rowsOf(batch, 'interactive'), maxBatchSize - rowsOf(batch, 'bulk'), 'interactive fills the rest');
    assert.ok(batches <= Math.ceil(bulkRows / reserve), 'bulk drained within ceil(B / R) batches');
  }
  assert.equal(batches, Math.ceil(bulkRows / reserve));
  assert.ok(bulk.every((j) => j.remainingRows === 0));
});

test('admission: bulk holds at most its limit, interactive can still use the rest of the queue', () => {
  const queue = new RequestQueue(32, 8, ON);
  queue.admit(job('bulk', 8), 1);
  queue.admit(job('bulk', 8), 1);
  assert.throws(
    () => queue.admit(job('bulk', 8), 3),
    (err: unknown) =>
      err instanceof ServeError &&
      err.code === 'QUEUE_FULL' &&
      err.details.retryAfterSeconds === 3 &&
      /16 of 16 bulk rows/.test(err.message),
  );
  queue.admit(job('interactive', 16), 1);
  assert.equal(queue.queuedRows, 32);
  assert.throws(() => queue.admit(job('interactive'), 1), /queue is full \(32 of 32 rows/);
  const off = new RequestQueue(32, 8, OFF);
  for (let i = 0; i < 4; i++) off.admit(job('bulk', 8), 1);
  assert.equal(off.queuedRows, 32, 'lanes off: no bulk limit');
});

test('removing a half-dispatched job gives back only its waiting rows, in its own lane', () => {
  const queue = new RequestQueue(64, 8, ON);
  const big = job('bulk', 12);
  queue.admit(big, 1);
  queue.admit(job('interactive', 2), 1);
  queue.take(8);
  assert.deepEqual(queue.queuedRowsByPriority, { interactive: 0, bulk: 6 });
  assert.equal(queue.remove(big), true);
  assert.deepEqual(queue.queuedRowsByPriority, { interactive: 0, bulk: 0 });
  assert.equal(queue.remove(big), false);
  assert.equal(queue.oldestEnqueuedAtMs, undefined);
});
