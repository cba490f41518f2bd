#!/usr/bin/env node
/**
 * Builds the libtorch addon (build/Release/torch_backend.node) with cmake-js, as the package's install
 * step. libtorch is optional for the project: without it (or without cmake) this prints one line saying
 * how to get the backend and exits 0, so `npm ci` and the server keep working. With `--required`
 * (npm run build:native) a missing libtorch or a failed build is an error.
 *
 * libtorch is found through its CMake package: TORCH_CMAKE_PREFIX (a directory holding
 * TorchConfig.cmake, or a prefix above it, e.g. a PyTorch installation's
 * `python -c 'import torch; print(torch.utils.cmake_prefix_path)'`), else the Debian/Ubuntu location of
 * libtorch-dev.
 *
 * TORCH_BACKEND_NO_ONEDNN=1 builds without the oneDNN convolutions into tfjs's buffers even where ideep is
 * installed (native/onednn-conv.h; for comparing the two builds).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findTorchCmakeDir, HINTS } from './find-libtorch.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const required = process.argv.includes('--required');
const statusFile = path.join(root, 'build', 'status.json');

function finish(status, message) {
  mkdirSync(path.dirname(statusFile), { recursive: true });
  writeFileSync(statusFile, `${JSON.stringify({ ...status, at: new Date().toISOString() }, null, 2)}\n`);
  if (status.built) {
    console.log(`tfjs-backend-torch: ${message}`);
    return;
  }
  (required ? console.error : console.log)(`tfjs-backend-torch: ${message}`);
  if (required) process.exit(1);
}

const torchDir = findTorchCmakeDir();
if (!torchDir) {
  finish(
    { built: false, reason: 'libtorch-missing' },
    `libtorch not found, so the torch training backend is not built (the server and the other backends work without it); to get it: ${HINTS.libtorch}`,
  );
} else if (spawnSync('cmake', ['--version'], { stdio: 'ignore' }).status !== 0) {
  finish(
    { built: false, reason: 'cmake-missing', torchDir },
    `libtorch is installed but cmake is not, so the torch backend is not built: apt-get install cmake, then ${HINTS.rebuild}`,
  );
} else {
  const require = createRequire(import.meta.url);
  const cmakeJs = path.join(path.dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
  const started = Date.now();
  // CMake reads -D options when it configures, and cmake-js's `compile` reuses a configured build
  // directory: a change of TORCH_BACKEND_NO_ONEDNN needs a configure from scratch (`rebuild`).
  const noOneDnn = process.env.TORCH_BACKEND_NO_ONEDNN === '1' ? 'ON' : 'OFF';
  const cache = path.join(root, 'build', 'CMakeCache.txt');
  const configuredNoOneDnn = existsSync(cache)
    ? (/^TORCH_BACKEND_NO_ONEDNN:\w+=(\w+)$/m.exec(readFileSync(cache, 'utf8'))?.[1] ?? 'OFF')
    : noOneDnn;
  const command = configuredNoOneDnn !== noOneDnn ? 'rebuild' : 'compile';
  const r = spawnSync(
    process.execPath,
    [
      cmakeJs,
      command,
      '--directory',
      root,
      `--CDTorch_DIR=${torchDir}`,
      `--CDTORCH_BACKEND_NO_ONEDNN=${noOneDnn}`,
      '--log-level',
      'warn',
    ],
    { stdio: 'inherit' },
  );
  const addon = path.join(root, 'build', 'Release', 'torch_backend.node');
  if (r.status === 0 && existsSync(addon)) {
    finish(
      { built: true, torchDir, addon },
      `built ${path.relative(root, addon)} against ${torchDir} in ${((Date.now() - started) / 1000).toFixed(0)} s`,
    );
  } else {
    finish(
      { built: false, reason: 'build-failed', torchDir },
      `building the addon against ${torchDir} failed (see the compiler output above); the torch backend is unavailable until ${HINTS.rebuild} succeeds`,
    );
  }
}
