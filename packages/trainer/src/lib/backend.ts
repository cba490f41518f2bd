/**
 * TensorFlow.js backend selection for the trainer.
 *
 *   torch       @sagan-serve/tfjs-backend-torch: kernels in libtorch (oneDNN convolutions, OpenBLAS matrix
 *               products) on the cpu backend's typed arrays; the CPU training backend. Needs libtorch
 *               (apt-get install libtorch-dev libopenblas0-openmp libideep-dev) when `npm ci` builds its addon.
 *   webgpu      @tensorflow/tfjs-backend-webgpu on Dawn (package `webgpu`). navigator.gpu must exist
 *               before the backend module is imported, so it is set first and the module is imported
 *               dynamically. Flags WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE and WEBGPU_CPU_FORWARD=false are
 *               set (fewer submits, no CPU round trips for small tensors).
 *   tensorflow  @tensorflow/tfjs-node (libtensorflow, CPU or CUDA build). Not a dependency of this
 *               project: imported dynamically, with a clear error when it is absent.
 *   cpu         the pure-JavaScript backend bundled with @tensorflow/tfjs: for tests and tiny runs.
 *   auto        webgpu on a hardware GPU adapter, else torch when its addon loads, else cpu (printing why).
 *
 * wasm is not offered: it lacks Conv2DBackpropFilter and cannot train convolutions.
 */
import type * as torchBackend from '@sagan-serve/tfjs-backend-torch';
import * as tf from '@tensorflow/tfjs';
import { registerFastCpuKernels } from './cpu-kernels.js';

export type BackendName = 'torch' | 'webgpu' | 'tensorflow' | 'cpu';
export const BACKEND_CHOICES = ['auto', 'torch', 'webgpu', 'tensorflow', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export interface BackendInfo {
  name: BackendName;
  /** One line for the log: adapter, flags, why it was chosen. */
  description: string;
  /** Backends tried before this one, with why they failed (auto only). */
  skipped: string[];
}

export interface BackendOptions {
  /** WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE; default 200. */
  deferredSubmitBatchSize?: number;
  /** torch: libtorch intra-op threads; default every core. */
  threads?: number;
  /** webgpu under auto: refuse a software (CPU) adapter such as lavapipe. */
  hardwareOnly?: boolean;
}

let active: BackendInfo | undefined;

async function setupWebgpu(opts: BackendOptions): Promise<BackendInfo> {
  const g = globalThis as Record<string, unknown>;
  let adapterText = 'adapter unknown';
  if (!(g.navigator as { gpu?: unknown } | undefined)?.gpu) {
    let webgpu: { create: (flags: string[]) => unknown; globals: object };
    try {
      webgpu = await import('webgpu');
    } catch (err) {
      throw new Error(
        `backend webgpu: the 'webgpu' package (Dawn for Node) could not be loaded: ${(err as Error).message}`,
        { cause: err },
      );
    }
    Object.assign(globalThis, webgpu.globals);
    const gpu = webgpu.create([]);
    try {
      Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    } catch {
      g.navigator = { gpu };
    }
  }
  const gpu = (g.navigator as { gpu: { requestAdapter: () => Promise<unknown> } }).gpu;
  const adapter = (await gpu.requestAdapter()) as {
    isFallbackAdapter?: boolean;
    info?: { vendor?: string; architecture?: string; description?: string };
  } | null;
  if (!adapter) throw new Error('backend webgpu: no WebGPU adapter (no GPU, or Dawn found no usable Vulkan driver)');
  if (adapter.info)
    adapterText =
      [adapter.info.vendor, adapter.info.architecture, adapter.info.description].filter(Boolean).join(' ') ||
      adapterText;
  if (opts.hardwareOnly && (adapter.isFallbackAdapter || /llvmpipe|lavapipe|swiftshader/i.test(adapterText))) {
    throw new Error(
      `backend webgpu: the only adapter is a software one (${adapterText}), slower than the CPU backends`,
    );
  }
  await import('@tensorflow/tfjs-backend-webgpu');
  const batch = opts.deferredSubmitBatchSize ?? 200;
  tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', batch);
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  if (!(await tf.setBackend('webgpu'))) throw new Error("backend webgpu: tf.setBackend('webgpu') failed");
  await tf.ready();
  return {
    name: 'webgpu',
    description: `webgpu (${adapterText}; WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=${batch}, WEBGPU_CPU_FORWARD=false)`,
    skipped: [],
  };
}

async function setupTensorflow(): Promise<BackendInfo> {
  const moduleName = '@tensorflow/tfjs-node';
  try {
    await import(moduleName);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new Error(
        `backend tensorflow needs ${moduleName}, which is not installed (it is an optional backend: npm install ${moduleName}@4.22.0, then run again)`,
        { cause: err },
      );
    }
    throw new Error(`backend tensorflow: ${moduleName} failed to load: ${(err as Error).message}`, { cause: err });
  }
  if (!(await tf.setBackend('tensorflow'))) throw new Error("backend tensorflow: tf.setBackend('tensorflow') failed");
  await tf.ready();
  return { name: 'tensorflow', description: 'tensorflow (@tensorflow/tfjs-node, libtensorflow)', skipped: [] };
}

async function setupTorch(opts: BackendOptions): Promise<BackendInfo> {
  const moduleName = '@sagan-serve/tfjs-backend-torch';
  let torch: typeof torchBackend;
  try {
    torch = (await import(moduleName)) as typeof torchBackend;
  } catch (err) {
    throw new Error(
      `backend torch: ${moduleName} could not be imported (${(err as Error).message}); run npm ci from the repository root`,
      { cause: err },
    );
  }
  let info: ReturnType<typeof torch.registerTorchBackend>;
  try {
    info = torch.registerTorchBackend({ threads: opts.threads });
  } catch (err) {
    throw new Error(`backend torch: ${(err as Error).message}`, { cause: err });
  }
  if (!(await tf.setBackend('torch'))) throw new Error("backend torch: tf.setBackend('torch') failed");
  await tf.ready();
  const blas = info.blas === 'openblas' ? 'OpenBLAS' : `BLAS ${info.blas}`;
  return {
    name: 'torch',
    description: `torch (libtorch ${info.torchVersion}, ${info.threads} threads, ${info.mkldnn ? (info.convolutionsIntoOutputs ? 'oneDNN into outputs' : 'oneDNN') : 'no oneDNN'}, ${blas})`,
    skipped: [],
  };
}

async function setupCpu(): Promise<BackendInfo> {
  registerFastCpuKernels();
  if (!(await tf.setBackend('cpu'))) throw new Error("backend cpu: tf.setBackend('cpu') failed");
  await tf.ready();
  return {
    name: 'cpu',
    description: 'cpu (pure JavaScript, with a faster Conv2DBackpropFilter; for tests and tiny configurations only)',
    skipped: [],
  };
}

/**
 * Selects and initialises a backend; call once, before any tensor is made. tfjs's prod mode is
 * enabled (no debug checks, no console chatter from the cpu backend).
 */
export async function setupBackend(choice: BackendChoice, opts: BackendOptions = {}): Promise<BackendInfo> {
  if (active) {
    if (choice !== 'auto' && choice !== active.name)
      throw new Error(`backend already set up as ${active.name}, cannot switch to ${choice}`);
    return active;
  }
  tf.enableProdMode();
  if (choice === 'webgpu') active = await setupWebgpu(opts);
  else if (choice === 'torch') active = await setupTorch(opts);
  else if (choice === 'tensorflow') active = await setupTensorflow();
  else if (choice === 'cpu') active = await setupCpu();
  else {
    const skipped: string[] = [];
    for (const attempt of [() => setupWebgpu({ ...opts, hardwareOnly: true }), () => setupTorch(opts)]) {
      try {
        active = await attempt();
        active.skipped = skipped;
        return active;
      } catch (err) {
        skipped.push((err as Error).message);
      }
    }
    active = await setupCpu();
    active.skipped = skipped;
  }
  return active;
}

export function activeBackend(): BackendInfo | undefined {
  return active;
}

/**
 * Whether the active backend has kernel `name`: the torch backend adds kernels of its own (FusedAdam,
 * SoftmaxGrad) that the trainer's layers use where they exist, keeping tfjs's composition elsewhere.
 */
export function backendHasKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

/** Reads a tensor's values without dataSync (which throws on WebGPU in Node). */
export async function readFloats(t: tf.Tensor): Promise<Float32Array> {
  const data = await t.data();
  return data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
}

/** Waits until the backend has executed everything queued so far (a 1-element read-back). */
export async function syncBackend(): Promise<void> {
  const t = tf.zeros([1]);
  try {
    await t.data();
  } finally {
    t.dispose();
  }
}
