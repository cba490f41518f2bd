/**
 * Every launcher of the server passes src/node-flags.ts's flags: `npm start`, the `sagan-serve` shebang,
 * the Dockerfile's CMD and the scripts' child servers (where BENCH_NODE_FLAGS come after, so they win).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { SERVER_NODE_FLAGS } from '../src/node-flags.js';
import { nodeFlagsForServer } from '../scripts/reliability/child-server.js';

const root = (file: string) => fileURLToPath(new URL(`../../${file}`, import.meta.url));
const flags = SERVER_NODE_FLAGS.join(' ');

test('the server flags are non-empty and well-formed', () => {
  assert.ok(SERVER_NODE_FLAGS.length > 0);
  for (const flag of SERVER_NODE_FLAGS) assert.match(flag, /^--[a-z0-9-]+(=\S+)?$/);
});

test('npm start, the bin shebang and the Dockerfile CMD pass exactly these flags', async () => {
  const pkg = JSON.parse(await readFile(root('package.json'), 'utf8')) as { scripts: Record<string, string>; bin: Record<string, string> };
  assert.match(pkg.scripts.start, new RegExp(`(^|&& )node ${flags} dist/src/cli\\.js$`));
  const bin = await readFile(root(pkg.bin['sagan-serve']), 'utf8');
  assert.equal(bin.split('\n')[0], `#!/usr/bin/env -S node ${flags}`);
  const cmd = (await readFile(root('Dockerfile'), 'utf8')).split('\n').find((line) => line.startsWith('CMD '));
  assert.deepEqual(JSON.parse(cmd!.slice(4)), ['node', ...SERVER_NODE_FLAGS, 'dist/src/cli.js']);
});

test('child servers get the flags first and BENCH_NODE_FLAGS after them', (t) => {
  const saved = process.env.BENCH_NODE_FLAGS;
  t.after(() => {
    if (saved === undefined) delete process.env.BENCH_NODE_FLAGS;
    else process.env.BENCH_NODE_FLAGS = saved;
  });
  delete process.env.BENCH_NODE_FLAGS;
  assert.deepEqual(nodeFlagsForServer(), [...SERVER_NODE_FLAGS]);
  process.env.BENCH_NODE_FLAGS = '--cpu-prof  --max-semi-space-size=16';
  assert.deepEqual(nodeFlagsForServer(), [...SERVER_NODE_FLAGS, '--cpu-prof', '--max-semi-space-size=16']);
});
