/** What the benchmark ran on: CPU, cores, memory, Node and the native libraries' versions. */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../shared/repo-root.js';

export interface MachineInfo {
  cpuModel: string;
  /** "family 25 model 17" from /proc/cpuinfo where present (the model name alone is often just "AMD EPYC"). */
  cpuFamilyModel: string | undefined;
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

function cpuInfoField(text: string, field: string): string | undefined {
  const match = new RegExp(`^${field}\\s*:\\s*(.*)$`, 'm').exec(text);
  return match?.[1]?.trim();
}

export async function machineInfo(): Promise<MachineInfo> {
  let cpuinfo = '';
  try {
    cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // not Linux
  }
  const family = cpuInfoField(cpuinfo, 'cpu family');
  const model = cpuInfoField(cpuinfo, 'model');
  let libvips: string | undefined;
  try {
    const sharp = (await import('sharp')).default;
    libvips = sharp.versions.vips;
  } catch {
    libvips = undefined;
  }
  return {
    cpuModel: cpuInfoField(cpuinfo, 'model name') ?? os.cpus()[0]?.model ?? 'unknown',
    cpuFamilyModel: family && model ? `family ${family} model ${model}` : undefined,
    logicalCpus: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    onnxruntimeNode: packageVersion('onnxruntime-node'),
    sharp: packageVersion('sharp'),
    libvips,
    uvThreadpoolSize: process.env.UV_THREADPOOL_SIZE ?? '4 (default)',
  };
}
