import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { makeModelsDir, startTestServer, TINY_CLASSES } from '../helpers/test-server.js';

const niceOf = (tid: string) =>
  Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ')[16]);

test(
  'WORKER_NICE lowers the session worker and the ORT threads it creates, not the HTTP thread (Linux)',
  { skip: process.platform !== 'linux' && 'thread nice values are per thread only on Linux' },
  async () => {
    const before = new Set(readdirSync('/proc/self/task'));
    const dir = await makeModelsDir([{ name: 'tiny', classes: TINY_CLASSES }]);
    const ts = await startTestServer(dir, { workerNice: 5, intraOpThreads: 2 });
    try {
      const added = readdirSync('/proc/self/task').filter((t) => !before.has(t));
      const niced = added.filter((t) => niceOf(t) === 5);
      // The worker thread itself plus ORT's second intra-op thread (intraOpThreads 2: the caller is the first).
      assert.ok(niced.length >= 2, `new threads' nice values: ${added.map(niceOf).join(',')}`);
      assert.equal(niceOf(String(process.pid)), 0, 'the main thread keeps its priority');
    } finally {
      await ts.close();
    }
  },
);
