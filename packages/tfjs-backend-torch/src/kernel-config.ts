/**
 * How a kernel of the torch backend is declared. A native kernel's implementation returns undefined for
 * a case libtorch does not run here (a dtype, a layout, an attribute it does not cover), and the cpu
 * backend's kernel of the same name runs instead: the backend is correct for every kernel the cpu
 * backend has, and fast where the kernel is native. Every call is counted by how it ran
 * (`kernelCounts`), so a benchmark or a test can show which kernels of a workload are not native.
 */
import {
  getKernel,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import type { TorchBackend } from './backend.js';

export const BACKEND_NAME = 'torch';

export type KernelPath = 'native' | 'view' | 'cpu';

export interface KernelArgs<A extends object = NamedAttrMap> {
  /** Named inputs (kernels such as Concat and AddN receive an array: cast through unknown). */
  inputs: Record<string, TensorInfo>;
  backend: TorchBackend;
  attrs: A;
}

type KernelResult = TensorInfo | TensorInfo[];
type CpuArgs = Parameters<KernelFunc>[0];

const counts: Record<KernelPath, Map<string, number>> = { native: new Map(), view: new Map(), cpu: new Map() };

function count(path: KernelPath, name: string): void {
  counts[path].set(name, (counts[path].get(name) ?? 0) + 1);
}

/** Calls per kernel name since the last reset, by how they ran. */
export function kernelCounts(): Record<KernelPath, Record<string, number>> {
  return {
    native: Object.fromEntries(counts.native),
    view: Object.fromEntries(counts.view),
    cpu: Object.fromEntries(counts.cpu),
  };
}

export function resetKernelCounts(): void {
  for (const m of Object.values(counts)) m.clear();
}

function cpuKernel(name: string): KernelFunc {
  const config = getKernel(name, 'cpu');
  if (!config)
    throw new Error(
      `torch backend: kernel '${name}' has no native implementation for these inputs and no cpu kernel to fall back on`,
    );
  return config.kernelFunc;
}

/** Set when a native kernel's implementation handed its call to the cpu kernel itself (kernels run synchronously). */
let delegated = false;

/** Runs the cpu backend's kernel `name` on these arguments (its values are the torch backend's too). */
export function onCpu(name: string, args: CpuArgs, path: 'view' | 'cpu' = 'cpu'): KernelResult {
  count(path, name);
  delegated = true;
  return cpuKernel(name)(args);
}

export function nativeKernel<A extends object = NamedAttrMap>(
  kernelName: string,
  impl: (args: KernelArgs<A>) => KernelResult | undefined,
): KernelConfig {
  return {
    kernelName,
    backendName: BACKEND_NAME,
    kernelFunc: (args: CpuArgs) => {
      delegated = false;
      const out = impl(args as unknown as KernelArgs<A>);
      if (out === undefined) return onCpu(kernelName, args);
      if (!delegated) count('native', kernelName);
      return out;
    },
  };
}

/** A cpu backend kernel registered for the torch backend as it is (counted as a view or a fallback). */
export function cpuKernelFor(config: KernelConfig, path: 'view' | 'cpu'): KernelConfig {
  const { kernelName } = config;
  return { ...config, backendName: BACKEND_NAME, kernelFunc: (args: CpuArgs) => onCpu(kernelName, args, path) };
}
