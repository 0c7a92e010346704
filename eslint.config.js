// ESLint: the recommended rules of ESLint and typescript-eslint, a few type-aware rules that catch
// lost promises, and a handful of style rules the code already follows. Formatting is Prettier's:
// eslint-config-prettier, last, turns off every rule that would disagree with it.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'node_modules/', '.viaduct/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: globals.node,
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // More than six parameters: pass an options object instead.
      'max-params': ['error', 6],
      // Servers log through pino; only the CLI, scripts, benchmarks and tests print (see below).
      'no-console': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-throw-literal': 'error',
      'object-shorthand': 'error',
      'prefer-template': 'error',
      'no-useless-rename': 'error',
      'no-useless-concat': 'error',
      'no-else-return': ['error', { allowElseIf: true }],
      'no-lonely-if': 'error',
      'no-param-reassign': 'error',
      'no-return-assign': 'error',
      'no-implicit-coercion': 'error',
      // A variable that a callback reads before its one assignment cannot be const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      'prefer-arrow-callback': 'error',
    },
  },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // The TypeScript version does not count a `this` parameter.
      'max-params': 'off',
      '@typescript-eslint/max-params': ['error', { max: 6 }],
      // `typeof import('driver')` types the drivers that are required lazily; imports used only as types say so.
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
      // Type-aware: a promise is awaited, returned, or marked `void` on purpose. node:test's
      // test() and describe() are awaited by the runner itself.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'],
            },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    files: ['src/cli/**', 'bin/**', 'scripts/**', 'bench/**', 'test/**'],
    rules: { 'no-console': 'off' },
  },
  prettier,
);
