/**
 * The `torch` backend: tensors live where the cpu backend keeps them (JavaScript typed arrays, so
 * reshapes, views and every cpu kernel work on them unchanged), and native kernels run in libtorch on
 * those arrays without copies (native/args.h). Kernel outputs come from a buffer pool (buffer-pool.ts);
 * reads return copies so that pooled memory never reaches user code.
 */
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import {
  util,
  type BackendValues,
  type DataId,
  type DataType,
  type TensorInfo,
  type TypedArray,
} from '@tensorflow/tfjs-core';
import { BufferPool } from './buffer-pool.js';
import type { NativeAddon, NativeTensor } from './native.js';

export type NativeDtype = 'float32' | 'int32' | 'bool';

const NATIVE_DTYPES = new Set<string>(['float32', 'int32', 'bool']);

export function isNativeDtype(dtype: DataType): dtype is NativeDtype {
  return NATIVE_DTYPES.has(dtype);
}

const TYPED_ARRAY_OF: Record<
  NativeDtype,
  {
    new (values: ArrayLike<number>): TypedArray;
    new (buffer: ArrayBuffer, offset: number, length: number): TypedArray;
    BYTES_PER_ELEMENT: number;
  }
> = {
  float32: Float32Array,
  int32: Int32Array,
  bool: Uint8Array,
};

function arrayBufferOf(values: BackendValues | undefined): ArrayBufferLike | undefined {
  return values && ArrayBuffer.isView(values) ? values.buffer : undefined;
}

export class TorchBackend extends MathBackendCPU {
  readonly pool = new BufferPool();

  constructor(readonly native: NativeAddon) {
    super();
    // MathBackendCPU's first write prints a hint to install tfjs-node; this is a native backend.
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }

  override write(values: BackendValues, shape: number[], dtype: DataType): DataId {
    const id = super.write(values, shape, dtype);
    const buffer = arrayBufferOf(values);
    if (buffer) this.pool.retain(buffer);
    return id;
  }

  override move(dataId: DataId, values: BackendValues, shape: number[], dtype: DataType, refCount: number): void {
    super.move(dataId, values, shape, dtype, refCount);
    const buffer = arrayBufferOf(values);
    if (buffer) this.pool.retain(buffer);
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const entry = this.data.has(dataId) ? this.data.get(dataId) : undefined;
    const released = super.disposeData(dataId, force);
    if (entry && !this.data.has(dataId)) {
      const buffer = arrayBufferOf(entry.values);
      if (buffer) this.pool.release(buffer);
    }
    return released;
  }

  override readSync(dataId: DataId): BackendValues {
    const values = super.readSync(dataId);
    const buffer = arrayBufferOf(values);
    return buffer && this.pool.isPooled(buffer) ? (values as TypedArray).slice() : values;
  }

  override memory(): { unreliable: boolean; reasons: string[]; pool: ReturnType<BufferPool['stats']> } {
    return { ...super.memory(), pool: this.pool.stats() };
  }

  /** The values of a float32/int32/bool tensor as the typed array its dtype calls for. */
  values(t: TensorInfo): TypedArray {
    const values = this.data.get(t.dataId).values as TypedArray;
    const want = TYPED_ARRAY_OF[t.dtype as NativeDtype];
    return values instanceof want ? values : new want(values);
  }

  /**
   * Allocates uninitialised outputs (every native kernel writes its whole output), lets `write` fill
   * them, and registers them as tensor data; if `write` throws, nothing is registered and the buffers
   * go back to the pool.
   */
  runMany(
    outputs: readonly { shape: readonly number[]; dtype: NativeDtype }[],
    write: (outs: TypedArray[]) => void,
  ): TensorInfo[] {
    const buffers = outputs.map(({ shape, dtype }) => {
      const size = util.sizeFromShape(shape as number[]);
      const type = TYPED_ARRAY_OF[dtype];
      return new type(this.pool.take(size * type.BYTES_PER_ELEMENT), 0, size);
    });
    try {
      write(buffers);
    } catch (err) {
      for (const b of buffers) this.pool.release(b.buffer);
      throw err;
    }
    return outputs.map(({ shape, dtype }, i) => this.makeTensorInfo(shape as number[], dtype, buffers[i]));
  }

  /** One output of `shape` (the values' shape; a kernel may write them through another view of the same size). */
  run(shape: readonly number[], dtype: NativeDtype, write: (out: TypedArray) => void): TensorInfo {
    return this.runMany([{ shape, dtype }], ([out]) => write(out))[0];
  }

  /** A tensor as the addon's named-argument kernels take it. */
  tensor(t: TensorInfo): NativeTensor {
    return { values: this.values(t), shape: t.shape };
  }
}
