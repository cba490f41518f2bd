import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gpuDeviceNodes, webGpuUnsuitable } from '../../src/inference/gpu-devices.js';

test('GPU device nodes: DRM render and card nodes, NVIDIA devices and WSL dxg; nothing else', () => {
  const dev = mkdtempSync(path.join(tmpdir(), 'dev-'));
  try {
    assert.deepEqual(gpuDeviceNodes(dev), []);
    for (const name of ['null', 'nvidiactl', 'nvidia-uvm', 'tty0']) writeFileSync(path.join(dev, name), '');
    assert.deepEqual(gpuDeviceNodes(dev), [], 'control nodes alone are not a GPU');
    writeFileSync(path.join(dev, 'nvidia0'), '');
    writeFileSync(path.join(dev, 'dxg'), '');
    mkdirSync(path.join(dev, 'dri'));
    writeFileSync(path.join(dev, 'dri', 'renderD128'), '');
    writeFileSync(path.join(dev, 'dri', 'by-path'), '');
    assert.deepEqual(gpuDeviceNodes(dev).sort(), [`${dev}/dri/renderD128`, `${dev}/dxg`, `${dev}/nvidia0`].sort());
  } finally {
    rmSync(dev, { recursive: true, force: true });
  }
});

test('WebGPU is ruled out only on Linux without a GPU device, with a reason that says why', () => {
  assert.match(webGpuUnsuitable('linux', () => []) ?? '', /no GPU device.*software rasterizer/);
  assert.equal(webGpuUnsuitable('linux', () => ['/dev/nvidia0']), undefined);
  assert.equal(webGpuUnsuitable('darwin', () => []), undefined);
  assert.equal(webGpuUnsuitable('win32', () => []), undefined);
});
