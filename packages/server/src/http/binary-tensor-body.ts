/**
 * The request side of the Open Inference Protocol's binary tensor data extension (Triton's
 * `binary_tensor_data`, which KServe adopts): a body that is a JSON inference header of
 * `Inference-Header-Content-Length` bytes, followed by the bytes of each input whose
 * `parameters.binary_data_size` stands in for its `data`, in the order of those inputs.
 *
 * The /v2 router reads such a body whole (express.raw, within the server's body limit) instead of parsing
 * it as JSON; the route's body stage splits it here, and the route takes each input's bytes from
 * `binaryInputData`. Decoding the bytes by datatype is binary-tensor-encoding.ts.
 */
import type { IncomingMessage } from 'node:http';
import { serveError } from '../errors.js';
import { refuseDeepJson } from './json-depth.js';

/** The extension's HTTP header: bytes of JSON at the start of the body (request and response alike). */
export const INFERENCE_HEADER_CONTENT_LENGTH = 'Inference-Header-Content-Length';

/** The media types a v2 infer body may have: JSON, or the binary form (what Triton's clients send). */
export const TENSOR_BODY_TYPES = ['application/json', 'application/octet-stream'] as const;

const HEADER_FIELD = `header.${INFERENCE_HEADER_CONTENT_LENGTH}`;

function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

/**
 * Whether a request's body is read as bytes: it says where its JSON ends (the header, whatever its
 * Content-Type), or it is sent as application/octet-stream.
 */
export function isBinaryTensorBody(req: IncomingMessage): boolean {
  return (
    req.headers[INFERENCE_HEADER_CONTENT_LENGTH.toLowerCase()] !== undefined ||
    mediaType(req) === 'application/octet-stream'
  );
}

/** A binary-form body split: its JSON header, parsed (not yet validated), and the bytes after it. */
export interface SplitTensorBody {
  header: unknown;
  binaryData: Buffer;
}

/** The JSON header's length: Inference-Header-Content-Length, or the whole body without it. */
function headerLength(req: IncomingMessage, bodyBytes: number): number {
  const declared = req.headers[INFERENCE_HEADER_CONTENT_LENGTH.toLowerCase()];
  if (declared === undefined) return bodyBytes;
  const text = Array.isArray(declared) ? declared.join(',') : declared;
  if (!/^\d{1,15}$/.test(text.trim()))
    throw serveError.INVALID_ARGUMENT(
      HEADER_FIELD,
      `'${INFERENCE_HEADER_CONTENT_LENGTH}' is not a byte count (got '${text.slice(0, 32)}')`,
      `an integer 0..${bodyBytes}`,
    );
  const length = Number(text);
  if (length > bodyBytes)
    throw serveError.INVALID_ARGUMENT(
      HEADER_FIELD,
      `'${INFERENCE_HEADER_CONTENT_LENGTH}' says ${length} bytes of JSON; the body has ${bodyBytes}`,
      `an integer 0..${bodyBytes}`,
    );
  return length;
}

/** Splits a body read as bytes at its JSON header's end and parses the header (MALFORMED_JSON if it is not JSON). */
export function splitTensorBody(req: IncomingMessage, body: Buffer): SplitTensorBody {
  const length = headerLength(req, body.length);
  let header: unknown;
  try {
    header = JSON.parse(body.toString('utf8', 0, length));
  } catch {
    throw serveError.MALFORMED_JSON();
  }
  refuseDeepJson(header);
  return { header, binaryData: body.subarray(length) };
}

interface BinaryCapableInput {
  parameters?: { binary_data_size?: number };
}

/**
 * Each input's bytes (undefined for one given as JSON `data`), cut from `binaryData` in input order. The
 * sizes must account for every byte: one running past the end names its `binary_data_size`, bytes left
 * over name the body.
 */
export function binaryInputData(inputs: readonly BinaryCapableInput[], binaryData: Buffer): Array<Buffer | undefined> {
  let offset = 0;
  const data = inputs.map((input, i) => {
    const size = input.parameters?.binary_data_size;
    if (size === undefined) return undefined;
    if (offset + size > binaryData.length)
      throw serveError.INVALID_ARGUMENT(
        `body.inputs[${i}].parameters.binary_data_size`,
        `${size} bytes from byte ${offset} of the binary data run past its end (${binaryData.length} bytes after the JSON header)`,
        `at most ${binaryData.length - offset} bytes`,
      );
    const bytes = binaryData.subarray(offset, offset + size);
    offset += size;
    return bytes;
  });
  if (offset !== binaryData.length)
    throw serveError.INVALID_ARGUMENT(
      'body',
      `${binaryData.length - offset} bytes follow the binary inputs (their binary_data_size add up to ${offset}, the body has ${binaryData.length} after the JSON header)`,
      `${offset} bytes after the JSON header`,
    );
  return data;
}
