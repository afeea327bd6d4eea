import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'node_modules/**', 'runs/**', 'docs/api/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', require: 'readonly', module: 'writable', __dirname: 'readonly' } },
  },
  {
    // The exported web page's scripts run in the browser.
    files: ['src/deploy/web/**/*.js'],
    languageOptions: {
      globals: Object.fromEntries(
        ['document', 'navigator', 'self', 'location', 'fetch', 'Response', 'DecompressionStream', 'URL', 'OffscreenCanvas', 'createImageBitmap', 'requestAnimationFrame', 'console'].map((g) => [g, 'readonly']),
      ),
    },
  },
);
