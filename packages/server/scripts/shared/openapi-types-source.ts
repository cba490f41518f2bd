/**
 * The text of src/http/openapi-types.ts for a given openapi.yaml: openapi-typescript's types of every path,
 * operation and component, then `requestDefaults`, the top-level request fields the validators fill from
 * the document's defaults (openapi-typescript types a request as a client sends it, where those are
 * optional; a route's handler sees them filled). A schema that contains itself (V2TensorData, nested
 * tensor data) becomes a type alias of its own that \`components\` refers to: as a property of
 * \`components\` that names itself, TypeScript refuses it as circular. scripts/generate-openapi-types.ts writes it;
 * test/http/openapi-types.test.ts compares it with the committed file.
 */
import path from 'node:path';
import openapiTS, {
  astToString,
  type SchemaObject,
  type TransformNodeOptions,
  transformSchemaObject,
} from 'openapi-typescript';
import ts from 'typescript';
import {
  bodyProperties,
  jsonBodySchema,
  operationIds,
  type OpenApiDocument,
  parseOpenApi,
  queryParameters,
  querySchemas,
  topLevelDefaults,
} from '../../src/http/openapi-document.js';
import { PACKAGE_ROOT } from '../../src/paths.js';

export const OPENAPI_TYPES_PATH = path.join(PACKAGE_ROOT, 'src', 'http', 'openapi-types.ts');

export const REGENERATE_COMMAND = 'npm run generate:openapi-types -w packages/server';

const HEADER = `/**
 * Generated from openapi.yaml by scripts/generate-openapi-types.ts (openapi-typescript, then
 * \`requestDefaults\` at the end); do not edit. Regenerate with \`${REGENERATE_COMMAND}\`.
 * test/http/openapi-types.test.ts fails while this file differs from what openapi.yaml gives.
 */
`;

const fieldUnion = (defaults: Array<[string, unknown]>) =>
  defaults.length === 0 ? 'never' : defaults.map(([name]) => JSON.stringify(name)).join(' | ');

function requestDefaultsSource(doc: OpenApiDocument): string {
  const operations = operationIds(doc).flatMap((operationId) => {
    const fields: string[] = [];
    const parameters = queryParameters(doc, operationId);
    if (parameters.length > 0)
      fields.push(`        query: ${fieldUnion(topLevelDefaults(doc, querySchemas(parameters)))};`);
    const body = jsonBodySchema(doc, operationId);
    if (body) fields.push(`        body: ${fieldUnion(topLevelDefaults(doc, bodyProperties(doc, body)))};`);
    return fields.length > 0 ? [`    ${operationId}: {\n${fields.join('\n')}\n    };`] : [];
  });
  return [
    '/**',
    ' * For each operation with query parameters or a JSON body, the top-level fields with a default in the',
    ' * document: the validators fill them in, so they are present in every validated request.',
    ' */',
    'export interface requestDefaults {',
    ...operations,
    '}',
    '',
  ].join('\n');
}

/** Component schemas whose own text refers to them: name by `#/components/schemas/<name>` path. */
function selfReferencingSchemas(doc: OpenApiDocument): Map<string, string> {
  const schemas = doc.components.schemas ?? {};
  return new Map(
    Object.entries(schemas)
      .filter(([name, schema]) => JSON.stringify(schema).includes(`"#/components/schemas/${name}"`))
      .map(([name]) => [`#/components/schemas/${name}`, name]),
  );
}

export async function openApiTypesSource(openApiText: string): Promise<string> {
  const doc = parseOpenApi(openApiText);
  const selfReferencing = selfReferencingSchemas(doc);
  const aliases = new Map<string, ts.TypeAliasDeclaration>();
  const transform = (schema: SchemaObject, options: TransformNodeOptions): ts.TypeNode | undefined => {
    const name = options.path === undefined ? undefined : selfReferencing.get(options.path);
    if (name === undefined) return undefined;
    if (!aliases.has(name)) {
      // The alias's own type is openapi-typescript's, where the schema's references to itself resolve back to the alias.
      const type = transformSchemaObject(schema, { ...options, ctx: { ...options.ctx, transform: undefined } });
      aliases.set(
        name,
        ts.factory.createTypeAliasDeclaration(
          [ts.factory.createModifier(ts.SyntaxKind.ExportKeyword)],
          name,
          undefined,
          type,
        ),
      );
    }
    return ts.factory.createTypeReferenceNode(name);
  };
  // emptyObjectsUnknown: a schema `{ type: object }` (an infer request's `parameters`) takes any object.
  const nodes = await openapiTS(openApiText, { emptyObjectsUnknown: true, silent: true, transform });
  return `${HEADER}\n${astToString([...nodes, ...aliases.values()])}\n${requestDefaultsSource(doc)}`;
}
