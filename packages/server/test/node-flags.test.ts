/**
 * Every launcher of the server passes src/node-flags.ts's flags: `npm start`, the `sagan-serve` shebang,
 * the Dockerfile's CMD and the scripts' child servers (where BENCH_NODE_FLAGS come after, so they win).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVER_NODE_FLAGS } from '../src/node-flags.js';
import { nodeFlagsForServer } from '../scripts/reliability/child-server.js';
import { REPO_ROOT } from '../scripts/shared/repo-root.js';

const pkgFile = (file: string) => fileURLToPath(new URL(`../../${file}`, import.meta.url));
const repoFile = (file: string) => path.join(REPO_ROOT, file);
const flags = SERVER_NODE_FLAGS.join(' ');
/** The CLI as launched from the workspace root (npm start, the Dockerfile). */
const SERVER_CLI = 'packages/server/dist/src/cli\\.js';

test('the server flags are non-empty and well-formed', () => {
  assert.ok(SERVER_NODE_FLAGS.length > 0);
  for (const flag of SERVER_NODE_FLAGS) assert.match(flag, /^--[a-z0-9-]+(=\S+)?$/);
});

test('npm start, the bin shebang and the Dockerfile CMD pass exactly these flags', async () => {
  const workspace = JSON.parse(await readFile(repoFile('package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.match(workspace.scripts.start, new RegExp(`(^|&& )node ${flags} ${SERVER_CLI}$`));
  const pkg = JSON.parse(await readFile(pkgFile('package.json'), 'utf8')) as { bin: Record<string, string> };
  const bin = await readFile(pkgFile(pkg.bin['sagan-serve']), 'utf8');
  assert.equal(bin.split('\n')[0], `#!/usr/bin/env -S node ${flags}`);
  const cmd = (await readFile(repoFile('Dockerfile'), 'utf8')).split('\n').find((line) => line.startsWith('CMD '));
  assert.deepEqual(JSON.parse(cmd!.slice(4)), ['node', ...SERVER_NODE_FLAGS, 'packages/server/dist/src/cli.js']);
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
