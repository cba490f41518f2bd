import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gpuDeviceNodes, webGpuUnsuitable } from '../src/gpu-devices.js';

test('GPU device nodes: DRM render and card nodes, NVIDIA devices and WSL dxg; nothing else', () => {
  const dev = mkdtempSync(path.join(tmpdir(), 'dev-'));
  try {
    const proc = path.join(dev, 'proc');
    assert.deepEqual(gpuDeviceNodes(dev, proc), []);
    mkdirSync(path.join(proc, 'driver', 'nvidia', 'gpus', '0000:01:00.0'), { recursive: true });
    assert.deepEqual(
      gpuDeviceNodes(dev, proc),
      [`${proc}/driver/nvidia/gpus/0000:01:00.0`],
      'a GPU the NVIDIA driver lists',
    );
    rmSync(proc, { recursive: true });
    for (const name of ['null', 'nvidiactl', 'nvidia-uvm', 'tty0']) writeFileSync(path.join(dev, name), '');
    assert.deepEqual(gpuDeviceNodes(dev, dev), [], 'control nodes alone are not a GPU');
    writeFileSync(path.join(dev, 'nvidia0'), '');
    writeFileSync(path.join(dev, 'dxg'), '');
    mkdirSync(path.join(dev, 'dri'));
    writeFileSync(path.join(dev, 'dri', 'renderD128'), '');
    writeFileSync(path.join(dev, 'dri', 'by-path'), '');
    assert.deepEqual(gpuDeviceNodes(dev, dev).sort(), [`${dev}/dri/renderD128`, `${dev}/dxg`, `${dev}/nvidia0`].sort());
  } finally {
    rmSync(dev, { recursive: true, force: true });
  }
});

test('WebGPU is ruled out only on Linux without a GPU device, with a reason that says why', () => {
  assert.match(webGpuUnsuitable('linux', () => []) ?? '', /no GPU device.*software rasterizer/);
  assert.equal(
    webGpuUnsuitable('linux', () => ['/dev/nvidia0']),
    undefined,
  );
  assert.equal(
    webGpuUnsuitable('darwin', () => []),
    undefined,
  );
  assert.equal(
    webGpuUnsuitable('win32', () => []),
    undefined,
  );
});
