import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import FakeTimers from '@sinonjs/fake-timers';
import {
  Batcher,
  type BatchBackend,
  type BatchInput,
  type BatchOutput,
  type BatcherConfig,
  type Clock,
} from '../../src/batching/batcher.js';
import { decideBatch } from '../../src/batching/batch-policy.js';
import type { Priority, RowsByPriority } from '../../src/batching/priority-lanes.js';
import type { BatchTracer, JobTrace } from '../../src/batching/batch-tracer.js';
import { ServeError, serveError } from '../../src/errors.js';

const DIM = 2;
const IMAGE = 3;

/** A fake backend: records batches, answers when the test says so. Row r of the output is z[r*DIM] repeated. */
class FakeBackend implements BatchBackend {
  readonly batches: BatchInput[] = [];
  private readonly waiting: Array<{
    resolve: (o: BatchOutput) => void;
    reject: (e: Error) => void;
    batch: BatchInput;
  }> = [];
  run(batch: BatchInput): Promise<BatchOutput> {
    this.batches.push(batch);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject, batch }));
  }
  get inflight(): number {
    return this.waiting.length;
  }
  complete(): void {
    const next = this.waiting.shift();
    assert.ok(next, 'no batch in flight');
    const { batch } = next;
    const image = new Float32Array(batch.rows * IMAGE);
    for (let r = 0; r < batch.rows; r++) image.fill(batch.z[r * DIM], r * IMAGE, (r + 1) * IMAGE);
    next.resolve({ image, inferenceSeconds: 0.001 });
  }
  fail(error: Error): void {
    this.waiting.shift()!.reject(error);
  }
}

function setup(overrides: Partial<BatcherConfig> = {}, tracer?: BatchTracer) {
  const fake = FakeTimers.createClock(0);
  const clock: Clock = {
    nowMs: () => fake.now,
    setTimeout: (fn, ms) => fake.setTimeout(fn, ms),
    clearTimeout: (h) => fake.clearTimeout(h as never),
  };
  const backend = new FakeBackend();
  const events = {
    rejected: [] as string[],
    batches: [] as number[],
    waits: [] as Array<{ seconds: number; priority: Priority }>,
    depths: [] as RowsByPriority[],
  };
  const batcher = new Batcher(
    backend,
    { latentDim: DIM, imageRowLength: IMAGE, attentionRowLength: 0 },
    { maxBatchSize: 4, maxQueueDelayMs: 10, maxQueueSize: 16, requestTimeoutMs: 1000, instances: 1, ...overrides },
    {
      rejected: (r) => events.rejected.push(r),
      batch: (rows) => events.batches.push(rows),
      queueWait: (seconds, priority) => events.waits.push({ seconds, priority }),
      queueDepth: (rows, byPriority) => {
        assert.equal(byPriority.interactive + byPriority.bulk, rows, 'the lanes add up to the queue depth');
        events.depths.push({ ...byPriority });
      },
    },
    clock,
    tracer,
  );
  return { fake, backend, batcher, events };
}

/** A job of n rows whose latent's first value identifies it (value, value+1, ...). */
function job(value: number, n = 1) {
  const z = new Float32Array(n * DIM);
  for (let r = 0; r < n; r++) z[r * DIM] = value + r;
  return { z, classes: new Array(n).fill(0), wantAttention: false };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

test('policy: full batch leaves at once, partial waits for the oldest request, busy backend holds', () => {
  const base = { maxBatchSize: 4, maxQueueDelayMs: 10, instanceFree: true };
  assert.deepEqual(decideBatch({ ...base, nowMs: 0, queuedRows: 0, oldestEnqueuedAtMs: undefined }), { kind: 'idle' });
  assert.deepEqual(decideBatch({ ...base, nowMs: 3, queuedRows: 4, oldestEnqueuedAtMs: 0 }), {
    kind: 'dispatch',
    rows: 4,
  });
  assert.deepEqual(decideBatch({ ...base, nowMs: 3, queuedRows: 9, oldestEnqueuedAtMs: 0 }), {
    kind: 'dispatch',
    rows: 4,
  });
  assert.deepEqual(decideBatch({ ...base, nowMs: 3, queuedRows: 2, oldestEnqueuedAtMs: 1 }), {
    kind: 'wait',
    wakeAtMs: 11,
  });
  assert.deepEqual(decideBatch({ ...base, nowMs: 11, queuedRows: 2, oldestEnqueuedAtMs: 1 }), {
    kind: 'dispatch',
    rows: 2,
  });
  assert.deepEqual(decideBatch({ ...base, instanceFree: false, nowMs: 50, queuedRows: 9, oldestEnqueuedAtMs: 0 }), {
    kind: 'idle',
  });
});

test('delay counts from the oldest request; later arrivals do not restart it', async () => {
  const { fake, backend, batcher } = setup();
  const a = batcher.submit(job(1));
  fake.tick(6);
  const b = batcher.submit(job(2));
  fake.tick(3);
  assert.equal(backend.batches.length, 0, 'nothing leaves before the oldest request has waited 10 ms');
  fake.tick(1);
  assert.equal(backend.batches.length, 1, 'the batch leaves 10 ms after the OLDEST arrival, not the newest');
  assert.equal(backend.batches[0].rows, 2);
  backend.complete();
  const [ra, rb] = await Promise.all([a, b]);
  assert.equal(ra.image[0], 1);
  assert.equal(rb.image[0], 2);
  assert.deepEqual(ra.batchSizes, [2]);
  assert.equal(ra.queueWaitSeconds, 0.01);
  assert.equal(rb.queueWaitSeconds, 0.004);
});

test('a full batch leaves immediately without waiting for the delay', () => {
  const { backend, batcher } = setup();
  for (let i = 0; i < 4; i++) void batcher.submit(job(i));
  assert.equal(backend.batches.length, 1);
  assert.equal(backend.batches[0].rows, 4);
});

test('the next batch forms while one runs and leaves when the backend is free', async () => {
  const { fake, backend, batcher, events } = setup();
  const first = [0, 1, 2, 3].map((i) => batcher.submit(job(i)));
  const second = [10, 11, 12, 13, 14].map((i) => batcher.submit(job(i)));
  fake.tick(100);
  assert.equal(backend.batches.length, 1, 'only one batch in flight per backend');
  assert.equal(batcher.queuedRows, 5);
  backend.complete();
  await Promise.all(first);
  await flush();
  assert.equal(backend.batches.length, 2, 'the queued full batch leaves as soon as the backend is free');
  assert.deepEqual(
    [...backend.batches[1].z].filter((_, i) => i % DIM === 0),
    [10, 11, 12, 13],
  );
  backend.complete();
  await flush();
  assert.equal(backend.batches.length, 3, 'the leftover row already waited past the delay, so it leaves at once');
  backend.complete();
  const results = await Promise.all(second);
  assert.deepEqual(
    results.map((r) => r.image[0]),
    [10, 11, 12, 13, 14],
  );
  assert.deepEqual(events.batches, [4, 4, 1]);
});

test('with 2 instances two batches run at once, a third waits for either', async () => {
  const { fake, backend, batcher, events } = setup({ instances: 2 });
  const all = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((i) => batcher.submit(job(i)));
  assert.equal(backend.inflight, 2, 'two full batches left at once');
  assert.equal(batcher.queuedRows, 4);
  fake.tick(100);
  assert.equal(backend.inflight, 2, 'no third batch while both instances are busy');
  backend.complete();
  await flush();
  assert.equal(backend.inflight, 2, 'the third batch leaves as soon as one instance is free');
  backend.complete();
  backend.complete();
  const results = await Promise.all(all);
  assert.deepEqual(
    results.map((r) => r.image[0]),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
  );
  assert.deepEqual(events.batches, [4, 4, 4]);
});

test('rows of one request split across batches come back in order (clocked)', async () => {
  const { fake, backend, batcher } = setup();
  const big = batcher.submit(job(100, 6));
  backend.complete();
  const other = batcher.submit(job(7));
  fake.tick(10);
  await flush();
  assert.equal(backend.batches.length, 2);
  assert.equal(backend.batches[1].rows, 3);
  backend.complete();
  const r = await big;
  assert.deepEqual(
    Array.from({ length: 6 }, (_, i) => r.image[i * IMAGE]),
    [100, 101, 102, 103, 104, 105],
  );
  assert.deepEqual(r.batchSizes, [4, 3]);
  assert.equal((await other).image[0], 7);
});

test('a full queue rejects with QUEUE_FULL and a Retry-After hint', async () => {
  const { batcher, events } = setup({ maxQueueSize: 3, maxBatchSize: 8 });
  void batcher.submit(job(1, 3));
  await assert.rejects(batcher.submit(job(2)), (err: unknown) => {
    assert.ok(err instanceof ServeError);
    assert.equal(err.code, 'QUEUE_FULL');
    assert.ok(err.details.retryAfterSeconds! >= 1);
    return true;
  });
  assert.deepEqual(events.rejected, ['queue_full']);
});

test('refuseIfFull sheds load before a job is built: QUEUE_FULL once not one more row fits, counted', () => {
  const { backend, batcher, events } = setup({ maxQueueSize: 3, maxBatchSize: 2, maxQueueDelayMs: 0 });
  void batcher.submit(job(1, 2)); // leaves at once (idle backend, no delay): the queue is empty again
  assert.equal(backend.batches.length, 1);
  batcher.refuseIfFull(3);
  void batcher.submit(job(3, 3)); // waits: the backend is busy
  assert.equal(batcher.queuedRows, 3);
  assert.throws(
    () => batcher.refuseIfFull(),
    (err: unknown) => err instanceof ServeError && err.code === 'QUEUE_FULL' && err.details.retryAfterSeconds! >= 1,
  );
  assert.deepEqual(events.rejected, ['queue_full']);
  assert.equal(backend.batches.length, 1, 'nothing was run for the refused check');
});

test('a request whose deadline passes in the queue gets TIMEOUT and never runs', async () => {
  const { fake, backend, batcher, events } = setup({ requestTimeoutMs: 50, maxQueueDelayMs: 0 });
  const running = batcher.submit(job(1));
  assert.equal(backend.batches.length, 1);
  const late = batcher.submit(job(2));
  fake.tick(50);
  await assert.rejects(late, (err: unknown) => err instanceof ServeError && err.code === 'TIMEOUT');
  backend.complete();
  await running;
  await flush();
  assert.equal(backend.batches.length, 1, 'the expired request was never sent to the backend');
  assert.deepEqual(events.rejected, ['timeout']);
});

test('a backend failure fails exactly the jobs in that batch; the next batch still runs', async () => {
  const { fake, backend, batcher } = setup({ maxBatchSize: 2 });
  const a = batcher.submit(job(1));
  const b = batcher.submit(job(2));
  const c = batcher.submit(job(3));
  backend.fail(serveError.INFERENCE_FAILED('boom'));
  await assert.rejects(a, /boom/);
  await assert.rejects(b, /boom/);
  fake.tick(10);
  await flush();
  backend.complete();
  assert.equal((await c).image[0], 3);
});

test('an aborted request leaves the queue and does not run', async () => {
  const { fake, backend, batcher } = setup();
  const controller = new AbortController();
  const gone = batcher.submit(job(1), { signal: controller.signal });
  const kept = batcher.submit(job(2));
  controller.abort(new Error('client went away'));
  await assert.rejects(gone, /client went away/);
  fake.tick(10);
  assert.equal(backend.batches[0].rows, 1);
  backend.complete();
  assert.equal((await kept).image[0], 2);
});

test('close() drains queued work; abortQueued() fails what is left with SHUTTING_DOWN', async () => {
  const { fake, backend, batcher } = setup();
  const a = batcher.submit(job(1));
  let closed = false;
  const closing = batcher.close().then(() => {
    closed = true;
  });
  await assert.rejects(
    batcher.submit(job(2)),
    (err: unknown) => err instanceof ServeError && err.code === 'SHUTTING_DOWN',
  );
  fake.tick(10);
  await flush();
  assert.equal(closed, false);
  backend.complete();
  await a;
  await closing;
  assert.equal(closed, true);

  const second = setup();
  const queued = second.batcher.submit(job(5));
  void second.batcher.close();
  second.batcher.abortQueued();
  await assert.rejects(queued, (err: unknown) => err instanceof ServeError && err.code === 'SHUTTING_DOWN');
});

test('one abort signal shared by many jobs (a samples stream): each job removes its listener when it settles', async () => {
  const { backend, batcher } = setup({ maxQueueDelayMs: 0 });
  const controller = new AbortController();
  for (let i = 0; i < 50; i++) {
    const pending = batcher.submit(job(i), { signal: controller.signal });
    await flush();
    backend.complete();
    await pending;
  }
  assert.equal(
    EventEmitter.getEventListeners(controller.signal, 'abort').length,
    0,
    'no listener (and no settled job output) is kept by the signal',
  );
  // A job that fails lets go too.
  const failing = batcher.submit(job(100), { signal: controller.signal });
  await flush();
  backend.fail(new Error('session.run failed'));
  await assert.rejects(failing);
  assert.equal(EventEmitter.getEventListeners(controller.signal, 'abort').length, 0);
});

test('a refused submit left aside while the caller does other work is not an unhandled rejection', async () => {
  const { batcher } = setup({ maxQueueSize: 1, maxQueueDelayMs: 100 });
  const admitted = batcher.submit(job(1));
  admitted.catch(() => undefined);
  // The queue is full: the refusal is returned as a rejected promise that the caller holds, as the samples
  // stream holds its next chunk while it writes the current one. node:test fails this test if the
  // rejection is reported unhandled before the caller gets to it.
  const refused = batcher.submit(job(2));
  await new Promise((resolve) => setTimeout(resolve, 20));
  await assert.rejects(refused, (err: unknown) => err instanceof ServeError && err.code === 'QUEUE_FULL');
  void batcher.close();
  const closed = batcher.submit(job(3));
  await new Promise((resolve) => setTimeout(resolve, 20));
  await assert.rejects(closed, (err: unknown) => err instanceof ServeError && err.code === 'SHUTTING_DOWN');
  batcher.abortQueued();
});

/** The first latent value of each row of a batch: which jobs' rows it carried, in order. */
const rowIds = (batch: BatchInput) => [...batch.z].filter((_, i) => i % DIM === 0);

for (const enabled of [true, false]) {
  test(`lanes ${enabled ? 'on: an interactive job submitted after queued bulk jobs is in the next batch' : 'off: one FIFO, the interactive job waits behind the bulk jobs'}`, async () => {
    const { fake, backend, batcher, events } = setup({ maxQueueDelayMs: 0, lanes: { enabled, bulkMinShare: 0.25 } });
    const running = batcher.submit(job(0, 4), { priority: 'bulk' });
    assert.equal(backend.batches.length, 1, 'the first chunk runs at once');
    const bulk = [batcher.submit(job(10, 4), { priority: 'bulk' }), batcher.submit(job(20, 4), { priority: 'bulk' })];
    fake.tick(5);
    const interactive = batcher.submit(job(100));
    assert.deepEqual(events.depths.at(-1), { interactive: 1, bulk: 8 });
    backend.complete();
    await running;
    await flush();
    assert.equal(backend.batches.length, 2);
    assert.deepEqual(
      rowIds(backend.batches[1]),
      enabled ? [100, 10, 11, 12] : [10, 11, 12, 13],
      enabled ? 'interactive first, then bulk (at least its reserve of 1 row)' : 'arrival order',
    );
    for (let i = 0; i < 2; i++) {
      backend.complete();
      await flush();
    }
    backend.complete();
    assert.equal((await interactive).image[0], 100);
    const results = await Promise.all(bulk);
    assert.deepEqual(
      results.map((r) => Array.from({ length: 4 }, (_, i) => r.image[i * IMAGE])),
      [
        [10, 11, 12, 13],
        [20, 21, 22, 23],
      ],
      'every bulk row came back, in order',
    );
    assert.deepEqual(events.batches, [4, 4, 4, 1]);
    const interactiveWait = events.waits.find((w) => w.priority === 'interactive');
    assert.equal(interactiveWait?.seconds, 0, 'queue wait is reported with its lane');
    assert.deepEqual(events.depths.at(-1), { interactive: 0, bulk: 0 });
  });
}

test('lanes on: a bulk job that does not fit the bulk lane is refused while an interactive one is admitted', async () => {
  const { backend, batcher, events } = setup({ maxQueueSize: 8, maxBatchSize: 4 });
  void batcher.submit(job(0, 4));
  assert.equal(backend.inflight, 1, 'the backend is busy, so what follows waits');
  void batcher.submit(job(1, 4), { priority: 'bulk' });
  await assert.rejects(batcher.submit(job(2, 4), { priority: 'bulk' }), (err: unknown) => {
    assert.ok(err instanceof ServeError);
    assert.equal(err.code, 'QUEUE_FULL');
    assert.match(err.message, /bulk rows/);
    return true;
  });
  void batcher.submit(job(3, 4));
  assert.equal(batcher.queuedRows, 8);
  assert.deepEqual(events.rejected, ['queue_full']);
});

/** Records what the batcher tells its tracer: each job's queue wait ends, each batch's jobs (by order queued) and ends. */
class RecordingTracer implements BatchTracer {
  readonly jobs: Array<{ queueEnds: Array<Error | undefined> }> = [];
  readonly batches: Array<{ jobs: number[]; rows: number; ends: Array<Error | undefined> }> = [];
  private readonly jobIndex = new Map<JobTrace, number>();

  jobQueued(): JobTrace {
    const job = { queueEnds: [] as Array<Error | undefined> };
    const trace: JobTrace = { endQueueWait: (error) => job.queueEnds.push(error) };
    this.jobIndex.set(trace, this.jobs.push(job) - 1);
    return trace;
  }

  batchStarted(jobs: readonly JobTrace[], rows: number) {
    const batch = { jobs: jobs.map((j) => this.jobIndex.get(j) ?? -1), rows, ends: [] as Array<Error | undefined> };
    this.batches.push(batch);
    return { end: (error?: Error) => batch.ends.push(error) };
  }
}

test('tracing hooks: a queue wait ends once, at its first batch; a split job is in each of its batches; a timeout ends the wait with its error', async () => {
  const tracer = new RecordingTracer();
  const { fake, backend, batcher } = setup({ maxBatchSize: 2 }, tracer);
  const split = batcher.submit(job(1, 3));
  assert.deepEqual(tracer.jobs[0].queueEnds, [undefined], 'the first batch ended the queue wait');
  assert.deepEqual(tracer.batches[0].jobs, [0]);
  assert.equal(tracer.batches[0].rows, 2);
  const late = batcher.submit(job(9));
  backend.complete();
  await flush();
  assert.deepEqual(tracer.batches[0].ends, [undefined]);
  assert.deepEqual(tracer.batches[1].jobs, [0, 1], "the split job's second batch carries it and the next job");
  assert.equal(tracer.jobs[0].queueEnds.length, 1, 'a later batch does not end the wait again');
  backend.fail(serveError.INFERENCE_FAILED('boom'));
  await assert.rejects(split);
  await assert.rejects(late);
  assert.equal(tracer.batches[1].ends.length, 1);
  assert.ok(tracer.batches[1].ends[0] instanceof Error, 'a failed batch ends its span with the error');

  const blocker = batcher.submit(job(20, 2));
  const waiting = batcher.submit(job(30));
  fake.tick(1000);
  await assert.rejects(waiting, (err: unknown) => err instanceof ServeError && err.code === 'TIMEOUT');
  const waitingEnds = tracer.jobs[3].queueEnds;
  assert.equal(waitingEnds.length, 1);
  assert.ok(waitingEnds[0] instanceof ServeError && waitingEnds[0].code === 'TIMEOUT');
  backend.complete();
  await blocker;
});
