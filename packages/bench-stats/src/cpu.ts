/**
 * The CPU a figure was measured on, named the same way by every benchmark: /proc/cpuinfo's model name,
 * its family and model numbers (the name alone is often just "AMD EPYC", which covers Zen 3 to Zen 5),
 * and the SIMD extensions that decide which kernels libraries such as oneDNN and OpenBLAS pick.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface CpuDescription {
  model: string;
  /** "family 25 model 1" where /proc/cpuinfo has it. */
  familyModel: string | undefined;
  /** The extensions among SIMD_FLAGS that the CPU reports, in that order. */
  simd: string[];
  logicalCpus: number;
}

/** The flags worth naming beside a speed figure (AVX2 against AVX-512 machines, bf16 and VNNI units). */
export const SIMD_FLAGS = [
  'avx2',
  'fma',
  'avx512f',
  'avx512bw',
  'avx512vl',
  'avx512_vnni',
  'avx512_bf16',
  'avx_vnni',
  'amx_tile',
];

function field(cpuinfo: string, name: string): string | undefined {
  return new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(cpuinfo)?.[1]?.trim();
}

function readCpuinfo(): string {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return ''; // not Linux: the model name comes from Node
  }
}

/** cpuinfo: the text of /proc/cpuinfo (read from the machine when omitted). */
export function describeCpu(cpuinfo: string = readCpuinfo()): CpuDescription {
  const family = field(cpuinfo, 'cpu family');
  const model = field(cpuinfo, 'model');
  const flags = new Set((field(cpuinfo, 'flags') ?? '').split(/\s+/));
  return {
    model: field(cpuinfo, 'model name') ?? os.cpus()[0]?.model ?? 'unknown',
    familyModel: family && model ? `family ${family} model ${model}` : undefined,
    simd: SIMD_FLAGS.filter((f) => flags.has(f)),
    logicalCpus: os.availableParallelism(),
  };
}

/** One line for a report: "AMD EPYC (family 26 model 2; avx2 fma avx512f ...), 2 logical CPUs". */
export function cpuLabel(cpu: CpuDescription): string {
  const details = [cpu.familyModel, cpu.simd.length > 0 ? cpu.simd.join(' ') : 'no AVX2'].filter(Boolean).join('; ');
  return `${cpu.model} (${details}), ${cpu.logicalCpus} logical CPUs`;
}
