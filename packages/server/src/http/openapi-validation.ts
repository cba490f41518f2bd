/**
 * Request validators compiled from openapi.yaml, the one source of truth for the HTTP contract.
 * Query strings are coerced (numbers from strings, repeated parameters into arrays); JSON bodies are not.
 * A failure becomes INVALID_ARGUMENT naming the field and what it accepts.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { type ServeError, serveError } from '../errors.js';
import {
  bodyProperties,
  jsonBodySchema,
  loadOpenApiText,
  type OpenApiDocument,
  parseOpenApi,
  queryParameters,
  querySchemas,
  schemaAt,
  topLevelDefaults,
} from './openapi-document.js';
import type { BodyOf, BodyOperation, QueryOf, QueryOperation } from './operation-input.js';

const DOC_ID = 'openapi';

/** Points a document-relative `#/...` reference at the registered document. */
function absoluteRefs<T>(schema: T): T {
  return JSON.parse(JSON.stringify(schema).replaceAll('"$ref":"#/', `"$ref":"${DOC_ID}#/`)) as T;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

/** Human-readable "what is allowed" for one ajv error, using the failing schema. */
function allowedFor(doc: OpenApiDocument, error: ErrorObject): string | Array<string | number> | undefined {
  if (error.keyword === 'enum') return (error.params as { allowedValues: Array<string | number> }).allowedValues;
  if (error.keyword === 'additionalProperties') return undefined;
  const schema = error.parentSchema ? schemaAt(doc, error.parentSchema) : undefined;
  if (!schema) return undefined;
  if (Array.isArray(schema.enum)) return schema.enum as string[];
  // OpenAPI 3.1 bounds are numbers (3.0's boolean exclusive flags are not used in this document).
  const number = (v: unknown) => (typeof v === 'number' ? v : undefined);
  const [exclusiveMin, exclusiveMax] = [number(schema.exclusiveMinimum), number(schema.exclusiveMaximum)];
  const min = number(schema.minimum) ?? exclusiveMin;
  const max = number(schema.maximum) ?? exclusiveMax;
  if (min !== undefined || max !== undefined) {
    const lo = exclusiveMin !== undefined ? `> ${exclusiveMin}` : `>= ${min}`;
    const hi = exclusiveMax !== undefined ? `< ${exclusiveMax}` : `<= ${max}`;
    const type = schema.type === 'integer' ? 'an integer' : 'a number';
    return `${type} ${[min !== undefined ? lo : '', max !== undefined ? hi : ''].filter(Boolean).join(' and ')}`;
  }
  if (typeof schema.pattern === 'string') return `a string matching ${schema.pattern}`;
  if (schema.type !== undefined) return `type ${JSON.stringify(schema.type)}`;
  return undefined;
}

/** Checks a request's query or body, returning it typed (defaults filled) or throwing INVALID_ARGUMENT. */
export type Validator<T> = (value: unknown) => T;

export class OpenApiValidators {
  private readonly doc: OpenApiDocument;
  private readonly queryAjv: Ajv;
  private readonly bodyAjv: Ajv;

  constructor(text: string = loadOpenApiText()) {
    this.doc = parseOpenApi(text);
    // strict: false because OpenAPI parameter objects carry keywords (in, style, explode) ajv does not know.
    const common = { allErrors: false, strict: false, useDefaults: true, verbose: true } as const;
    this.queryAjv = new Ajv({ ...common, coerceTypes: 'array' });
    this.bodyAjv = new Ajv({ ...common, coerceTypes: false });
    for (const ajv of [this.queryAjv, this.bodyAjv]) ajv.addSchema({ $id: DOC_ID, components: this.doc.components });
  }

  /** Validates (and coerces, fills defaults into) a query object for the operation. */
  query<Op extends QueryOperation>(operationId: Op): Validator<QueryOf<Op>> {
    const params = queryParameters(this.doc, operationId);
    const schema = absoluteRefs({
      type: 'object',
      additionalProperties: false,
      required: params.filter((p) => p.required).map((p) => p.name),
      properties: querySchemas(params),
    });
    const defaults = topLevelDefaults(this.doc, querySchemas(params));
    return this.wrap(
      this.queryAjv.compile<QueryOf<Op>>(schema),
      params.map((p) => p.name),
      '',
      defaults,
    );
  }

  /** Validates (and fills defaults into) a JSON body for the operation. */
  body<Op extends BodyOperation>(operationId: Op): Validator<BodyOf<Op>> {
    const schema = jsonBodySchema(this.doc, operationId);
    if (!schema) throw new Error(`openapi.yaml: operation '${operationId}' has no JSON body`);
    const properties = bodyProperties(this.doc, schema);
    return this.wrap(
      this.bodyAjv.compile<BodyOf<Op>>(absoluteRefs(schema)),
      Object.keys(properties),
      'body.',
      topLevelDefaults(this.doc, properties),
    );
  }

  /**
   * The typed validator. ajv's compile<T> is where the value becomes T: the schema it compiles is the one
   * openapi-types.ts is generated from (and test/http/openapi-types.test.ts keeps the two the same).
   */
  private wrap<T>(
    validate: ValidateFunction<T>,
    known: string[],
    prefix: string,
    defaults: Array<[string, unknown]>,
  ): Validator<T> {
    return (value: unknown): T => {
      if (!validate(value)) throw this.toServeError(this.mostSpecific(validate.errors ?? []), known, prefix);
      if (isRecord(value)) {
        const fields: Record<string, unknown> = value;
        for (const [name, fallback] of defaults) if (fields[name] === undefined) fields[name] = fallback;
      }
      return value;
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
    // A `false` schema: a field the document forbids beside others (a v2 input's `data` beside its
    // `parameters.binary_data_size`).
    if (error.keyword === 'false schema')
      return serveError.INVALID_ARGUMENT(field, `'${field}' is not allowed together with the fields given beside it`);
    const allowed = allowedFor(this.doc, error);
    const shown =
      typeof error.data === 'string' ? `'${error.data.slice(0, 64)}'` : JSON.stringify(error.data)?.slice(0, 64);
    return serveError.INVALID_ARGUMENT(
      field,
      `'${field}' ${error.message ?? 'is invalid'}${shown !== undefined ? ` (got ${shown})` : ''}`,
      allowed,
    );
  }
}
