/**
 * The model manifest (`models/<name>/model.json`): a public contract documented in README
 * "Model manifest". Parsed and validated with ajv here (read from a model directory by manifest-file.ts);
 * checked against the ONNX graph's inputs and outputs by checkGraph() once the session is loaded.
 */
import { Ajv } from 'ajv';
import { BATCHING_SCHEMA_PROPERTIES, impossibleBatching, type BatchingConfig } from './batching-config.js';
import type { GraphValueInfo } from './graph-value-info.js';
import { expectedOutputShapes, type AttentionOutput, type ImageOutput } from './output-shapes.js';

export interface ModelManifest {
  name: string;
  version: string;
  /** ONNX file, relative to the manifest's directory. */
  file: string;
  /** Class names; the class input takes the index into this list. */
  classes: string[];
  latent: { input: string; dim: number };
  class_input: string;
  image: ImageOutput;
  attention?: AttentionOutput;
  /** Per-model overrides of the server's batching defaults. */
  batching?: Partial<BatchingConfig>;
  /** True for placeholder models with random weights. */
  untrained?: boolean;
  description?: string;
  /** Free-form: dataset, training steps, metrics, license... */
  provenance?: Record<string, unknown>;
}

const positiveInt = { type: 'integer', minimum: 1 };
const pair = { type: 'array', items: positiveInt, minItems: 2, maxItems: 2 };
const name = { type: 'string', minLength: 1 };

export const MANIFEST_SCHEMA = {
  type: 'object',
  required: ['name', 'version', 'file', 'classes', 'latent', 'class_input', 'image'],
  additionalProperties: false,
  properties: {
    // Model names appear in URL paths; keep them to a safe alphabet.
    name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' },
    version: { type: 'string', minLength: 1, maxLength: 64 },
    file: { type: 'string', pattern: '^[^/\\\\]+\\.onnx$' },
    classes: { type: 'array', minItems: 1, items: name },
    latent: {
      type: 'object',
      required: ['input', 'dim'],
      additionalProperties: false,
      properties: { input: name, dim: positiveInt },
    },
    class_input: name,
    image: {
      type: 'object',
      required: ['output', 'size', 'range'],
      additionalProperties: false,
      properties: {
        output: name,
        size: positiveInt,
        range: { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2 },
      },
    },
    attention: {
      type: 'object',
      required: ['output', 'grid', 'key_grid'],
      additionalProperties: false,
      properties: { output: name, grid: pair, key_grid: pair },
    },
    batching: { type: 'object', additionalProperties: false, properties: BATCHING_SCHEMA_PROPERTIES },
    untrained: { type: 'boolean' },
    description: { type: 'string' },
    provenance: { type: 'object' },
  },
} as const;

const ajv = new Ajv({ allErrors: true });
// A type guard: what passes the schema is a ModelManifest (the schema is written from that interface).
const validateManifest = ajv.compile<ModelManifest>(MANIFEST_SCHEMA);

export class ManifestError extends Error {
  override name = 'ManifestError';

  /** `file`: the manifest file the problem is in, when one was read (readModelManifest). */
  constructor(
    message: string,
    readonly file?: string,
  ) {
    super(message);
  }
}

/** Validates parsed JSON as a manifest; throws ManifestError naming each field and what was found. */
export function parseManifest(json: unknown): ModelManifest {
  if (!validateManifest(json)) {
    const problems = (validateManifest.errors ?? []).map((e) => {
      const where = `manifest${e.instancePath.replaceAll('/', '.')}`;
      const extra = e.params && 'additionalProperty' in e.params ? ` '${String(e.params.additionalProperty)}'` : '';
      return `${where} ${e.message}${extra}`;
    });
    throw new ManifestError(problems.join('; '));
  }
  const manifest = json;
  const [lo, hi] = manifest.image.range;
  if (!(hi > lo))
    throw new ManifestError(`manifest.image.range must be [low, high] with high > low, found [${lo}, ${hi}]`);
  const lower = manifest.classes.map((c) => c.toLowerCase());
  const dup = lower.find((c, i) => lower.indexOf(c) !== i);
  if (dup) throw new ManifestError(`manifest.classes has '${dup}' twice`);
  const { maxBatchSize, maxQueueSize } = manifest.batching ?? {};
  if (maxBatchSize !== undefined && maxQueueSize !== undefined) {
    // Checked again by the server over its defaults, when only one of the two is set here.
    const impossible = impossibleBatching(
      { maxBatchSize, maxQueueSize },
      { maxBatchSize: 'manifest.batching.maxBatchSize', maxQueueSize: 'manifest.batching.maxQueueSize' },
    );
    if (impossible) throw new ManifestError(impossible);
  }
  return manifest;
}

function checkValue(
  kind: 'input' | 'output',
  field: string,
  values: readonly GraphValueInfo[],
  name: string,
  type: string,
  shape: ReadonlyArray<number | null>,
): string[] {
  const found = values.find((v) => v.name === name);
  if (!found)
    return [
      `${field} names ${kind} '${name}', but the graph's ${kind}s are ${values.map((v) => `'${v.name}'`).join(', ')}`,
    ];
  const problems: string[] = [];
  if (found.type !== undefined && found.type !== type)
    problems.push(`${field}: graph ${kind} '${name}' is ${found.type}, expected ${type}`);
  if (found.shape !== undefined) {
    if (found.shape.length !== shape.length) {
      problems.push(
        `${field}: graph ${kind} '${name}' has rank ${found.shape.length} [${found.shape.join(', ')}], expected rank ${shape.length} [${shape.map((d) => d ?? 'batch').join(', ')}]`,
      );
    } else {
      shape.forEach((want, axis) => {
        const have = found.shape![axis];
        if (want !== null && typeof have === 'number' && have >= 0 && have !== want) {
          problems.push(`${field}: graph ${kind} '${name}' has ${have} at axis ${axis}, manifest implies ${want}`);
        }
      });
    }
  }
  return problems;
}

/**
 * Checks names, element types, ranks and static dims of the graph against the manifest. Symbolic dims
 * are accepted here and checked on the warm-up run's real output. Returns problems (empty = fine).
 */
export function checkGraph(
  m: ModelManifest,
  inputs: readonly GraphValueInfo[],
  outputs: readonly GraphValueInfo[],
): string[] {
  const problems = [
    ...checkValue('input', 'latent.input', inputs, m.latent.input, 'float32', [null, m.latent.dim]),
    ...checkValue('input', 'class_input', inputs, m.class_input, 'int64', [null]),
  ];
  for (const { role, name: outputName, dims } of expectedOutputShapes(m)) {
    problems.push(...checkValue('output', `${role}.output`, outputs, outputName, 'float32', [null, ...dims]));
  }
  const extraInputs = inputs.filter((i) => i.name !== m.latent.input && i.name !== m.class_input);
  if (extraInputs.length > 0)
    problems.push(`graph has inputs the manifest does not feed: ${extraInputs.map((i) => `'${i.name}'`).join(', ')}`);
  return problems;
}

/** Checks the dims a warm-up run actually produced for `batch` rows. */
export function checkWarmupDims(m: ModelManifest, batch: number, dims: Record<string, readonly number[]>): string[] {
  const problems: string[] = [];
  for (const { name: outputName, dims: want } of expectedOutputShapes(m)) {
    const have = dims[outputName];
    const expected = [batch, ...want];
    if (!have || have.join(',') !== expected.join(',')) {
      problems.push(
        `warm-up output '${outputName}' has dims [${have?.join(', ') ?? 'none'}], manifest implies [${expected.join(', ')}]`,
      );
    }
  }
  return problems;
}
