/**
 * The Open Inference Protocol (KServe v2 REST, JSON tensors): health, server and model metadata, and
 * `infer`, which goes through the model's batcher like `/generate`, so v2 and image traffic share
 * batches. A generator has two inputs, the manifest's latent input (`z`, FP32 [-1, dim]) and class input
 * (`y`, INT64 [-1]), and the outputs `image` (FP32 [-1, 3, S, S], the model's output range) and, where
 * the graph has it, `attention` (FP32 [-1, N, M]).
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
import { route, type JsonBodyInput, type RouteCall, type RouteHead } from '../route-stages.js';
import { serverReady } from '../server-ready.js';
import { MAX_JSON_BYTES_PER_FP32, writeInferResponse } from '../tensor-json-writer.js';

export const SERVER_NAME = 'sagan-serve';

/** A validated infer request (both infer operations take this body). */
type InferRequest = components['schemas']['V2InferRequest'];
type TensorData = components['schemas']['V2TensorData'];

export interface MetadataTensor {
  name: string;
  datatype: string;
  shape: number[];
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

/** The z and class rows of a request, checked against the model (names, datatypes, shapes, values). */
export function readInferInputs(
  body: InferRequest,
  model: ReadyModel,
  maxRows: number,
): { z: Float32Array; classes: Int32Array; rows: number } {
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
  const z = new Float32Array(rows * dim);
  flatten(latent.input.data, zField, rows * dim).forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > MAX_LATENT_MAGNITUDE)
      throw serveError.INVALID_ARGUMENT(
        `${zField}.data`,
        `element ${i} (${JSON.stringify(v)?.slice(0, 32)}) is not a number within the latent range`,
        `finite numbers with |v| <= ${MAX_LATENT_MAGNITUDE}`,
      );
    z[i] = v;
  });
  const K = m.classes.length;
  const classes = new Int32Array(rows);
  flatten(cls.input.data, yField, rows).forEach((v, i) => {
    if (!Number.isInteger(v) || v < 0 || v >= K)
      throw serveError.INVALID_ARGUMENT(
        `${yField}.data`,
        `class ${JSON.stringify(v)?.slice(0, 32)} at row ${i} is not a class index`,
        `integers 0..${K - 1} (${m.classes.join(', ')})`,
      );
    classes[i] = v;
  });
  return { z, classes, rows };
}

/** The requested outputs (all of the model's, when the request names none). */
function requestedOutputs(body: InferRequest, model: ReadyModel): string[] {
  const available = modelTensors(model).outputs.map((t) => t.name);
  if (!body.outputs || body.outputs.length === 0) return available;
  return body.outputs.map((o, i) => {
    if (!available.includes(o.name))
      throw serveError.INVALID_ARGUMENT(
        `body.outputs[${i}].name`,
        `model '${model.manifest.name}' has no output '${o.name.slice(0, 64)}'`,
        available,
      );
    return o.name;
  });
}

async function infer({
  context: deps,
  res,
  model,
  body,
}: RouteCall & { model: ReadyModel } & JsonBodyInput<'v2Infer' | 'v2InferVersion'>): Promise<void> {
  const outputs = requestedOutputs(body, model);
  const tensors = modelTensors(model).outputs.filter((t) => outputs.includes(t.name));
  const { z, classes, rows } = readInferInputs(
    body,
    model,
    maxInferRows(tensors, deps.config, model.batching.maxQueueSize),
  );
  const attentionName = model.manifest.attention?.output;
  const signal = clientGone(res);
  const result = await model.batcher.submit(
    { z, classes, wantAttention: attentionName !== undefined && outputs.includes(attentionName) },
    { signal },
  );
  setModelHeaders(res, model.manifest);
  const head = {
    model_name: model.manifest.name,
    model_version: model.manifest.version,
    ...(body.id !== undefined ? { id: body.id } : {}),
  };
  await inStageSpan('encode', { [SPAN_ATTRIBUTES.format]: 'json', [SPAN_ATTRIBUTES.rows]: rows }, () =>
    writeInferResponse(
      res,
      head,
      outputs.map((name) => {
        const spec = tensors.find((t) => t.name === name)!;
        const data = name === model.manifest.image.output ? result.image : result.attention!;
        return { name, datatype: 'FP32', shape: [rows, ...spec.shape.slice(1)], data };
      }),
      signal,
    ),
  );
}

/**
 * Rows one infer request may ask for: MAX_SAMPLES_PER_IMAGE, what the model's queue can ever hold, and
 * no more than keep the response within MAX_INFER_RESPONSE_BYTES at the largest a value can be written
 * (so the check holds before inference).
 */
export function maxInferRows(
  outputs: readonly MetadataTensor[],
  config: Pick<ServerConfig, 'maxSamplesPerImage' | 'maxInferResponseBytes'>,
  maxQueueSize: number,
): number {
  const valuesPerRow = outputs.reduce((sum, t) => sum + t.shape.slice(1).reduce((a, b) => a * b, 1), 0);
  return Math.max(
    0,
    Math.min(
      config.maxSamplesPerImage,
      maxQueueSize,
      Math.floor(config.maxInferResponseBytes / (valuesPerRow * MAX_JSON_BYTES_PER_FP32)),
    ),
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
    res.json({ name: SERVER_NAME, version: context.serverVersion, extensions: [] });
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
    .jsonBody()
    .handle(infer),
  v2({
    method: 'POST',
    path: '/v2/models/:model/versions/:version/infer',
    operationId: 'v2InferVersion',
    queuesWork: true,
  })
    .readyModel()
    .jsonBody()
    .handle(infer),
];
