/**
 * Writes an Open Inference Protocol response whose outputs are (some or all) binary data, as the binary
 * tensor data extension frames it: the JSON header (tensor-json-writer.ts's text, where a binary output
 * has `parameters.binary_data_size` and no `data`) of `Inference-Header-Content-Length` bytes, then each
 * binary output's bytes in output order, as application/octet-stream.
 *
 * The header's length goes out before the header, so the header is formatted first and held (the JSON
 * outputs' share of MAX_INFER_RESPONSE_BYTES at most); the binary data is the result's own memory,
 * written a slice at a time, each slice waiting for the client to take the last (with the write-idle
 * deadline behind it).
 */
import type { Response } from 'express';
import { INFERENCE_HEADER_CONTENT_LENGTH } from './binary-tensor-body.js';
import { littleEndianBytes } from './binary-tensor-encoding.js';
import { inferResponseJson, type OutputTensor } from './tensor-json-writer.js';
import { writeChunk } from './write-chunk.js';

/** Bytes handed to the socket at a time: a bound on what one write queues beyond the socket's buffer. */
const BINARY_BYTES_PER_SLICE = 64 * 1024;

/** The JSON header as one piece of bytes (one write, not a packet per piece of text). */
async function jsonHeader(
  head: Record<string, unknown>,
  outputs: readonly OutputTensor[],
  signal: AbortSignal,
): Promise<Buffer> {
  const pieces: string[] = [];
  for await (const text of inferResponseJson(head, outputs, signal)) pieces.push(text);
  return Buffer.from(pieces.join(''));
}

/** Writes the binary-framed response. Stops early (without error) when `signal`, the client-gone signal, aborts. */
export async function writeBinaryInferResponse(
  res: Response,
  head: Record<string, unknown>,
  outputs: readonly OutputTensor[],
  signal: AbortSignal,
): Promise<void> {
  const header = await jsonHeader(head, outputs, signal);
  if (signal.aborted) return;
  const binary = outputs.filter((o) => o.binary).map((o) => littleEndianBytes(o.data));
  res.status(200).type('application/octet-stream');
  res.setHeader(INFERENCE_HEADER_CONTENT_LENGTH, String(header.length));
  res.setHeader('Content-Length', String(binary.reduce((sum, bytes) => sum + bytes.length, header.length)));
  await writeChunk(res, header);
  for (const bytes of binary) {
    for (let from = 0; from < bytes.length; from += BINARY_BYTES_PER_SLICE) {
      if (signal.aborted) return;
      await writeChunk(res, bytes.subarray(from, from + BINARY_BYTES_PER_SLICE));
    }
  }
  if (!signal.aborted) res.end();
}
