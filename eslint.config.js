import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'sandbox/', '.sandbox/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // The runbook, queue and store know nothing of Slack: only src/bot and src/handlers may import it.
    files: ['src/**/*.ts'],
    ignores: ['src/bot/**', 'src/handlers/**', 'src/cli.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['@slack/*'], message: 'Slack stays at the edge (src/bot, src/handlers).' }, { group: ['**/bot/*', '**/handlers/*'], message: 'The core must not depend on the Slack edge.' }] }],
    },
  },
);
