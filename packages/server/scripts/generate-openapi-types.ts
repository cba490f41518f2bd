/**
 * Writes src/http/openapi-types.ts, the request and response types of openapi.yaml, after the document
 * changes:
 *
 *   npm run generate:openapi-types -w packages/server
 *
 * test/http/openapi-types.test.ts fails until the committed file matches the document again.
 */
import { writeFile } from 'node:fs/promises';
import { loadOpenApiText } from '../src/http/openapi-document.js';
import { OPENAPI_TYPES_PATH, openApiTypesSource } from './shared/openapi-types-source.js';

await writeFile(OPENAPI_TYPES_PATH, await openApiTypesSource(loadOpenApiText()));
console.log(`wrote ${OPENAPI_TYPES_PATH}`);
