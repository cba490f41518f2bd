/**
 * Whether this machine has a GPU that WebGPU could run on. On a Linux machine without one, a WebGPU
 * adapter can still appear: Mesa's lavapipe (or SwiftShader) implements Vulkan on the CPU, and any image
 * with Mesa's Vulkan drivers installed has it. ONNX Runtime's WebGPU provider then loads and warms up
 * fine, and runs the generator 60-80x slower than the CPU provider does (RELIABILITY.md, "Known
 * issues"), so the default provider order `cuda,webgpu,cpu` would pick the worst choice.
 *
 * A GPU driver exposes device nodes: DRM render/card nodes (/dev/dri, every Mesa and most vendor
 * drivers), NVIDIA's /dev/nvidia<N> (and /proc/driver/nvidia/gpus/<bus id>), WSL2's /dev/dxg. Where none
 * exists there is no hardware adapter to find. Other platforms (macOS, Windows) have no such check and are not filtered.
 */
import { readdirSync } from 'node:fs';

/**
 * GPU device nodes under `devDir` (Linux naming), e.g. ['/dev/dri/renderD128', '/dev/nvidia0'], plus the
 * GPUs NVIDIA's kernel driver lists under `procDir`/driver/nvidia/gpus (visible in containers too).
 */
export function gpuDeviceNodes(devDir = '/dev', procDir = '/proc'): string[] {
  const list = (dir: string): string[] => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  };
  const nodes = list(devDir)
    .filter((name) => /^nvidia\d+$/.test(name) || name === 'dxg')
    .map((name) => `${devDir}/${name}`);
  nodes.push(
    ...list(`${devDir}/dri`)
      .filter((name) => /^(renderD|card)\d+$/.test(name))
      .map((name) => `${devDir}/dri/${name}`),
  );
  nodes.push(...list(`${procDir}/driver/nvidia/gpus`).map((name) => `${procDir}/driver/nvidia/gpus/${name}`));
  return nodes;
}

/**
 * Why WebGPU should not be tried here, or undefined when it may be: on Linux, no GPU device node means any
 * adapter would be a software rasterizer.
 */
export function webGpuUnsuitable(
  platform: NodeJS.Platform = process.platform,
  nodes: () => string[] = gpuDeviceNodes,
): string | undefined {
  if (platform !== 'linux' || nodes().length > 0) return undefined;
  return (
    'skipped: this machine has no GPU device (/dev/dri/*, /dev/nvidia*, /dev/dxg, /proc/driver/nvidia/gpus), so a WebGPU adapter ' +
    'could only be a software rasterizer (lavapipe, SwiftShader), far slower than the cpu provider'
  );
}
