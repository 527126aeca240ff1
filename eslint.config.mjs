// @ts-check
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      '.temporal/**',
      '.node/**',
      '.drover/**',
      '.scratch/**',
      'coverage/**',
      '**/*.js',
      '**/*.mjs',
    ],
  },
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // A forgotten `await` on an activity or a client call is a real bug.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      // Under `module: nodenext` a CommonJS file's `import()` stays an ESM import at run time (see cli/lazy.ts).
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ImportExpression',
          message:
            'import() is a real ESM import in this CommonJS build: import statically, or load late as cli/lazy.ts does.',
        },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // Under `module: nodenext` TypeScript keeps `await import()` in CommonJS output as a real ESM import
    // (ESM path resolution, and jest only with --experimental-vm-modules): the few modules the CLI loads
    // late (Temporal's worker SDK, the workers, main's command list) are `require`d there, typed by
    // `import type`. Everywhere else imports are static.
    files: ['cli/lazy.ts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node, no activity code, no I/O.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({
              name,
              message: 'Workflows are deterministic: do I/O in an activity, not in workflow code.',
            })),
          ],
          patterns: [
            {
              group: ['**/activities', '**/activities/**', '**/providers/**', '**/cli/**'],
              allowTypeImports: true,
              message: 'Workflows reference activities by `import type` and proxyActivities only.',
            },
          ],
        },
      ],
      // A local activity's marker and the commands after it can land in two workflow tasks when a worker
      // restarts mid-task, and the SDK's replay then misreads a later patched() (workflows/visibility.ts).
      // (This block's list replaces the one above for workflows: the ImportExpression rule is repeated.)
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ImportExpression',
          message: 'import() is a real ESM import in this CommonJS build: import statically.',
        },
        {
          selector:
            "ImportDeclaration[source.value='@temporalio/workflow'] ImportSpecifier[imported.name='proxyLocalActivities']",
          message: 'No local activities in workflows: use proxyActivities (workflows/visibility.ts says why).',
        },
      ],
      'no-restricted-properties': [
        'error',
        {
          object: 'wf',
          property: 'proxyLocalActivities',
          message: 'No local activities in workflows: use proxyActivities (workflows/visibility.ts says why).',
        },
      ],
    },
  },
);
