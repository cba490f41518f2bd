// Type-aware linting for the whole workspace (`npm run lint`, run by `npm test`). Formatting is
// Prettier's (`npm run format:check`), so no stylistic rules here.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/build/**', '**/node_modules/**', 'bench-results/**', 'packages/server/public/docs/**'],
  },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // The rules a server lives or dies by: a promise nobody awaits or catches is a lost error or an
      // unhandled rejection, and an async callback where a sync one is expected is a swallowed one.
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's test() and describe() return promises that the runner itself awaits.
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      // Shapes and lists in messages read well as "2,3,4"; objects would not.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowArray: true }],
      // tfjs ops take their result's rank as a type argument; naming the rank on the result
      // (`as tf.Tensor4D`) is how tfjs code reads, so those assertions stay.
      '@typescript-eslint/no-unnecessary-type-assertion': [
        'error',
        {
          typesToIgnore: [
            'tf.Tensor',
            'tf.Scalar',
            'tf.Tensor1D',
            'tf.Tensor2D',
            'tf.Tensor3D',
            'tf.Tensor4D',
            'tf.Tensor[]',
            'tf.Tensor3D[]',
          ],
        },
      ],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // Tests read supertest's untyped `res.body` and JSON fixtures on purpose: asserting on the shape is
    // the test, so the any-tracking rules would only add casts.
    files: ['**/test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    files: ['packages/server/public/**/*.js'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'module', globals: globals.browser },
  },
  {
    files: ['**/*.mjs'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'module', globals: globals.node },
  },
);
