// Lint rules: eslint's and typescript-eslint's recommended sets (syntax-only, so lint stays fast),
// plus the import boundaries of docs/architecture.md, which TypeScript project references also enforce.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const boundary = (forbidden) => ({
  'no-restricted-imports': ['error', { patterns: forbidden.map((dir) => ({ group: [`**/${dir}/**`], message: `see docs/architecture.md: this component must not import ${dir}/` })) }],
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', 'helm/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', URL: 'readonly', AbortController: 'readonly', TextDecoder: 'readonly', TextEncoder: 'readonly', fetch: 'readonly', performance: 'readonly', queueMicrotask: 'readonly', structuredClone: 'readonly', AbortSignal: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  { files: ['job-runner/**/*.ts'], rules: boundary(['operator', 'devcluster', 'cli', 'generator']) },
  { files: ['devcluster/**/*.ts'], rules: boundary(['operator', 'job-runner', 'cli', 'generator']) },
  { files: ['operator/**/*.ts'], rules: boundary(['devcluster', 'cli', 'generator']) },
  { files: ['generator/**/*.ts'], rules: boundary(['operator', 'devcluster', 'cli']) },
);
