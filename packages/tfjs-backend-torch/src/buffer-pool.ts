/**
 * Reuse of kernel output buffers. Fresh large ArrayBuffers come from mmap, and the first write to each
 * of their pages is a page fault: for the megabyte-sized activations of a training step that costs far
 * more than the arithmetic (BENCHMARKS.md, "torch backend"). Like libtorch's own allocator path
 * (glibc's heap, reused after free), buffers go back to a free list when the last tensor data using
 * them is disposed, and the next output of the same byte length takes one.
 *
 * A buffer is in use while any data entry of the backend references it: a kernel output, and also a
 * cpu-kernel view into it (a contiguous Slice is a subarray of the same ArrayBuffer). The backend
 * counts those references (`retain` on write, `release` on disposal); reads hand out copies, so no
 * pooled memory escapes to user code.
 */
export class BufferPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private readonly users = new Map<ArrayBuffer, number>();
  private freeBytes = 0;
  hits = 0;
  misses = 0;

  /** minBytes: smaller buffers come from malloc's heap cheaply and are not pooled; maxFreeBytes caps the idle memory kept. */
  constructor(
    readonly minBytes = 64 * 1024,
    readonly maxFreeBytes = 2 * 1024 ** 3,
  ) {}

  /** An uninitialised buffer of `bytes` (pooled when large enough). */
  take(bytes: number): ArrayBuffer {
    if (bytes < this.minBytes) return Buffer.allocUnsafeSlow(bytes).buffer;
    const list = this.free.get(bytes);
    let buffer = list?.pop();
    if (buffer) {
      this.hits += 1;
      this.freeBytes -= bytes;
    } else {
      this.misses += 1;
      buffer = Buffer.allocUnsafeSlow(bytes).buffer;
    }
    this.users.set(buffer, 0);
    return buffer;
  }

  isPooled(buffer: ArrayBufferLike): boolean {
    return this.users.has(buffer as ArrayBuffer);
  }

  retain(buffer: ArrayBufferLike): void {
    const n = this.users.get(buffer as ArrayBuffer);
    if (n !== undefined) this.users.set(buffer as ArrayBuffer, n + 1);
  }

  /** One user fewer; at none the buffer goes back to the free list (or to the GC past the cap). */
  release(buffer: ArrayBufferLike): void {
    const b = buffer as ArrayBuffer;
    const n = this.users.get(b);
    if (n === undefined) return;
    if (n > 1) {
      this.users.set(b, n - 1);
      return;
    }
    this.users.delete(b);
    if (this.freeBytes + b.byteLength > this.maxFreeBytes) return;
    let list = this.free.get(b.byteLength);
    if (!list) this.free.set(b.byteLength, (list = []));
    list.push(b);
    this.freeBytes += b.byteLength;
  }

  stats(): { buffersInUse: number; freeBytes: number; hits: number; misses: number } {
    return { buffersInUse: this.users.size, freeBytes: this.freeBytes, hits: this.hits, misses: this.misses };
  }

  /** Drops every idle buffer (memory back to the GC). */
  clear(): void {
    this.free.clear();
    this.freeBytes = 0;
  }
}
