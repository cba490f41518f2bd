import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SharedComputations } from '../../src/cache/shared-computations.js';

/** A computation the test settles by hand, recording the signal it was given. */
function deferred() {
  let resolve!: (value: string) => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<string>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const calls: AbortSignal[] = [];
  const compute = (signal: AbortSignal) => {
    calls.push(signal);
    return promise;
  };
  return { resolve, reject, compute, calls };
}

test('concurrent callers of one key share one computation; the key is free again when it settles', async () => {
  const shared = new SharedComputations<string>();
  const work = deferred();
  const first = shared.join('k', new AbortController().signal, work.compute);
  const second = shared.join('k', new AbortController().signal, work.compute);
  assert.equal(first.joined, false);
  assert.equal(second.joined, true);
  assert.equal(work.calls.length, 1);
  work.resolve('image');
  assert.deepEqual(await Promise.all([first.result, second.result]), ['image', 'image']);
  assert.equal(shared.size, 0);
});

test('a failure goes to every caller, and the next caller starts afresh', async () => {
  const shared = new SharedComputations<string>();
  const work = deferred();
  const a = shared.join('k', new AbortController().signal, work.compute);
  const b = shared.join('k', new AbortController().signal, work.compute);
  work.reject(new Error('TIMEOUT'));
  await assert.rejects(a.result, /TIMEOUT/);
  await assert.rejects(b.result, /TIMEOUT/);
  const again = deferred();
  const c = shared.join('k', new AbortController().signal, again.compute);
  assert.equal(c.joined, false);
  again.resolve('fresh');
  assert.equal(await c.result, 'fresh');
});

test('the first caller leaving does not cancel the work the others wait for; the last one leaving does', async () => {
  const shared = new SharedComputations<string>();
  const work = deferred();
  const leaveA = new AbortController();
  const leaveB = new AbortController();
  const leaveC = new AbortController();
  const a = shared.join('k', leaveA.signal, work.compute);
  const b = shared.join('k', leaveB.signal, work.compute);
  leaveA.abort(new Error('client A gone'));
  await assert.rejects(a.result, /client A gone/);
  assert.equal(work.calls[0].aborted, false, 'B still waits');
  const c = shared.join('k', leaveC.signal, work.compute);
  assert.equal(c.joined, true);
  leaveB.abort(new Error('client B gone'));
  assert.equal(work.calls[0].aborted, false, 'C still waits');
  leaveC.abort(new Error('client C gone'));
  assert.equal(work.calls[0].aborted, true, 'nobody waits: the work is cancelled');
  await assert.rejects(b.result, /client B gone/);
  await assert.rejects(c.result, /client C gone/);
  assert.equal(shared.size, 0, 'a later caller does not join the cancelled work');
  work.reject(new Error('cancelled'));
});

test('a caller whose signal has already aborted starts nothing', async () => {
  const shared = new SharedComputations<string>();
  const work = deferred();
  const gone = new AbortController();
  gone.abort(new Error('gone'));
  await assert.rejects(shared.join('k', gone.signal, work.compute).result, /gone/);
  assert.equal(work.calls.length, 0);
});
