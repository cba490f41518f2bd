import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closestClassNames } from '@sagan-serve/model-contract/class-names';
import { resolveClass } from '../../src/models/resolve-class.js';
import { ServeError } from '../../src/errors.js';

test('classes resolve by index or loose name; unknown names suggest the closest', () => {
  const classes = ['maltese_dog', 'golden_retriever', 'german_shepherd', 'saint_bernard'];
  assert.deepEqual(resolveClass(classes, 'Saint Bernard'), { index: 3, name: 'saint_bernard' });
  assert.deepEqual(resolveClass(classes, 'GERMAN-SHEPHERD'), { index: 2, name: 'german_shepherd' });
  assert.deepEqual(resolveClass(classes, '1'), { index: 1, name: 'golden_retriever' });
  assert.deepEqual(resolveClass(classes, 0), { index: 0, name: 'maltese_dog' });
  assert.equal(closestClassNames(classes, 'bernard')[0], 'saint_bernard');
  assert.equal(closestClassNames(classes, 'golden retreiver')[0], 'golden_retriever');
  assert.throws(
    () => resolveClass(classes, 'poodle'),
    (err: unknown) =>
      err instanceof ServeError &&
      err.code === 'UNKNOWN_CLASS' &&
      Array.isArray(err.details.allowed) &&
      [...err.details.allowed].sort().join() === [...classes].sort().join(),
  );
  const many = Array.from({ length: 1000 }, (_, i) => `class_${i}`);
  assert.throws(
    () => resolveClass(many, 'class_12x'),
    (err: unknown) =>
      err instanceof ServeError &&
      err.code === 'UNKNOWN_CLASS' &&
      Array.isArray(err.details.allowed) &&
      err.details.allowed.length === 3 &&
      err.details.allowed.includes('class_12'),
  );
  assert.throws(
    () => resolveClass(classes, '4'),
    (err: unknown) => err instanceof ServeError && err.code === 'UNKNOWN_CLASS',
  );
});
