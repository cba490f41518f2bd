/**
 * Small helpers for building and inspecting ONNX protos with onnx-proto (protobufjs static code):
 * tensors / initializers (float32, float16, int64), nodes with attributes, value infos, model
 * encoding, and `describeModelIO` which decodes a model file and lists its graph inputs and outputs
 * (the server checks manifests against it).
 *
 * Nothing here runs a model; that is ort-session.ts's job.
 */
/* eslint-disable @typescript-eslint/no-unsafe-enum-comparison, @typescript-eslint/no-unsafe-argument --
   onnx-proto's generated typings declare element types as plain numbers beside its DataType enum, and
   its 64-bit fields as protobufjs Longs whose type it does not ship; both are read as ONNX defines them. */
import onnxProto from 'onnx-proto';
import type { GraphValueInfo } from './graph-value-info.js';

export const onnx = onnxProto.onnx;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type ValueInfoProto = onnxProto.onnx.IValueInfoProto;
export type AttributeProto = onnxProto.onnx.IAttributeProto;

const DataType = onnx.TensorProto.DataType;
const AttributeType = onnx.AttributeProto.AttributeType;

/** Element types this project writes; names match what onnxruntime reports ('float32', 'int64', ...). */
export type ElemTypeName = 'float32' | 'float16' | 'int64' | 'int32';

/** ONNX TensorProto.DataType code -> the name onnxruntime uses for it. */
export const ELEM_TYPE_NAMES: Readonly<Record<number, string>> = {
  [DataType.FLOAT]: 'float32',
  [DataType.UINT8]: 'uint8',
  [DataType.INT8]: 'int8',
  [DataType.UINT16]: 'uint16',
  [DataType.INT16]: 'int16',
  [DataType.INT32]: 'int32',
  [DataType.INT64]: 'int64',
  [DataType.STRING]: 'string',
  [DataType.BOOL]: 'bool',
  [DataType.FLOAT16]: 'float16',
  [DataType.DOUBLE]: 'float64',
  [DataType.UINT32]: 'uint32',
  [DataType.UINT64]: 'uint64',
  [DataType.COMPLEX64]: 'complex64',
  [DataType.COMPLEX128]: 'complex128',
  [DataType.BFLOAT16]: 'bfloat16',
};

const ELEM_TYPE_CODES: Readonly<Record<ElemTypeName, number>> = {
  float32: DataType.FLOAT,
  float16: DataType.FLOAT16,
  int64: DataType.INT64,
  int32: DataType.INT32,
};

export function elemTypeCode(name: ElemTypeName): number {
  return ELEM_TYPE_CODES[name];
}

// ---------------------------------------------------------------------------------------------
// float16

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half-precision bits of a number (round to nearest even; overflow -> inf; NaN kept). */
export function float32ToFloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0); // inf / NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow -> inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow -> signed zero
    mant |= 0x800000; // implicit leading one
    const shift = 14 - e;
    const half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    const rounded = rest > halfway || (rest === halfway && (half & 1) === 1) ? half + 1 : half;
    return sign | rounded;
  }
  const half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (and 0x7bff + 1 = inf).
  const rounded = rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1) ? half + 1 : half;
  return sign | rounded;
}

/** The number that half-precision bits stand for. */
export function float16BitsToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

// ---------------------------------------------------------------------------------------------
// tensors

function product(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

function checkLength(name: string, dims: readonly number[], length: number): void {
  if (dims.some((d) => !Number.isInteger(d) || d < 0))
    throw new Error(`tensor '${name}': bad dims [${dims.join(', ')}]`);
  if (product(dims) !== length)
    throw new Error(`tensor '${name}': dims [${dims.join(', ')}] need ${product(dims)} values, got ${length}`);
}

function littleEndianBytes(view: ArrayBufferView): Uint8Array {
  // Node on every supported platform is little-endian, as ONNX raw_data is.
  return new Uint8Array(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));
}

/**
 * A floating-point tensor (initializer) stored as raw little-endian data. `dtype` 'float16' converts
 * the values to half precision (a graph then needs a Cast to float before use).
 */
export function floatTensor(
  name: string,
  dims: readonly number[],
  data: Float32Array | readonly number[],
  dtype: 'float32' | 'float16' = 'float32',
): TensorProto {
  checkLength(name, dims, data.length);
  let raw: Uint8Array;
  if (dtype === 'float16') {
    const bits = new Uint16Array(data.length);
    for (let i = 0; i < data.length; i++) bits[i] = float32ToFloat16Bits(data[i]);
    raw = littleEndianBytes(bits);
  } else {
    raw = littleEndianBytes(data instanceof Float32Array ? data : Float32Array.from(data));
  }
  return { name, dims: [...dims], dataType: elemTypeCode(dtype), rawData: raw };
}

/** An int64 tensor (e.g. a Reshape shape or axes). */
export function int64Tensor(
  name: string,
  dims: readonly number[],
  data: BigInt64Array | readonly number[],
): TensorProto {
  checkLength(name, dims, data.length);
  const values = data instanceof BigInt64Array ? data : BigInt64Array.from(data, (v) => BigInt(v));
  return { name, dims: [...dims], dataType: DataType.INT64, rawData: littleEndianBytes(values) };
}

/** Reads a float32 / float16 / int64 / int32 tensor proto back into numbers (tests, inspection). */
export function tensorValues(t: TensorProto): number[] {
  const type = t.dataType ?? DataType.UNDEFINED;
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
  if (raw) {
    const buf = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength);
    switch (type) {
      case DataType.FLOAT:
        return Array.from(new Float32Array(buf));
      case DataType.FLOAT16:
        return Array.from(new Uint16Array(buf), float16BitsToFloat32);
      case DataType.INT64:
        return Array.from(new BigInt64Array(buf), Number);
      case DataType.INT32:
        return Array.from(new Int32Array(buf));
      default:
        throw new Error(`tensor '${t.name}': cannot read data type ${ELEM_TYPE_NAMES[type] ?? type}`);
    }
  }
  if (type === DataType.FLOAT) return [...(t.floatData ?? [])];
  if (type === DataType.INT64) return (t.int64Data ?? []).map(toNumber);
  if (type === DataType.INT32) return [...(t.int32Data ?? [])];
  throw new Error(`tensor '${t.name}': no data`);
}

// ---------------------------------------------------------------------------------------------
// nodes and value infos

/**
 * Attribute values: integers and integer arrays become INT / INTS, other numbers FLOAT, strings
 * STRING. Wrap in `{ float: x }` / `{ floats: [...] }` to force floats (e.g. alpha = 1).
 */
export type AttrValue = number | readonly number[] | string | { float: number } | { floats: readonly number[] };

export function attribute(name: string, value: AttrValue): AttributeProto {
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') {
    return Number.isInteger(value)
      ? { name, type: AttributeType.INT, i: value }
      : { name, type: AttributeType.FLOAT, f: value };
  }
  if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float };
  if ('floats' in value) return { name, type: AttributeType.FLOATS, floats: [...value.floats] };
  const list = value;
  if (list.every((v) => Number.isInteger(v))) return { name, type: AttributeType.INTS, ints: [...list] };
  return { name, type: AttributeType.FLOATS, floats: [...list] };
}

export function makeNode(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  attrs: Record<string, AttrValue> = {},
  name?: string,
): NodeProto {
  return {
    opType,
    input: [...inputs],
    output: [...outputs],
    name: name ?? outputs[0],
    attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
  };
}

/** A tensor value info; a string dim is symbolic (e.g. 'batch'). */
export function valueInfo(name: string, elemType: ElemTypeName, dims: ReadonlyArray<number | string>): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: elemTypeCode(elemType),
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// models

export interface ModelSpec {
  graphName: string;
  nodes: NodeProto[];
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
  initializers: TensorProto[];
  /** Default-domain opset version. */
  opset: number;
  /** Defaults to 8, which covers opsets up to 17; raised automatically for newer opsets. */
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  /** Written as metadata_props (string -> string). */
  metadata?: Record<string, string>;
}

/** IR version that goes with an opset (onnx/helper.py's VERSION_TABLE). */
function irVersionFor(opset: number): number {
  if (opset <= 17) return 8;
  if (opset <= 19) return 9;
  if (opset <= 21) return 10;
  return 11;
}

/** Serializes a ModelProto. */
export function encodeModel(spec: ModelSpec): Uint8Array {
  const model: onnxProto.onnx.IModelProto = {
    irVersion: spec.irVersion ?? irVersionFor(spec.opset),
    opsetImport: [{ domain: '', version: spec.opset }],
    producerName: spec.producerName ?? 'sagan-serve',
    producerVersion: spec.producerVersion ?? '',
    docString: spec.docString ?? '',
    graph: {
      name: spec.graphName,
      node: spec.nodes,
      input: spec.inputs,
      output: spec.outputs,
      initializer: spec.initializers,
    },
    metadataProps: Object.entries(spec.metadata ?? {}).map(([key, value]) => ({ key, value })),
  };
  return onnx.ModelProto.encode(model).finish();
}

export function decodeModel(bytes: Uint8Array): onnxProto.onnx.ModelProto {
  return onnx.ModelProto.decode(bytes);
}

// ---------------------------------------------------------------------------------------------
// describeModelIO

export interface ModelIO {
  inputs: GraphValueInfo[];
  outputs: GraphValueInfo[];
  /** Default-domain opset version; undefined if the model imports none. */
  opset?: number;
  irVersion: number;
  producerName: string;
  metadata: Record<string, string>;
}

function toNumber(v: number | { toNumber(): number } | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

function describeValue(v: onnxProto.onnx.IValueInfoProto): GraphValueInfo {
  const info: GraphValueInfo = { name: v.name ?? '' };
  const tensor = v.type?.tensorType;
  if (!tensor) return info;
  if (tensor.elemType) info.type = ELEM_TYPE_NAMES[tensor.elemType] ?? `type${tensor.elemType}`;
  if (tensor.shape) {
    info.shape = (tensor.shape.dim ?? []).map((d) => {
      if (d.dimParam) return d.dimParam;
      if (d.dimValue !== null && d.dimValue !== undefined) {
        const n = toNumber(d.dimValue);
        // protobufjs decodes an unset dim_value as 0 on the prototype; a real static 0 is not used here.
        if (Object.prototype.hasOwnProperty.call(d, 'dimValue')) return n;
      }
      return -1;
    });
  }
  return info;
}

/**
 * Decodes an ONNX model file and lists the graph's real inputs (initializers listed as inputs, as
 * old exporters do, are left out) and outputs with element type names and dims.
 */
export function describeModelIO(bytes: Uint8Array): ModelIO {
  const model = decodeModel(bytes);
  const graph = model.graph;
  if (!graph) throw new Error('ONNX model has no graph');
  const initializerNames = new Set((graph.initializer ?? []).map((t) => t.name));
  const opset = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  const metadata: Record<string, string> = {};
  for (const p of model.metadataProps ?? []) if (p.key) metadata[p.key] = p.value ?? '';
  return {
    inputs: (graph.input ?? []).filter((i) => !initializerNames.has(i.name)).map(describeValue),
    outputs: (graph.output ?? []).map(describeValue),
    opset: opset ? toNumber(opset.version) : undefined,
    irVersion: toNumber(model.irVersion),
    producerName: model.producerName ?? '',
    metadata,
  };
}
