import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/*
 * The layer graph (ARCHITECTURE.md): pure libs compute and import no framework and no I/O;
 * libs never import apps; only libs/config reads the environment.
 */
const PURE_LIBS = ['common', 'domain', 'genome', 'search-space', 'strategies', 'report'];
const IO_LIBS = ['artifacts', 'config', 'latency', 'model-onnx', 'model-tfjs', 'orchestrator', 'persistence', 'training'];
const IO_MODULES = [
  'fs',
  'fs/promises',
  'child_process',
  'net',
  'http',
  'https',
  'os',
  'worker_threads',
  'cluster',
  'dgram',
].flatMap((m) => [m, `node:${m}`]);
const APPS = { group: ['**/apps/**'], message: 'libs never import apps: move the shared code into a lib' };

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      'test/artifacts/**',
      'apps/api/public/vendor/**',
      '.detsearch/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'warn',
    },
  },
  {
    files: PURE_LIBS.map((l) => `libs/${l}/src/**/*.ts`),
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...IO_MODULES.map((name) => ({
              name,
              message: 'pure libs do no I/O: take data or options instead',
            })),
            ...[
              'pg',
              'pg-boss',
              '@electric-sql/pglite',
              'onnxruntime-node',
              'express',
              'commander',
              'pino',
            ].map((name) => ({ name, message: 'pure libs import no framework or I/O library' })),
          ],
          patterns: [
            { group: ['@nestjs/*', '@tensorflow/*', '@aws-sdk/*'], message: 'pure libs import no framework' },
            {
              group: IO_LIBS.map((l) => `@detsearch/${l}`),
              message: 'pure libs depend only on other pure libs',
            },
            APPS,
          ],
        },
      ],
    },
  },
  {
    files: ['libs/**/*.ts'],
    ignores: [...PURE_LIBS.map((l) => `libs/${l}/src/**/*.ts`), '**/*.spec.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [APPS] }] },
  },
  {
    files: ['libs/**/*.ts', 'apps/**/*.ts'],
    ignores: ['libs/config/**', '**/*.spec.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'read settings through libs/config (loadConfig) and pass them as options',
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: { globals: { ...globals.node } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // the dashboard: browser scripts, Chart.js loaded as a global
    files: ['apps/api/public/**/*.js'],
    languageOptions: { sourceType: 'module', globals: { ...globals.browser, Chart: 'readonly' } },
  },
);
