/**
 * Writes an Open Inference Protocol JSON response whose output tensors may be large: a slice of values
 * at a time, waiting for the client to take each (with the write-idle deadline behind it) and yielding
 * to the event loop between slices. Built in one piece, a response of a few tens of MB held the event
 * loop for seconds (health checks and every other request waited) and twice its size in memory.
 *
 * The bytes are the ones JSON.stringify gives for the same object: numbers in JavaScript's shortest
 * round-trip form, non-finite values as null.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Response } from 'express';
import { writeChunk } from './write-chunk.js';

export interface OutputTensor {
  name: string;
  datatype: 'FP32';
  shape: number[];
  data: Float32Array;
  /**
   * Returned as binary data after the JSON (the binary tensor data extension, tensor-binary-writer.ts):
   * the JSON then gives its `parameters.binary_data_size` instead of its `data`.
   */
  binary: boolean;
}

/**
 * The most bytes one FP32 value takes in the response: JavaScript's shortest round-trip form of a float32
 * widened to a double is at most 17 significant digits, a sign, a point and an exponent
 * (`-1.2345678901234567e-38`, 23 characters), plus the comma.
 */
export const MAX_JSON_BYTES_PER_FP32 = 24;

/** Values formatted per slice: small enough that one slice holds the event loop for about a millisecond. */
const VALUES_PER_SLICE = 8192;

function formatSlice(values: Float32Array, from: number, to: number): string {
  const slice = values.subarray(from, to);
  let allFinite = true;
  for (let i = 0; i < slice.length && allFinite; i++) allFinite = Number.isFinite(slice[i]);
  // A typed array's join writes each value as JSON does; only NaN and infinities need JSON's null.
  const text = allFinite
    ? slice.join(',')
    : Array.from(slice, (v) => (Number.isFinite(v) ? String(v) : 'null')).join(',');
  return from === 0 ? text : `,${text}`;
}

/**
 * The text of `{...head, "outputs": [...]}`, a slice of values at a time, yielding to the event loop
 * between slices. Stops early (without error) when `signal` (the client-gone signal) aborts.
 */
export async function* inferResponseJson(
  head: Record<string, unknown>,
  outputs: readonly OutputTensor[],
  signal: AbortSignal,
): AsyncGenerator<string> {
  const opening = JSON.stringify(head);
  yield `${opening.slice(0, -1)}${opening.length > 2 ? ',' : ''}"outputs":[`;
  for (const [index, output] of outputs.entries()) {
    const { data, binary, ...meta } = output;
    const separator = index === 0 ? '' : ',';
    if (binary) {
      yield `${separator}${JSON.stringify({ ...meta, parameters: { binary_data_size: data.byteLength } })}`;
      continue;
    }
    yield `${separator}${JSON.stringify(meta).slice(0, -1)},"data":[`;
    for (let from = 0; from < data.length; from += VALUES_PER_SLICE) {
      if (signal.aborted) return;
      yield formatSlice(data, from, Math.min(data.length, from + VALUES_PER_SLICE));
      await yieldToEventLoop();
    }
    yield ']}';
  }
  yield ']}';
}

/** Streams the JSON response (every output's `data` in it), as inferResponseJson gives it. */
export async function writeInferResponse(
  res: Response,
  head: Record<string, unknown>,
  outputs: readonly OutputTensor[],
  signal: AbortSignal,
): Promise<void> {
  res.status(200).type('application/json');
  for await (const text of inferResponseJson(head, outputs, signal)) await writeChunk(res, text);
  if (!signal.aborted) res.end();
}
