/**
 * ModelVersion's lifecycle on its own: which transitions each state allows, what a state carries, and
 * the reason shown to clients. The serving parts are stand-ins: ModelVersion only holds them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import path from 'node:path';
import pino from 'pino';
import { isReady, ModelVersion, type Serving } from '../../src/models/model-version.js';

const root = path.resolve('/srv/models');
const version = () =>
  new ModelVersion(
    { logger: pino({ level: 'silent' }), repositoryRoot: root },
    { name: 'dogs', version: '2', dir: path.join(root, 'dogs', '2'), fingerprint: 'f' },
  );
const serving = {
  provider: 'cpu',
  loadSeconds: 0.5,
  batching: { maxBatchSize: 8, maxQueueDelayMs: 2, maxQueueSize: 64, requestTimeoutMs: 1000, instances: 1 },
} as unknown as Serving;

test('a version starts loading, with nothing to serve with', () => {
  const v = version();
  assert.equal(v.status, 'loading');
  assert.equal(v.serving, undefined);
  assert.equal(v.reason, undefined);
  assert.equal(isReady(v), false);
});

test('loading -> ready carries what serving needs; ready cannot be made ready or failed again', () => {
  const v = version();
  v.ready(serving);
  assert.ok(isReady(v));
  assert.equal(v.provider, 'cpu');
  assert.equal(v.loadSeconds, 0.5);
  assert.throws(() => v.ready(serving), /ready while ready/);
  assert.throws(() => v.fail('x'), /fail while ready/);
  assert.throws(() => v.manifestRead({ name: 'dogs', version: '3' } as never), /manifestRead while ready/);
});

test('loading -> unavailable keeps the reason, with MODELS_DIR paths made relative', () => {
  const v = version();
  v.fail(`Load model from ${root}/dogs/2/generator.onnx failed; see ${root}`);
  assert.equal(v.status, 'unavailable');
  assert.equal(v.reason, 'Load model from dogs/2/generator.onnx failed; see .');
  assert.equal(v.serving, undefined);
  assert.equal(v.workerBack(), false, 'a version that never loaded cannot come back by a restart');
  assert.throws(() => v.ready(serving), /ready while unavailable/);
});

test('ready -> unavailable on losing every worker keeps the serving parts, and a restart makes it ready again', () => {
  const v = version();
  assert.equal(v.workerLost('no worker'), false, 'only a ready version can lose its workers');
  v.ready(serving);
  assert.equal(v.workerLost('inference worker restart failed: boom'), true);
  assert.equal(v.status, 'unavailable');
  assert.equal(v.reason, 'inference worker restart failed: boom');
  assert.equal(v.serving, serving, 'the instances stay, so a later restart can serve again');
  assert.equal(v.workerBack(), true);
  assert.ok(isReady(v));
  assert.equal(v.reason, undefined);
  assert.equal(v.workerBack(), false);
});

test('manifestRead names the version from its manifest while loading', () => {
  const v = version();
  v.manifestRead({ name: 'dogs64', version: '7' } as never);
  assert.equal(v.name, 'dogs64');
  assert.equal(v.version, '7');
  assert.equal(v.status, 'loading');
});

test('ready and fail keep the providers that failed before; recordReloadFailure only while ready', () => {
  const attempts = [{ provider: 'cuda', error: 'no device' }] as const;
  const up = version();
  assert.throws(() => up.recordReloadFailure('bad files', 'g'), /recordReloadFailure while loading/);
  up.ready(serving, [...attempts]);
  assert.deepEqual(up.failedProviders, attempts);
  up.recordReloadFailure('bad files', 'g');
  assert.equal(up.reloadError, 'bad files');
  assert.equal(up.failedFingerprint, 'g');
  assert.ok(isReady(up), 'the loaded files keep serving');
  const down = version();
  down.fail('graph does not match', [...attempts]);
  assert.deepEqual(down.failedProviders, attempts);
  assert.equal(version().failedProviders.length, 0);
});

test('drain: a retired version keeps what it serves with, and no other transition applies', () => {
  const v = version();
  v.ready(serving);
  assert.equal(v.drain(), true);
  assert.equal(v.status, 'draining');
  assert.equal(isReady(v), false);
  assert.equal(v.serving, serving, 'responses that hold it finish on its batcher');
  assert.equal(v.drain(), false);
  assert.equal(v.workerLost('x'), false);
  assert.equal(v.workerBack(), false);
  assert.throws(() => v.ready(serving), /ready while draining/);
  assert.throws(() => v.recordReloadFailure('x', 'g'), /recordReloadFailure while draining/);
  const failed = version();
  failed.fail('no file');
  assert.equal(failed.drain(), true);
  assert.equal(failed.serving, undefined);
  assert.equal(failed.reason, undefined, 'a draining version shows no reason');
});

test('holders: whenUnheld waits for every holder to close; cutHolders destroys those left', async () => {
  const v = version();
  const a = new EventEmitter();
  const b = Object.assign(new EventEmitter(), { destroyed: false });
  const holder = (e: EventEmitter, destroy: () => void) => Object.assign(e, { destroy });
  v.hold(holder(a, () => a.emit('close')));
  v.hold(
    holder(b, () => {
      b.destroyed = true;
    }),
  );
  let unheld = false;
  const waiting = v.whenUnheld().then(() => {
    unheld = true;
  });
  a.emit('close');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(unheld, false, 'one holder is left');
  assert.equal(v.cutHolders(), 1);
  assert.equal(b.destroyed, true);
  b.emit('close');
  await waiting;
  assert.equal(unheld, true);
});
