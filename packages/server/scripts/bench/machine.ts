/** What the benchmark ran on: CPU, cores, memory, Node and the native libraries' versions. */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeCpu } from '@sagan-serve/bench-stats/cpu';
import { REPO_ROOT } from '../shared/repo-root.js';

export interface MachineInfo {
  cpuModel: string;
  /** "family 25 model 17" from /proc/cpuinfo where present (the model name alone is often just "AMD EPYC"). */
  cpuFamilyModel: string | undefined;
  /** The SIMD extensions that decide kernel choice (avx2, avx512f, ...). */
  cpuSimd: string[];
  logicalCpus: number;
  memoryGiB: number;
  platform: string;
  node: string;
  onnxruntimeNode: string | undefined;
  sharp: string | undefined;
  libvips: string | undefined;
  uvThreadpoolSize: string;
}

function packageVersion(name: string): string | undefined {
  try {
    const json = JSON.parse(readFileSync(path.join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
      version?: string;
    };
    return json.version;
  } catch {
    return undefined;
  }
}

export async function machineInfo(): Promise<MachineInfo> {
  const cpu = describeCpu();
  let libvips: string | undefined;
  try {
    const sharp = (await import('sharp')).default;
    libvips = sharp.versions.vips;
  } catch {
    libvips = undefined;
  }
  return {
    cpuModel: cpu.model,
    cpuFamilyModel: cpu.familyModel,
    cpuSimd: cpu.simd,
    logicalCpus: cpu.logicalCpus,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    onnxruntimeNode: packageVersion('onnxruntime-node'),
    sharp: packageVersion('sharp'),
    libvips,
    uvThreadpoolSize: process.env.UV_THREADPOOL_SIZE ?? '4 (default)',
  };
}
