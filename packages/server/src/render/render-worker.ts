/**
 * Render thread entry (loaded by piscina, see render-pool.ts): one task = one response image.
 * The encoded bytes go back in the transfer list; sharp allocates each output buffer on its own, so
 * moving it detaches nothing else.
 */
import { move, workerData } from 'piscina';
import { lowerThisThreadPriority } from '../thread-priority.js';
import { renderRequest, type GeneratedRows, type RenderModel, type RenderSpec } from './render-request.js';

export interface RenderThreadData {
  threadNice: number;
}

lowerThisThreadPriority((workerData as RenderThreadData).threadNice);

export interface RenderTask {
  model: RenderModel;
  rows: GeneratedRows;
  n: number;
  spec: RenderSpec;
}

export default async function render(task: RenderTask): Promise<Uint8Array> {
  const bytes = await renderRequest(task.model, task.rows, task.n, task.spec);
  const exact = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  // A view into a shared slab would take the whole slab with it; copy those (never seen from sharp).
  return move(exact ? new Uint8Array(bytes.buffer, 0, bytes.byteLength) : new Uint8Array(bytes)) as Uint8Array;
}
