// Lint: the correctness rules that need types (promises nobody awaits, promises where a callback
// returns void, unused code). Formatting is Prettier's; the layering is dependency-cruiser's.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'release/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      // `any` is kept for JSON of unknown shape in tests and at the Pulumi boundary.
      '@typescript-eslint/no-explicit-any': 'off',
      // The input guards and the CLI's output cleaning match control characters on purpose.
      'no-control-regex': 'off',
    },
  },
  {
    // Dynamic providers are serialized into the plugin's process: what they use they require there.
    files: ['test/blueprints/local-files.ts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } } },
  { files: ['**/*.{js,mjs}'], languageOptions: { globals: { console: 'readonly', process: 'readonly' } } },
);
