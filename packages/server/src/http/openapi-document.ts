/**
 * openapi.yaml as the request validators (openapi-validation.ts) and the type generator
 * (scripts/generate-openapi-types.ts) read it: an operation's query parameters, its JSON body schema, and
 * the top-level defaults the validators fill in. Both read them here, so the fields the generated types
 * declare present after validation are the ones the validators fill.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { OPENAPI_PATH } from '../paths.js';

export type SchemaNode = Record<string, unknown>;

export interface OpenApiParameter {
  name: string;
  in: string;
  required?: boolean;
  schema: SchemaNode;
}
interface OpenApiOperation {
  operationId: string;
  parameters?: Array<OpenApiParameter | { $ref: string }>;
  requestBody?: { $ref?: string; content?: Record<string, { schema: SchemaNode }> };
}
export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: Record<string, Record<string, unknown>>;
}

export function loadOpenApiText(): string {
  return readFileSync(OPENAPI_PATH, 'utf8');
}

export function parseOpenApi(text: string): OpenApiDocument {
  return parseYaml(text) as OpenApiDocument;
}

function resolve<T>(doc: OpenApiDocument, ref: string): T {
  const parts = ref.replace(/^#\//, '').split('/');
  let node: unknown = doc;
  for (const part of parts) node = (node as Record<string, unknown>)[part];
  if (node === undefined) throw new Error(`openapi.yaml: unresolved reference ${ref}`);
  return node as T;
}

/** The schema itself, or what its `$ref` points at. */
export function schemaAt(doc: OpenApiDocument, schema: SchemaNode): SchemaNode {
  return typeof schema.$ref === 'string' ? schemaAt(doc, resolve(doc, schema.$ref)) : schema;
}

/** Every operation's id, in document order. */
export function operationIds(doc: OpenApiDocument): string[] {
  return Object.values(doc.paths).flatMap((methods) =>
    Object.values(methods).flatMap((op) => (typeof op.operationId === 'string' ? [op.operationId] : [])),
  );
}

function operation(doc: OpenApiDocument, operationId: string): OpenApiOperation {
  for (const methods of Object.values(doc.paths)) {
    for (const op of Object.values(methods)) if (op.operationId === operationId) return op;
  }
  throw new Error(`openapi.yaml has no operation '${operationId}'`);
}

/** The operation's query parameters, `$ref`s resolved. */
export function queryParameters(doc: OpenApiDocument, operationId: string): OpenApiParameter[] {
  return (operation(doc, operationId).parameters ?? [])
    .map((p) => ('$ref' in p ? resolve<OpenApiParameter>(doc, p.$ref) : p))
    .filter((p) => p.in === 'query');
}

/** The schema of the operation's `application/json` request body, or undefined when it takes none. */
export function jsonBodySchema(doc: OpenApiDocument, operationId: string): SchemaNode | undefined {
  let body = operation(doc, operationId).requestBody;
  if (body?.$ref) body = resolve(doc, body.$ref);
  return body?.content?.['application/json']?.schema;
}

/** The properties of the body's top level (read through a `$ref`). */
export function bodyProperties(doc: OpenApiDocument, bodySchema: SchemaNode): Record<string, SchemaNode> {
  return schemaAt(doc, bodySchema).properties as Record<string, SchemaNode>;
}

/** The query parameters' schemas by name. */
export function querySchemas(parameters: readonly OpenApiParameter[]): Record<string, SchemaNode> {
  return Object.fromEntries(parameters.map((p) => [p.name, p.schema]));
}

/**
 * Top-level defaults, read through `$ref`s: the validators fill these in (ajv's useDefaults does not look
 * behind a `$ref`), so these fields are present in every validated request.
 */
export function topLevelDefaults(
  doc: OpenApiDocument,
  properties: Record<string, SchemaNode>,
): Array<[string, unknown]> {
  return Object.entries(properties)
    .map(([name, schema]): [string, unknown] => [name, schemaAt(doc, schema).default])
    .filter(([, value]) => value !== undefined);
}
