/**
 * Tensor values as the binary tensor data extension lays them out: little-endian, row-major, each element
 * in its datatype's native size. Only the datatypes a generator's tensors use are taken (FP32 latents and
 * outputs, INT64 or INT32 classes).
 */
import { endianness } from 'node:os';
import { serveError } from '../errors.js';

/** Bytes per element of each datatype taken as binary data. */
export const BINARY_ELEMENT_BYTES = { FP32: 4, INT32: 4, INT64: 8 } as const;

type BinaryDatatype = keyof typeof BINARY_ELEMENT_BYTES;

const BINARY_DATATYPES = Object.keys(BINARY_ELEMENT_BYTES);

const isBinaryDatatype = (datatype: string): datatype is BinaryDatatype =>
  Object.hasOwn(BINARY_ELEMENT_BYTES, datatype);

/**
 * The `elements` values of a tensor's binary data, as numbers (an INT64 beyond 2^53 comes out rounded, which
 * the caller's range checks refuse anyway). `sizeField` names the input's binary_data_size: a datatype
 * not taken, or a byte count that is not `elements` of the datatype, is refused on it.
 */
export function decodeBinaryTensor(
  bytes: Buffer,
  datatype: string,
  elements: number,
  sizeField: string,
): ArrayLike<number> {
  if (!isBinaryDatatype(datatype))
    throw serveError.INVALID_ARGUMENT(
      sizeField,
      `binary data is taken for ${BINARY_DATATYPES.join(', ')} tensors, not ${datatype.slice(0, 16)}`,
      BINARY_DATATYPES,
    );
  const expected = elements * BINARY_ELEMENT_BYTES[datatype];
  if (bytes.length !== expected)
    throw serveError.INVALID_ARGUMENT(
      sizeField,
      `${bytes.length} bytes; the shape's ${elements} ${datatype} elements are ${expected}`,
      `${expected} bytes`,
    );
  // A DataView reads little-endian on any host and at any offset (the bytes need not be aligned).
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (datatype === 'FP32') {
    const values = new Float32Array(elements);
    for (let i = 0; i < elements; i++) values[i] = view.getFloat32(i * 4, true);
    return values;
  }
  if (datatype === 'INT32') {
    const values = new Int32Array(elements);
    for (let i = 0; i < elements; i++) values[i] = view.getInt32(i * 4, true);
    return values;
  }
  const values = new Float64Array(elements);
  for (let i = 0; i < elements; i++) values[i] = Number(view.getBigInt64(i * 8, true));
  return values;
}

const HOST_IS_LITTLE_ENDIAN = endianness() === 'LE';

/** FP32 values as binary data: the array's own bytes on a little-endian host (x86, arm), a swapped copy otherwise. */
export function littleEndianBytes(values: Float32Array): Buffer {
  const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  return HOST_IS_LITTLE_ENDIAN ? bytes : Buffer.from(bytes).swap32();
}
