import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import express from 'express';
import { pino, type Logger } from 'pino';
import request from 'supertest';
import { accessLog, requestLogger } from '../../src/http/access-log.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { lines, logger: pino({ level: 'info' }, stream) as Logger };
}

function app(logger: Logger) {
  const a = express();
  a.use(
    accessLog(logger, {
      ignore: (req) => req.url === '/healthz',
      levelFor: (res) =>
        res.locals.quiet ? 'debug' : res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
      onFinished: (req, res, seconds) => {
        res.locals.finishedSeconds = seconds;
        (a.locals.finished as unknown[]).push([req.path, res.statusCode, seconds]);
      },
    }),
  );
  a.locals.finished = [];
  a.get('/ok', (_req, res) => {
    res.send('ok');
  });
  a.get('/quiet', (_req, res) => {
    res.locals.quiet = true;
    res.status(503).send('busy');
  });
  a.get('/shed', (_req, res) => {
    res.locals.quiet = true;
    res.send('shed');
  });
  a.get('/healthz', (_req, res) => {
    res.send('alive');
  });
  a.get('/fail', (_req, res) => {
    requestLogger(res)?.error({ reqId: res.req.id }, 'request failed');
    res.status(500).send('x');
  });
  return a;
}

test('one line per finished request with id, method, url, status and time; levels from levelFor; ignored paths unlogged', async () => {
  const { lines, logger } = capture();
  const a = app(logger);
  const ok = await request(a).get('/ok?x=1').set('X-Request-Id', 'abc-1');
  assert.equal(ok.headers['x-request-id'], 'abc-1');
  await request(a).get('/shed');
  await request(a).get('/healthz');
  await request(a).get('/quiet');
  await request(a).get('/fail');
  await new Promise((resolve) => setImmediate(resolve));
  const completed = lines.filter((l) => l.msg === 'request completed');
  assert.deepEqual(
    completed.map((l) => [(l.req as { url: string }).url, (l.res as { statusCode: number }).statusCode, l.level]),
    [
      ['/ok?x=1', 200, 30],
      ['/fail', 500, 50],
    ],
    'debug lines (/shed, /quiet) are below the level; /healthz is ignored',
  );
  assert.equal((completed[0].req as { id: string }).id, 'abc-1');
  assert.equal(typeof completed[0].responseTime, 'number');
  assert.equal((completed[0].req as Record<string, unknown>).headers, undefined, 'headers are not logged');
  const failed = lines.find((l) => l.msg === 'request failed');
  assert.ok(failed && typeof failed.reqId === 'string', 'requestLogger logs with the request id');
  assert.deepEqual(
    (a.locals.finished as Array<[string, number, number]>).map(([p, s]) => [p, s]),
    [
      ['/ok', 200],
      ['/shed', 200],
      ['/healthz', 200],
      ['/quiet', 503],
      ['/fail', 500],
    ],
    'onFinished sees every finished request, ignored ones too',
  );
});
