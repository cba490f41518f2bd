/**
 * RenderPool: the threads that turn generator output into encoded images, so the HTTP thread never
 * converts pixels or sets up a sharp pipeline. On a saturated 2-core machine that work (about 0.75 ms
 * per 64x64 PNG, 12 ms for a returning batch of 16) kept /healthz and new connections waiting; here
 * it runs beside the event loop.
 *
 * Contract: render() resolves to the same bytes renderRequest() gives in-thread (same code, same
 * encoders); it takes ownership of the rows' buffers (they are moved to the render thread and detached
 * here), so pass buffers nothing else reads afterwards. Each thread runs up to
 * `tasksPerThread` renders at once: the pixel work and a PNG at the model's resolution are synchronous
 * on the thread; sharp's pipelines (resizing, JPEG, WebP, large PNG) run on libuv's pool (UV_THREADPOOL_SIZE), which
 * is process-wide, so several of those overlap.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { checkFormatLimits } from './format-limits.js';
import type { GeneratedRows, RenderModel, RenderSpec } from './render-request.js';
import type { RenderTask, RenderThreadData } from './render-worker.js';
import { inStageSpan } from '../telemetry/stage-span.js';
import { SPAN_ATTRIBUTES } from '../telemetry/request-span.js';

/** Threads when RENDER_THREADS is 0: one per two cores, at least 1 and at most 4. */
export function defaultRenderThreads(cores = availableParallelism()): number {
  return Math.max(1, Math.min(4, Math.floor(cores / 2)));
}

export interface RenderPoolOptions {
  /** Render threads; 0 = defaultRenderThreads(). */
  threads: number;
  /** Renders in flight per thread (their encodes overlap on libuv's pool). Default 8. */
  tasksPerThread?: number;
  /** Nice increment of the render threads (src/thread-priority.ts). Default 0. */
  threadNice?: number;
}

export class RenderPool {
  readonly threads: number;
  private readonly pool: Piscina<RenderTask, Uint8Array>;

  constructor(options: RenderPoolOptions) {
    this.threads = options.threads > 0 ? options.threads : defaultRenderThreads();
    this.pool = new Piscina<RenderTask, Uint8Array>({
      filename: new URL('./render-worker.js', import.meta.url).href,
      workerData: { threadNice: options.threadNice ?? 0 } satisfies RenderThreadData,
      minThreads: this.threads,
      maxThreads: this.threads,
      idleTimeout: Number.POSITIVE_INFINITY,
      concurrentTasksPerWorker: options.tasksPerThread ?? 8,
      // Tasks are asynchronous (sharp): the threads must keep their event loops running between tasks.
      atomics: 'disabled',
    });
  }

  /** Encodes n rows as one image per `spec` (see renderRequest). Moves rows.image and rows.attention. */
  async render(model: RenderModel, rows: GeneratedRows, n: number, spec: RenderSpec): Promise<Buffer> {
    // Routes check this before inference (naming their own field); here it covers any route that does not.
    checkFormatLimits(model, n, spec, 'format');
    const transferList: ArrayBuffer[] = [rows.image.buffer as ArrayBuffer];
    if (rows.attention && rows.attention.buffer !== rows.image.buffer)
      transferList.push(rows.attention.buffer as ArrayBuffer);
    const bytes = await inStageSpan(
      'encode',
      { [SPAN_ATTRIBUTES.format]: spec.format, [SPAN_ATTRIBUTES.rows]: n },
      () => this.pool.run({ model, rows, n, spec }, { transferList }),
    );
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Renders already accepted finish; the threads then exit. */
  async close(): Promise<void> {
    await this.pool.close();
  }
}
