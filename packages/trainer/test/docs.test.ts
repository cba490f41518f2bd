/** The trainer's README (its training guide) documents every command-line option of the trainer's scripts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The trainer package's root, from its compiled tests (dist/test/). */
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const scripts = ['train', 'export', 'eval', 'bench-train', 'check-backend', 'compare-pytorch'];

test("every option of the trainer scripts is in the trainer's README", () => {
  const doc = readFileSync(`${PACKAGE_ROOT}README.md`, 'utf8');
  for (const name of scripts) {
    const source = readFileSync(`${PACKAGE_ROOT}src/${name}.ts`, 'utf8');
    const options = [...source.matchAll(/(?:\.option|\.requiredOption|new Option)\('(--[a-z0-9-]+)/g)].map((m) => m[1]);
    assert.ok(options.length > 3, `${name}: options found`);
    for (const opt of options) assert.ok(doc.includes(`\`${opt}\``), `${name} ${opt} is not documented`);
  }
});
