/**
 * Loads the libtorch addon (build/Release/torch_backend.node, built by scripts/build-native.mjs at
 * install time). When it cannot be loaded, the error says why (libtorch not installed, the build failed,
 * or the addon no longer loads) and how to fix it, in one line.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The addon's exports: one function per native kernel (named as the tfjs kernel) plus these. */
export interface NativeAddon {
  /** Throws a RangeError unless n is an integer from 1 to MAX_THREADS. */
  setNumThreads(n: number): void;
  /** glibc: serve large blocks from the heap and keep freed memory there (see native/addon.cc); true if set. */
  keepFreedMemory(): boolean;
  info(): { torchVersion: string; threads: number; maxThreads: number; parallel: string; config: string; mkldnn: boolean };
  /** Throws a c10::Error, a std::exception or another C++ value natively, for the tests of the exception guard. */
  _throwForTest(kind: 'c10' | 'std' | 'other'): void;
  [kernel: string]: unknown;
}

/**
 * The most libtorch threads the backend accepts (native/addon.cc has the same bound): more than any
 * machine has cores, and small enough that libtorch's thread pools can start.
 */
export const MAX_THREADS = 1024;

export type UnavailableReason = 'libtorch-missing' | 'cmake-missing' | 'build-failed' | 'not-built' | 'load-failed';

/** Thrown when the backend cannot be used on this machine; `reason` is machine-readable. */
export class TorchBackendUnavailableError extends Error {
  constructor(readonly reason: UnavailableReason, message: string) {
    super(message);
    this.name = 'TorchBackendUnavailableError';
  }
}

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ADDON_PATH = path.join(packageRoot, 'build', 'Release', 'torch_backend.node');
const STATUS_PATH = path.join(packageRoot, 'build', 'status.json');
const HINTS = JSON.parse(readFileSync(path.join(packageRoot, 'install-hint.json'), 'utf8')) as { libtorch: string; rebuild: string };

const WHY_NOT_BUILT: Record<string, string> = {
  'libtorch-missing': `libtorch is not installed (${HINTS.libtorch})`,
  'cmake-missing': `cmake is missing (apt-get install cmake, then ${HINTS.rebuild})`,
  'build-failed': `building it against the installed libtorch failed (${HINTS.rebuild} shows the compiler output)`,
};

let loaded: NativeAddon | undefined;

export function loadNative(): NativeAddon {
  if (loaded) return loaded;
  if (!existsSync(ADDON_PATH)) {
    let reason = 'not-built';
    try {
      reason = (JSON.parse(readFileSync(STATUS_PATH, 'utf8')) as { reason?: string }).reason ?? reason;
    } catch {
      // no install step ran here (npm ci --ignore-scripts, or a copy without build/)
    }
    const why = WHY_NOT_BUILT[reason] ?? `its install step has not run (${HINTS.libtorch})`;
    throw new TorchBackendUnavailableError((reason in WHY_NOT_BUILT ? reason : 'not-built') as UnavailableReason, `the torch backend is not built: ${why}`);
  }
  try {
    loaded = createRequire(import.meta.url)(ADDON_PATH) as NativeAddon;
  } catch (err) {
    throw new TorchBackendUnavailableError('load-failed', `the torch backend addon does not load (${(err as Error).message.split('\n')[0]}); was libtorch removed or upgraded? Rebuild: ${HINTS.rebuild}`);
  }
  return loaded;
}
