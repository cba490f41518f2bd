/**
 * src/http/openapi-types.ts is what openapi.yaml gives: regenerated in memory and compared with the
 * committed file token by token (layout, quote style and comment indentation aside, so that a formatter
 * run over the tree does not matter; every type, name and comment word does). A changed document gives
 * changed types, defaults included, so the comparison notices drift.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { loadOpenApiText } from '../../src/http/openapi-document.js';
import {
  OPENAPI_TYPES_PATH,
  openApiTypesSource,
  REGENERATE_COMMAND,
} from '../../scripts/shared/openapi-types-source.js';

const COMMENTS = new Set([ts.SyntaxKind.SingleLineCommentTrivia, ts.SyntaxKind.MultiLineCommentTrivia]);

/** The source's tokens: strings by value (a quoted and a bare property name alike), comments with their whitespace collapsed. */
function tokens(source: string): string[] {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, false, ts.LanguageVariant.Standard, source);
  const out: string[] = [];
  for (let kind = scanner.scan(); kind !== ts.SyntaxKind.EndOfFileToken; kind = scanner.scan()) {
    if (kind === ts.SyntaxKind.WhitespaceTrivia || kind === ts.SyntaxKind.NewLineTrivia) continue;
    if (COMMENTS.has(kind)) out.push(scanner.getTokenText().replace(/\s+/g, ' '));
    else if (kind === ts.SyntaxKind.StringLiteral) out.push(scanner.getTokenValue());
    else out.push(scanner.getTokenText());
  }
  return out;
}

/** Index of the first token where the two differ, -1 when they are the same. */
function firstDifference(a: string[], b: string[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return -1;
}

test('the committed openapi-types.ts is what openapi.yaml gives', async () => {
  const committed = tokens(readFileSync(OPENAPI_TYPES_PATH, 'utf8'));
  const generated = tokens(await openApiTypesSource(loadOpenApiText()));
  const at = firstDifference(committed, generated);
  assert.equal(
    at,
    -1,
    `src/http/openapi-types.ts differs from what openapi.yaml gives at token ${at} (${JSON.stringify(committed.slice(at - 5, at + 5))} committed, ${JSON.stringify(generated.slice(at - 5, at + 5))} generated); run \`${REGENERATE_COMMAND}\``,
  );
});

test('a change to the document (an enum value, a default) changes the generated types', async () => {
  const text = loadOpenApiText();
  const format = 'Format: { type: string, enum: [png, jpeg, webp], default: png }';
  const size = 'Size: { type: integer, minimum: 1, maximum: 8192 }';
  assert.ok(text.includes(format) && text.includes(size), 'the schemas this test edits are still written this way');
  const changed = text
    .replace(format, format.replace('webp]', 'webp, avif]'))
    .replace(size, size.replace(' }', ', default: 64 }'));
  const [before, after] = await Promise.all([openApiTypesSource(text), openApiTypesSource(changed)]);
  assert.notEqual(firstDifference(tokens(before), tokens(after)), -1);
  assert.match(before, /Format: "png" \| "jpeg" \| "webp";/);
  assert.match(after, /Format: "png" \| "jpeg" \| "webp" \| "avif";/);
  // The validators fill a default, so the field is listed as present after validation.
  assert.match(before, /generate: \{\n\s+query: "format" \| "n" \| "attention" \| "resample";/);
  assert.match(after, /generate: \{\n\s+query: "format" \| "size" \| "n" \| "attention" \| "resample";/);
});

test('a schema that contains itself is written as a type alias that components refers to', async () => {
  const generated = await openApiTypesSource(loadOpenApiText());
  assert.match(generated, /^\s+V2TensorData: V2TensorData;$/m);
  assert.match(generated, /^export type V2TensorData = \(number \| components\["schemas"\]\["V2TensorData"\]\)\[\];$/m);
});
