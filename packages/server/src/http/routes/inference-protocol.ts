/**
 * The Open Inference Protocol (KServe v2 REST; JSON tensors, and binary ones by its binary tensor data
 * extension): health, server and model metadata, and `infer`, which goes through the model's batcher like
 * `/generate`, so v2 and image traffic share batches. A binary input decodes to the same arrays as the
 * same values in JSON, through the same checks (readInferInputs). A generator has two inputs, the
 * manifest's latent input (`z`, FP32 [-1, dim]) and class input (`y`, INT64 [-1]), and the outputs
 * `image` (FP32 [-1, 3, S, S], the model's output range) and, where the graph has it, `attention`
 * (FP32 [-1, N, M]).
 *
 * Errors keep the spec's shape, `{"error": "<message>"}`, with this server's `code`, `field` and
 * `allowed` beside it: the routes belong to INFERENCE_PROTOCOL_FRONTEND, which answers every /v2 error.
 */
import type { Response } from 'express';
import { expectedOutputShapes } from '@sagan-serve/model-contract/output-shapes';
import type { ServerConfig } from '../../config.js';
import { serveError } from '../../errors.js';
import { isReady, type ModelVersion, type ReadyModel } from '../../models/model-version.js';
import { inStageSpan } from '../../telemetry/stage-span.js';
import { SPAN_ATTRIBUTES } from '../../telemetry/request-span.js';
import { clientGone } from '../client-gone.js';
import { MAX_LATENT_MAGNITUDE } from '../generate-request.js';
import { INFERENCE_PROTOCOL_FRONTEND } from '../inference-protocol-frontend.js';
import { setModelHeaders } from '../model-headers.js';
import type { components } from '../openapi-types.js';
import { readyOrUnavailable } from '../request-model.js';
import type { RouteDefinition } from '../route.js';
import type { OperationId } from '../operation-input.js';
import { route, type RouteCall, type RouteHead, type TensorBodyInput } from '../route-stages.js';
import { serverReady } from '../server-ready.js';
import { binaryInputData } from '../binary-tensor-body.js';
import { BINARY_ELEMENT_BYTES, decodeBinaryTensor } from '../binary-tensor-encoding.js';
import { writeBinaryInferResponse } from '../tensor-binary-writer.js';
import { MAX_JSON_BYTES_PER_FP32, writeInferResponse } from '../tensor-json-writer.js';

export const SERVER_NAME = 'sagan-serve';

/** A validated infer request (both infer operations take this body). */
type InferRequest = components['schemas']['V2InferRequest'];
type TensorData = components['schemas']['V2TensorData'];
type InferInput = InferRequest['inputs'][number];

export interface MetadataTensor {
  name: string;
  datatype: string;
  shape: number[];
}

/** An output a request asks for, and whether it goes back as binary data. */
export interface RequestedOutput extends MetadataTensor {
  binary: boolean;
}

/** The model's tensors as the protocol describes them (-1: the batch axis). */
export function modelTensors(model: ReadyModel): { inputs: MetadataTensor[]; outputs: MetadataTensor[] } {
  const m = model.manifest;
  const outputs = expectedOutputShapes(m).map((o): MetadataTensor => ({
    name: o.name,
    datatype: 'FP32',
    shape: [-1, ...o.dims],
  }));
  return {
    inputs: [
      { name: m.latent.input, datatype: 'FP32', shape: [-1, m.latent.dim] },
      { name: m.class_input, datatype: 'INT64', shape: [-1] },
    ],
    outputs,
  };
}

/** `data` already flat (no nested arrays), as most clients send it. */
const isFlat = (data: TensorData): data is number[] => !data.some(Array.isArray);

function flatInto(data: TensorData, out: number[]): number[] {
  for (const value of data) {
    if (Array.isArray(value)) flatInto(value, out);
    else out.push(value);
  }
  return out;
}

/** Row-major values of a flat or nested `data` array, checked against `shape`. */
function flatten(data: TensorData, field: string, expected: number): number[] {
  const out = isFlat(data) ? data : flatInto(data, []);
  if (out.length !== expected)
    throw serveError.INVALID_ARGUMENT(
      `${field}.data`,
      `data has ${out.length} elements, shape says ${expected}`,
      `${expected} elements`,
    );
  return out;
}

/** A value as an error quotes it (a binary NaN as NaN, not JSON's null). */
const shown = (v: unknown): string => (typeof v === 'number' ? String(v) : String(JSON.stringify(v))).slice(0, 32);

/** An input's values, row-major, and the field that names them in errors. */
interface InputValues {
  values: ArrayLike<number>;
  field: string;
}

/** The values of `input` (at `field`): its JSON `data` flattened, or its binary data decoded. */
function inputValues(input: InferInput, binary: Buffer | undefined, field: string, elements: number): InputValues {
  if (input.data !== undefined) return { values: flatten(input.data, field, elements), field: `${field}.data` };
  return {
    values: decodeBinaryTensor(
      binary ?? Buffer.alloc(0),
      input.datatype,
      elements,
      `${field}.parameters.binary_data_size`,
    ),
    field,
  };
}

/**
 * The z and class rows of a request, checked against the model (names, datatypes, shapes, values), the
 * same checks whether a tensor came as JSON `data` or as binary data (`binaryData`: the bytes after the
 * JSON header, empty for a JSON body).
 */
export function readInferInputs(
  body: InferRequest,
  model: ReadyModel,
  maxRows: number,
  binaryData: Buffer,
): { z: Float32Array; classes: Int32Array; rows: number } {
  const binaryInputs = binaryInputData(body.inputs, binaryData);
  const m = model.manifest;
  const byName = new Map(body.inputs.map((input, i) => [input.name, { input, i }]));
  for (const [name, { i }] of byName) {
    if (name !== m.latent.input && name !== m.class_input)
      throw serveError.INVALID_ARGUMENT(
        `body.inputs[${i}].name`,
        `model '${m.name}' has no input '${name.slice(0, 64)}'`,
        [m.latent.input, m.class_input],
      );
  }
  if (byName.size !== body.inputs.length)
    throw serveError.INVALID_ARGUMENT('body.inputs', 'an input is given twice', [m.latent.input, m.class_input]);
  const latent = byName.get(m.latent.input);
  const cls = byName.get(m.class_input);
  if (!latent)
    throw serveError.INVALID_ARGUMENT('body.inputs', `input '${m.latent.input}' is required`, [
      m.latent.input,
      m.class_input,
    ]);
  if (!cls)
    throw serveError.INVALID_ARGUMENT('body.inputs', `input '${m.class_input}' is required`, [
      m.latent.input,
      m.class_input,
    ]);
  const zField = `body.inputs[${latent.i}]`;
  const yField = `body.inputs[${cls.i}]`;
  const dim = m.latent.dim;
  if (latent.input.datatype !== 'FP32')
    throw serveError.INVALID_ARGUMENT(`${zField}.datatype`, `'${m.latent.input}' is FP32`, ['FP32']);
  if (!['INT64', 'INT32'].includes(cls.input.datatype))
    throw serveError.INVALID_ARGUMENT(`${yField}.datatype`, `'${m.class_input}' is INT64 (INT32 accepted)`, [
      'INT64',
      'INT32',
    ]);
  const [rows, zDim] = latent.input.shape;
  if (latent.input.shape.length !== 2 || zDim !== dim)
    throw serveError.INVALID_ARGUMENT(
      `${zField}.shape`,
      `'${m.latent.input}' has shape [rows, ${dim}]`,
      `[rows, ${dim}]`,
    );
  if (!(rows >= 1 && rows <= maxRows))
    throw serveError.INVALID_ARGUMENT(
      `${zField}.shape`,
      `${rows} rows; between 1 and ${maxRows} per request for the outputs asked for (MAX_SAMPLES_PER_IMAGE, MAX_INFER_RESPONSE_BYTES, the model's queue)`,
      `1..${maxRows} rows`,
    );
  if (cls.input.shape.length !== 1 || cls.input.shape[0] !== rows)
    throw serveError.INVALID_ARGUMENT(
      `${yField}.shape`,
      `'${m.class_input}' has shape [${rows}] (one class per row of '${m.latent.input}')`,
      `[${rows}]`,
    );
  const zValues = inputValues(latent.input, binaryInputs[latent.i], zField, rows * dim);
  const z = new Float32Array(rows * dim);
  for (let i = 0; i < z.length; i++) {
    const v = zValues.values[i];
    if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > MAX_LATENT_MAGNITUDE)
      throw serveError.INVALID_ARGUMENT(
        zValues.field,
        `element ${i} (${shown(v)}) is not a number within the latent range`,
        `finite numbers with |v| <= ${MAX_LATENT_MAGNITUDE}`,
      );
    z[i] = v;
  }
  const K = m.classes.length;
  const yValues = inputValues(cls.input, binaryInputs[cls.i], yField, rows);
  const classes = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const v = yValues.values[i];
    if (!Number.isInteger(v) || v < 0 || v >= K)
      throw serveError.INVALID_ARGUMENT(
        yValues.field,
        `class ${shown(v)} at row ${i} is not a class index`,
        `integers 0..${K - 1} (${m.classes.join(', ')})`,
      );
    classes[i] = v;
  }
  return { z, classes, rows };
}

/**
 * The requested outputs (all of the model's, when the request names none), each binary when its own
 * `parameters.binary_data` says so, else when the request's `parameters.binary_data_output` does.
 */
function requestedOutputs(body: InferRequest, model: ReadyModel): RequestedOutput[] {
  const available = modelTensors(model).outputs;
  const binaryByDefault = body.parameters?.binary_data_output === true;
  if (!body.outputs || body.outputs.length === 0) return available.map((t) => ({ ...t, binary: binaryByDefault }));
  return body.outputs.map((o, i) => {
    const tensor = available.find((t) => t.name === o.name);
    if (!tensor)
      throw serveError.INVALID_ARGUMENT(
        `body.outputs[${i}].name`,
        `model '${model.manifest.name}' has no output '${o.name.slice(0, 64)}'`,
        available.map((t) => t.name),
      );
    return { ...tensor, binary: o.parameters?.binary_data ?? binaryByDefault };
  });
}

async function infer({
  context: deps,
  res,
  model,
  body,
  binaryData,
}: RouteCall & { model: ReadyModel } & TensorBodyInput<'v2Infer' | 'v2InferVersion'>): Promise<void> {
  const outputs = requestedOutputs(body, model);
  const { z, classes, rows } = readInferInputs(
    body,
    model,
    maxInferRows(outputs, deps.config, model.batching.maxQueueSize),
    binaryData,
  );
  const attentionName = model.manifest.attention?.output;
  const signal = clientGone(res);
  const result = await model.batcher.submit(
    { z, classes, wantAttention: attentionName !== undefined && outputs.some((o) => o.name === attentionName) },
    { signal },
  );
  setModelHeaders(res, model.manifest);
  const head = {
    model_name: model.manifest.name,
    model_version: model.manifest.version,
    ...(body.id !== undefined ? { id: body.id } : {}),
  };
  const tensors = outputs.map(({ name, shape, binary }) => ({
    name,
    datatype: 'FP32' as const,
    shape: [rows, ...shape.slice(1)],
    data: name === model.manifest.image.output ? result.image : result.attention!,
    binary,
  }));
  const binaryResponse = tensors.some((t) => t.binary);
  const write = binaryResponse ? writeBinaryInferResponse : writeInferResponse;
  await inStageSpan(
    'encode',
    { [SPAN_ATTRIBUTES.format]: binaryResponse ? 'binary' : 'json', [SPAN_ATTRIBUTES.rows]: rows },
    () => write(res, head, tensors, signal),
  );
}

/**
 * Rows one infer request may ask for: MAX_SAMPLES_PER_IMAGE, what the model's queue can ever hold, and
 * no more than keep the response within MAX_INFER_RESPONSE_BYTES at the largest each output's values can
 * be written (24 bytes a value as JSON, 4 as binary data), so the check holds before inference.
 */
export function maxInferRows(
  outputs: readonly RequestedOutput[],
  config: Pick<ServerConfig, 'maxSamplesPerImage' | 'maxInferResponseBytes'>,
  maxQueueSize: number,
): number {
  const bytesPerRow = outputs.reduce(
    (sum, t) =>
      sum +
      t.shape.slice(1).reduce((a, b) => a * b, 1) * (t.binary ? BINARY_ELEMENT_BYTES.FP32 : MAX_JSON_BYTES_PER_FP32),
    0,
  );
  return Math.max(
    0,
    Math.min(config.maxSamplesPerImage, maxQueueSize, Math.floor(config.maxInferResponseBytes / bytesPerRow)),
  );
}

function readiness(res: Response, ready: boolean, body: Record<string, unknown>): void {
  // The protocol answers health with the status code: 200 for true, a 4xx for false.
  res.status(ready ? 200 : 400).json(body);
}

type KnownModelCall = RouteCall & { model: ModelVersion };

function modelMetadata({ context, res, model }: KnownModelCall): void {
  const entry = readyOrUnavailable(model);
  const versions = context.registry
    .versionsOf(entry.name)
    .filter(isReady)
    .map((v) => v.version);
  res.json({ name: entry.name, versions, platform: 'onnxruntime_onnx', ...modelTensors(entry) });
}

function modelReady({ context, res, model }: KnownModelCall): void {
  const ready = isReady(model) && !context.lifecycle.draining;
  readiness(res, ready, { name: model.name, ready });
}

/** A route of the Open Inference Protocol: its errors are answered in that protocol's shape. */
function v2<Op extends OperationId>(head: Omit<RouteHead<Op>, 'frontend'>) {
  return route({ ...head, frontend: INFERENCE_PROTOCOL_FRONTEND });
}

export const inferenceProtocolRoutes: readonly RouteDefinition[] = [
  v2({ method: 'GET', path: '/v2', operationId: 'v2ServerMetadata', queuesWork: false }).handle(({ context, res }) => {
    res.json({ name: SERVER_NAME, version: context.serverVersion, extensions: ['binary_tensor_data'] });
  }),
  v2({ method: 'GET', path: '/v2/health/live', operationId: 'v2Live', queuesWork: false }).handle(({ res }) => {
    res.json({ live: true });
  }),
  v2({ method: 'GET', path: '/v2/health/ready', operationId: 'v2Ready', queuesWork: false }).handle(
    ({ context, res }) => {
      const ready = serverReady(context);
      readiness(res, ready, { ready });
    },
  ),
  v2({ method: 'GET', path: '/v2/models/:model', operationId: 'v2ModelMetadata', queuesWork: false })
    .knownModel()
    .handle(modelMetadata),
  v2({
    method: 'GET',
    path: '/v2/models/:model/versions/:version',
    operationId: 'v2ModelVersionMetadata',
    queuesWork: false,
  })
    .knownModel()
    .handle(modelMetadata),
  v2({ method: 'GET', path: '/v2/models/:model/ready', operationId: 'v2ModelReady', queuesWork: false })
    .knownModel()
    .handle(modelReady),
  v2({
    method: 'GET',
    path: '/v2/models/:model/versions/:version/ready',
    operationId: 'v2ModelVersionReady',
    queuesWork: false,
  })
    .knownModel()
    .handle(modelReady),
  v2({ method: 'POST', path: '/v2/models/:model/infer', operationId: 'v2Infer', queuesWork: true })
    .readyModel()
    .tensorBody()
    .handle(infer),
  v2({
    method: 'POST',
    path: '/v2/models/:model/versions/:version/infer',
    operationId: 'v2InferVersion',
    queuesWork: true,
  })
    .readyModel()
    .tensorBody()
    .handle(infer),
];
