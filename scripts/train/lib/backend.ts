/**
 * TensorFlow.js backend selection for the trainer.
 *
 *   webgpu      @tensorflow/tfjs-backend-webgpu on Dawn (package `webgpu`). navigator.gpu must exist
 *               before the backend module is imported, so it is set first and the module is imported
 *               dynamically. Flags WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE and WEBGPU_CPU_FORWARD=false are
 *               set (fewer submits, no CPU round trips for small tensors).
 *   tensorflow  @tensorflow/tfjs-node (libtensorflow, CPU or CUDA build). Not a dependency of this
 *               project: imported dynamically, with a clear error when it is absent.
 *   cpu         the pure-JavaScript backend bundled with @tensorflow/tfjs: for tests and tiny runs.
 *   auto        webgpu when a GPU adapter is found, else tensorflow when installed, else cpu.
 *
 * wasm is not offered: it lacks Conv2DBackpropFilter and cannot train convolutions.
 */
import * as tf from '@tensorflow/tfjs';
import { registerFastCpuKernels } from './cpu-kernels.js';

export type BackendName = 'webgpu' | 'tensorflow' | 'cpu';
export const BACKEND_CHOICES = ['auto', 'webgpu', 'tensorflow', 'cpu'] as const;
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
}

let active: BackendInfo | undefined;

async function setupWebgpu(opts: BackendOptions): Promise<BackendInfo> {
  const g = globalThis as Record<string, unknown>;
  let adapterText = 'adapter unknown';
  if (!(g.navigator as { gpu?: unknown } | undefined)?.gpu) {
    let webgpu: { create: (flags: string[]) => unknown; globals: object };
    try {
      webgpu = (await import('webgpu')) as unknown as typeof webgpu;
    } catch (err) {
      throw new Error(`backend webgpu: the 'webgpu' package (Dawn for Node) could not be loaded: ${(err as Error).message}`);
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
  const adapter = (await gpu.requestAdapter()) as { info?: { vendor?: string; architecture?: string; description?: string } } | null;
  if (!adapter) throw new Error('backend webgpu: no WebGPU adapter (no GPU, or Dawn found no usable Vulkan driver)');
  if (adapter.info) adapterText = [adapter.info.vendor, adapter.info.architecture, adapter.info.description].filter(Boolean).join(' ') || adapterText;
  await import('@tensorflow/tfjs-backend-webgpu');
  const batch = opts.deferredSubmitBatchSize ?? 200;
  tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', batch);
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  if (!(await tf.setBackend('webgpu'))) throw new Error('backend webgpu: tf.setBackend(\'webgpu\') failed');
  await tf.ready();
  return { name: 'webgpu', description: `webgpu (${adapterText}; WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=${batch}, WEBGPU_CPU_FORWARD=false)`, skipped: [] };
}

async function setupTensorflow(): Promise<BackendInfo> {
  const moduleName = '@tensorflow/tfjs-node';
  try {
    await import(moduleName);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new Error(`backend tensorflow needs ${moduleName}, which is not installed (it is an optional backend: npm install ${moduleName}@4.22.0, then run again)`);
    }
    throw new Error(`backend tensorflow: ${moduleName} failed to load: ${(err as Error).message}`);
  }
  if (!(await tf.setBackend('tensorflow'))) throw new Error('backend tensorflow: tf.setBackend(\'tensorflow\') failed');
  await tf.ready();
  return { name: 'tensorflow', description: 'tensorflow (@tensorflow/tfjs-node, libtensorflow)', skipped: [] };
}

async function setupCpu(): Promise<BackendInfo> {
  registerFastCpuKernels();
  if (!(await tf.setBackend('cpu'))) throw new Error('backend cpu: tf.setBackend(\'cpu\') failed');
  await tf.ready();
  return { name: 'cpu', description: 'cpu (pure JavaScript, with a faster Conv2DBackpropFilter; for tests and tiny configurations only)', skipped: [] };
}

/**
 * Selects and initialises a backend; call once, before any tensor is made. tfjs's prod mode is
 * enabled (no debug checks, no console chatter from the cpu backend).
 */
export async function setupBackend(choice: BackendChoice, opts: BackendOptions = {}): Promise<BackendInfo> {
  if (active) {
    if (choice !== 'auto' && choice !== active.name) throw new Error(`backend already set up as ${active.name}, cannot switch to ${choice}`);
    return active;
  }
  tf.enableProdMode();
  if (choice === 'webgpu') active = await setupWebgpu(opts);
  else if (choice === 'tensorflow') active = await setupTensorflow();
  else if (choice === 'cpu') active = await setupCpu();
  else {
    const skipped: string[] = [];
    for (const attempt of [() => setupWebgpu(opts), setupTensorflow]) {
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
