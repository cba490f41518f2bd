/**
 * Request validators compiled from openapi.yaml, the one source of truth for the HTTP contract.
 * Query strings are coerced (numbers from strings, repeated parameters into arrays); JSON bodies are not.
 * A failure becomes INVALID_ARGUMENT naming the field and what it accepts.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { ServeError, serveError } from '../errors.js';
import { OPENAPI_PATH } from '../paths.js';

interface OpenApiParameter { name: string; in: string; required?: boolean; schema: Record<string, unknown> }
interface OpenApiOperation {
  operationId: string;
  parameters?: Array<OpenApiParameter | { $ref: string }>;
  requestBody?: { $ref?: string; content?: Record<string, { schema: Record<string, unknown> }> };
}
interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: Record<string, Record<string, unknown>>;
}

const DOC_ID = 'openapi';

export function loadOpenApiText(): string {
  return readFileSync(OPENAPI_PATH, 'utf8');
}

/** Points a document-relative `#/...` reference at the registered document. */
function absoluteRefs<T>(schema: T): T {
  return JSON.parse(JSON.stringify(schema).replaceAll('"$ref":"#/', `"$ref":"${DOC_ID}#/`)) as T;
}

function resolve<T>(doc: OpenApiDocument, ref: string): T {
  const parts = ref.replace(/^#\//, '').split('/');
  let node: unknown = doc;
  for (const part of parts) node = (node as Record<string, unknown>)[part];
  if (node === undefined) throw new Error(`openapi.yaml: unresolved reference ${ref}`);
  return node as T;
}

function schemaAt(doc: OpenApiDocument, schema: Record<string, unknown>): Record<string, unknown> {
  return typeof schema.$ref === 'string' ? schemaAt(doc, resolve(doc, schema.$ref)) : schema;
}

/** Human-readable "what is allowed" for one ajv error, using the failing schema. */
function allowedFor(doc: OpenApiDocument, error: ErrorObject): string | Array<string | number> | undefined {
  if (error.keyword === 'enum') return (error.params as { allowedValues: Array<string | number> }).allowedValues;
  if (error.keyword === 'additionalProperties') return undefined;
  const schema = error.parentSchema ? schemaAt(doc, error.parentSchema as Record<string, unknown>) : undefined;
  if (!schema) return undefined;
  if (Array.isArray(schema.enum)) return schema.enum as string[];
  const min = schema.minimum ?? schema.exclusiveMinimum;
  const max = schema.maximum ?? schema.exclusiveMaximum;
  if (min !== undefined || max !== undefined) {
    const lo = schema.exclusiveMinimum !== undefined ? `> ${String(schema.exclusiveMinimum)}` : `>= ${String(min)}`;
    const hi = schema.exclusiveMaximum !== undefined ? `< ${String(schema.exclusiveMaximum)}` : `<= ${String(max)}`;
    const type = schema.type === 'integer' ? 'an integer' : 'a number';
    return `${type} ${[min !== undefined ? lo : '', max !== undefined ? hi : ''].filter(Boolean).join(' and ')}`;
  }
  if (typeof schema.pattern === 'string') return `a string matching ${schema.pattern}`;
  if (schema.type !== undefined) return `type ${JSON.stringify(schema.type)}`;
  return undefined;
}

export type Validator = (value: unknown) => void;

export class OpenApiValidators {
  private readonly doc: OpenApiDocument;
  private readonly queryAjv: Ajv;
  private readonly bodyAjv: Ajv;
  private readonly cache = new Map<string, Validator>();

  constructor(text: string = loadOpenApiText()) {
    this.doc = parseYaml(text) as OpenApiDocument;
    // strict: false because OpenAPI parameter objects carry keywords (in, style, explode) ajv does not know.
    const common = { allErrors: false, strict: false, useDefaults: true, verbose: true } as const;
    this.queryAjv = new Ajv({ ...common, coerceTypes: 'array' });
    this.bodyAjv = new Ajv({ ...common, coerceTypes: false });
    for (const ajv of [this.queryAjv, this.bodyAjv]) ajv.addSchema({ $id: DOC_ID, components: this.doc.components });
  }

  private operation(operationId: string): OpenApiOperation {
    for (const methods of Object.values(this.doc.paths)) {
      for (const op of Object.values(methods)) if (op.operationId === operationId) return op;
    }
    throw new Error(`openapi.yaml has no operation '${operationId}'`);
  }

  /** Validates (and coerces, fills defaults into) a query object for the operation. */
  query(operationId: string): Validator {
    const key = `query:${operationId}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const params = (this.operation(operationId).parameters ?? [])
      .map((p) => ('$ref' in p ? resolve<OpenApiParameter>(this.doc, p.$ref) : p))
      .filter((p) => p.in === 'query');
    const schema = absoluteRefs({
      type: 'object',
      additionalProperties: false,
      required: params.filter((p) => p.required).map((p) => p.name),
      properties: Object.fromEntries(params.map((p) => [p.name, p.schema])),
    });
    const defaults = this.defaults(Object.fromEntries(params.map((p) => [p.name, p.schema])));
    const validator = this.wrap(this.queryAjv.compile(schema), params.map((p) => p.name), '', defaults);
    this.cache.set(key, validator);
    return validator;
  }

  /** Validates (and fills defaults into) a JSON body for the operation. */
  body(operationId: string): Validator {
    const key = `body:${operationId}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    let body = this.operation(operationId).requestBody;
    if (body?.$ref) body = resolve(this.doc, body.$ref);
    const schema = body?.content?.['application/json']?.schema;
    if (!schema) throw new Error(`openapi.yaml: operation '${operationId}' has no JSON body`);
    const properties = schemaAt(this.doc, schema).properties as Record<string, Record<string, unknown>>;
    const validator = this.wrap(this.bodyAjv.compile(absoluteRefs(schema)), Object.keys(properties), 'body.', this.defaults(properties));
    this.cache.set(key, validator);
    return validator;
  }

  /** Top-level defaults, read through $refs (ajv's useDefaults does not look behind a $ref). */
  private defaults(properties: Record<string, Record<string, unknown>>): Array<[string, unknown]> {
    return Object.entries(properties)
      .map(([name, schema]): [string, unknown] => [name, schemaAt(this.doc, schema).default])
      .filter(([, value]) => value !== undefined);
  }

  private wrap(validate: ValidateFunction, known: string[], prefix: string, defaults: Array<[string, unknown]>): Validator {
    return (value: unknown) => {
      if (validate(value)) {
        const target = value as Record<string, unknown>;
        for (const [name, fallback] of defaults) if (target[name] === undefined) target[name] = fallback;
        return;
      }
      const error = this.mostSpecific(validate.errors ?? []);
      throw this.toServeError(error, known, prefix);
    };
  }

  /** anyOf/oneOf report every branch; the deepest path names the field best. */
  private mostSpecific(errors: ErrorObject[]): ErrorObject {
    const candidates = errors.filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'oneOf');
    const pool = candidates.length > 0 ? candidates : errors;
    return pool.reduce((best, e) => (e.instancePath.length > best.instancePath.length ? e : best), pool[0]);
  }

  private toServeError(error: ErrorObject | undefined, known: string[], prefix: string): ServeError {
    if (!error) return serveError.INVALID_ARGUMENT(undefined, 'invalid request');
    const path = error.instancePath.split('/').filter(Boolean);
    if (error.keyword === 'required') {
      const field = `${prefix}${[...path, (error.params as { missingProperty: string }).missingProperty].join('.')}`;
      return serveError.INVALID_ARGUMENT(field, `'${field}' is required`);
    }
    if (error.keyword === 'additionalProperties') {
      const extra = (error.params as { additionalProperty: string }).additionalProperty;
      const field = `${prefix}${[...path, extra].join('.')}`;
      return serveError.INVALID_ARGUMENT(field, `unknown parameter '${field}'`, path.length === 0 ? known : undefined);
    }
    const field = `${prefix}${path.join('.')}` || prefix.replace(/\.$/, '') || 'request';
    const allowed = allowedFor(this.doc, error);
    const shown = typeof error.data === 'string' ? `'${error.data.slice(0, 64)}'` : JSON.stringify(error.data)?.slice(0, 64);
    return serveError.INVALID_ARGUMENT(field, `'${field}' ${error.message ?? 'is invalid'}${shown !== undefined ? ` (got ${shown})` : ''}`, allowed);
  }
}
