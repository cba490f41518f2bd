/**
 * An ONNX graph input or output, as both readers of a graph describe it: ort-session.ts from a loaded
 * ONNX Runtime session, onnx-model.ts from the model file's protobuf. manifest.ts checks either against
 * the manifest.
 */
export interface GraphValueInfo {
  name: string;
  /** 'float32', 'int64', ...; undefined when the value is not a tensor or its element type is unknown. */
  type?: string;
  /** Static dims as numbers, symbolic ones by name (e.g. 'batch'), -1 for an unnamed dynamic dim; undefined when the rank is unknown. */
  shape?: ReadonlyArray<number | string>;
}
