/**
 * @sagan-serve/tfjs-backend-torch: a TensorFlow.js backend named 'torch' whose kernels run in libtorch.
 *
 *   import { registerTorchBackend } from '@sagan-serve/tfjs-backend-torch';
 *   registerTorchBackend({ threads: 2 });
 *   await tf.setBackend('torch');
 *
 * Tensors are the cpu backend's typed arrays; kernels wrap them as libtorch tensors for one call.
 * Kernels without a native implementation are the cpu backend's (correct, slower); `kernelCounts()`
 * says which ran how. A kernel that neither exists natively nor on the cpu backend fails with tfjs's
 * "Kernel 'X' not registered for backend 'torch'".
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import {
  ExpandDims,
  getKernelsForBackend,
  Identity,
  registerBackend,
  registerKernel,
  Reshape,
  type KernelConfig,
} from '@tensorflow/tfjs-core';
import { TorchBackend } from './backend.js';
import { BACKEND_NAME, cpuKernelFor } from './kernel-config.js';
import { nativeKernelConfigs } from './kernels/index.js';
import { loadNative, MAX_THREADS, type NativeAddon } from './native.js';

export { BACKEND_NAME, kernelCounts, resetKernelCounts, type KernelPath } from './kernel-config.js';
export {
  CONDITIONAL_BATCH_NORM,
  CONDITIONAL_BATCH_NORM_GRAD,
  FUSED_ADAM,
  RELU_GRAD,
  SOFTMAX_ATTENTION,
  SOFTMAX_ATTENTION_GRAD,
  SOFTMAX_GRAD,
} from './kernel-names.js';
export type { FusedAdamAttrs } from './kernels/FusedAdam.js';
export { TorchBackend } from './backend.js';
export {
  loadNative,
  MAX_THREADS,
  TorchBackendUnavailableError,
  type NativeAddon,
  type UnavailableReason,
} from './native.js';

/** Kernels of the cpu backend that only re-label memory (no arithmetic): counted as views, not fallbacks (tf.squeeze is a Reshape). */
const VIEW_KERNELS = new Set<string>([Reshape, Identity, ExpandDims]);

export interface TorchBackendOptions {
  /** libtorch intra-op threads, an integer from 1 to MAX_THREADS; default: every core (os.availableParallelism(), at most MAX_THREADS). */
  threads?: number;
  /**
   * Keep memory libtorch frees inside the process heap for reuse (glibc mallopt; default true). Fresh
   * memory costs a page fault per 4 KiB page on first write, which dominates a CPU training step; the
   * price is that the process keeps its peak heap. Process-wide: set false where that matters more.
   */
  keepFreedMemory?: boolean;
}

export interface TorchBackendInfo {
  torchVersion: string;
  threads: number;
  mkldnn: boolean;
  /** Convolutions write straight into tfjs's buffers (the addon was built with ideep, libideep-dev). */
  convolutionsIntoOutputs: boolean;
  keepFreedMemory: boolean;
  /** The BLAS libtorch's matrix products go through (OpenBLAS, or the slow reference BLAS). */
  blas: string;
  nativeKernels: string[];
  cpuKernels: string[];
}

let registered: { native: NativeAddon; info: TorchBackendInfo } | undefined;

/**
 * The BLAS library mapped into this process (Debian's libtorch links the generic libblas.so.3, which is
 * the slow reference BLAS unless libopenblas0-openmp provides it): 'openblas', 'reference' or the path.
 */
function blasInUse(): string {
  let maps: string;
  try {
    maps = readFileSync('/proc/self/maps', 'utf8');
  } catch {
    return 'unknown (no /proc/self/maps)';
  }
  const libs = [
    ...new Set(
      maps
        .split('\n')
        .map((l) => l.split(/\s+/)[5] ?? '')
        .filter((p) => /blas|mkl_rt|libblis/.test(p)),
    ),
  ];
  if (libs.some((p) => p.includes('openblas'))) return 'openblas';
  if (libs.some((p) => /\/blas\/libblas\.so/.test(p))) return 'reference (slow: apt-get install libopenblas0-openmp)';
  return libs[0] ?? 'unknown';
}

/**
 * Loads the addon (throws TorchBackendUnavailableError with the reason when it cannot), sets the thread
 * count, and registers the 'torch' backend and its kernels. Idempotent; a second call only changes threads.
 */
export function registerTorchBackend(opts: TorchBackendOptions = {}): TorchBackendInfo {
  const threads = opts.threads ?? Math.min(availableParallelism(), MAX_THREADS);
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
    throw new RangeError(`torch backend: threads must be an integer from 1 to ${MAX_THREADS} (got ${String(threads)})`);
  }
  if (registered) {
    registered.native.setNumThreads(threads);
    registered.info.threads = threads;
    return registered.info;
  }
  const native = loadNative();
  native.setNumThreads(threads);
  const keptFreedMemory = opts.keepFreedMemory !== false && native.keepFreedMemory();
  const nativeNames = new Set(nativeKernelConfigs.map((k) => k.kernelName));
  const cpuOnly: KernelConfig[] = getKernelsForBackend('cpu').filter((k) => !nativeNames.has(k.kernelName));
  for (const k of nativeKernelConfigs) registerKernel(k);
  for (const k of cpuOnly) registerKernel(cpuKernelFor(k, VIEW_KERNELS.has(k.kernelName) ? 'view' : 'cpu'));
  registerBackend(BACKEND_NAME, () => new TorchBackend(native), 1);
  const facts = native.info();
  const info: TorchBackendInfo = {
    torchVersion: facts.torchVersion,
    threads,
    mkldnn: facts.mkldnn,
    convolutionsIntoOutputs: facts.convolutionsIntoOutputs,
    keepFreedMemory: keptFreedMemory,
    blas: blasInUse(),
    nativeKernels: [...nativeNames].sort(),
    cpuKernels: cpuOnly.map((k) => k.kernelName).sort(),
  };
  registered = { native, info };
  return info;
}
