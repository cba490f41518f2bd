/**
 * The HTTP mapping of error codes (src/http/error-mapping.ts) is total: every code has a status, every
 * 503 says when to try again, and the core's temporary refusals carry that hint themselves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_CODES, type ErrorCode, ServeError, serveError } from '../../src/errors.js';
import { HTTP_STATUS, httpAnswerOf } from '../../src/http/error-mapping.js';

const codes = Object.keys(ERROR_CODES) as ErrorCode[];

test('every error code has an HTTP error status, and the mapping has no codes the core lacks', () => {
  assert.deepEqual(Object.keys(HTTP_STATUS).sort(), [...codes].sort());
  for (const code of codes) {
    const { status } = httpAnswerOf(new ServeError(code, 'test'));
    assert.ok(Number.isInteger(status) && status >= 400 && status <= 599, `${code}: ${status}`);
    assert.equal(status, HTTP_STATUS[code], code);
  }
});

test("every 503 has a Retry-After (the error's own hint, else a short one); other statuses only with a hint", () => {
  for (const code of codes) {
    const bare = httpAnswerOf(new ServeError(code, 'test'));
    const hinted = httpAnswerOf(new ServeError(code, 'test', { retryAfterSeconds: 7 }));
    assert.equal(hinted.retryAfterSeconds, 7, code);
    if (bare.status === 503) assert.ok((bare.retryAfterSeconds ?? 0) >= 1, `${code}: 503 without Retry-After`);
    else assert.equal(bare.retryAfterSeconds, undefined, code);
  }
});

test("the codes answered 503 are the temporary refusals, and each one's factory says when to try again", () => {
  const refusals: Partial<Record<ErrorCode, () => ServeError>> = {
    MODEL_UNAVAILABLE: () => serveError.MODEL_UNAVAILABLE('m', '1', 'unavailable', 'the graph did not load'),
    QUEUE_FULL: () => serveError.QUEUE_FULL(8, 8, 3),
    WORKER_FAILED: () => serveError.WORKER_FAILED('exited (code 1)'),
    SHUTTING_DOWN: () => serveError.SHUTTING_DOWN(),
  };
  assert.deepEqual(Object.keys(refusals).sort(), codes.filter((code) => HTTP_STATUS[code] === 503).sort());
  for (const [code, make] of Object.entries(refusals)) {
    const error = make();
    assert.ok((error.details.retryAfterSeconds ?? 0) >= 1, `${code} has no retry hint`);
    assert.equal(httpAnswerOf(error).retryAfterSeconds, error.details.retryAfterSeconds, code);
  }
});
