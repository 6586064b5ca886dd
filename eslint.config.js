// ESLint flat config: typescript-eslint's recommended rules for the library (ts/) and the
// tests (test/), examples and the benchmark suite. Formatting is prettier's job (.prettierrc.json).
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

const nodeGlobals = {
  process: 'readonly',
  console: 'readonly',
  require: 'readonly',
  module: 'writable',
  __dirname: 'readonly',
  URL: 'readonly',
  Buffer: 'readonly',
};

export default defineConfig(
  { ignores: ['node_modules/', 'build/', 'build-*/', 'dist/', 'wasm/*.js', '.cache/'] },
  {
    files: ['ts/**/*.ts', 'test/**/*.ts', 'examples/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: ['test/**/*.cjs'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'commonjs', globals: nodeGlobals },
  },
);
