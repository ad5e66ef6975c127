// ESLint with type information. Two kinds of rule beyond the usual ones:
// - rooms: imports go one way (docs/design.md has the map); no import cycles anywhere in src/;
// - workflow code (src/workflows, src/shared, src/workflow.ts) is replayed by Temporal, so it must be deterministic:
//   no Node built-ins, no zod, no clock or randomness outside the workflow API, no values from the Node-side rooms;
// - no function in src/ longer than 100 lines of code.
// test/unit/lint.test.ts lints deliberately bad probe files and expects each rule to fire.
import js from '@eslint/js';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'fs',
  'fs/promises',
  'path',
  'child_process',
  'crypto',
  'os',
  'net',
  'http',
  'https',
  'dns',
  'worker_threads',
  'process',
  'timers',
  'timers/promises',
  'util',
  'stream',
  'events',
  'module',
  'url',
  'zlib',
];

/** Rooms and what each may not import (a room may always import itself and the rooms below it). */
const ROOMS = [
  'core',
  'shared',
  'schema',
  'codec',
  'jobs',
  'checks',
  'runtime',
  'examples',
  'workflows',
  'config',
  'dev',
  'client',
  'worker',
  'testing',
  'cli',
];
// src/shared and src/workflows (workflow code) may import Node-side rooms as types only: the block for workflow code
// below enforces that with no-restricted-imports, which knows type-only imports.
const FORBIDDEN = {
  // The saga core: pure rules, below everything; it imports shared and schema as types only (the core block below).
  core: ROOMS.filter((r) => !['core', 'shared', 'schema'].includes(r)),
  shared: ROOMS.filter((r) => !['core', 'shared', 'schema', 'jobs', 'checks', 'runtime'].includes(r)),
  schema: ROOMS.filter((r) => !['core', 'shared', 'schema'].includes(r)),
  // Payload encryption and the codec server: Node-side, below everything that talks to Temporal (config, dev, client,
  // worker, testing, cli import it); it knows only the shared helpers.
  codec: ROOMS.filter((r) => !['shared', 'codec'].includes(r)),
  // The job-author API knows only the schemas; the definition checks know the jobs; the activity runtime knows both;
  // the example library is written as a team writes one, on the job-author API.
  jobs: ROOMS.filter((r) => !['shared', 'schema', 'jobs'].includes(r)),
  // The definition checks run the saga core's rules (compensation coverage), as the preview does.
  checks: ROOMS.filter((r) => !['core', 'shared', 'schema', 'jobs', 'checks'].includes(r)),
  runtime: ROOMS.filter((r) => !['shared', 'schema', 'jobs', 'checks', 'runtime'].includes(r)),
  examples: ROOMS.filter((r) => !['shared', 'schema', 'jobs', 'examples'].includes(r)),
  config: ['jobs', 'checks', 'runtime', 'examples', 'workflows', 'dev', 'client', 'worker', 'testing', 'cli'],
  dev: ['jobs', 'checks', 'runtime', 'examples', 'workflows', 'client', 'worker', 'testing', 'cli'],
  client: ['dev', 'worker', 'testing', 'cli'],
  worker: ['client', 'testing', 'cli'],
  testing: ['cli'],
};
const roomZones = Object.entries(FORBIDDEN).flatMap(([room, forbidden]) =>
  forbidden.map((other) => ({
    target: `./src/${room}`,
    from: `./src/${other}`,
    message:
      other === 'cli'
        ? 'Nothing below the command line imports it (the CLI is the top floor).'
        : `src/${room} may not import src/${other}: imports go one way (docs/design.md, "Rooms").`,
  }))
);

export default tseslint.config(
  // templates/ is what `jipper init` writes into a user's project: the package test type-checks and runs it there.
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      '.jipper/**',
      'coverage/**',
      'templates/**',
      '**/*.js',
      '**/*.mjs',
      '**/*.cjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // The lint test's probe files (test/unit/lint.test.ts) are outside the TypeScript project, so that a build
        // running meanwhile never sees them; they get the default project.
        projectService: { allowDefaultProject: ['src/*/zz-lint-probe*.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { 'import-x': importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver-next': [createTypeScriptImportResolver({ alwaysTryTypes: true })],
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      // Jobs and activities are async by contract, whether or not a given one awaits.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': ['error', { zones: roomZones }],
      // A function reads in one screen: at most 100 lines of code (blank lines and comments not counted; a nested
      // function's lines count for the function around it too).
      'max-lines-per-function': ['error', { max: 100, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    files: [
      'src/workflows/**/*.ts',
      'src/shared/**/*.ts',
      'src/core/**/*.ts',
      'src/workflow.ts',
      'bench/workflows/**/*.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins
              .flatMap((m) => [m, `node:${m}`])
              .map((name) => ({
                name,
                message: 'Workflow code is replayed: no Node built-ins (no I/O) in src/workflows or src/shared.',
              })),
            {
              name: 'zod',
              allowTypeImports: true,
              message: 'No zod in workflow code (it stays out of the workflow bundle): import its types only.',
            },
          ],
          patterns: [
            {
              group: ['@temporalio/client', '@temporalio/worker', '@temporalio/activity', '@temporalio/testing'],
              message: 'Workflow code may import only @temporalio/workflow and @temporalio/common.',
            },
            {
              group: [
                '**/jobs/**',
                '**/checks/**',
                '**/runtime/**',
                '**/examples/**',
                '**/codec/**',
                '**/schema/**',
                '**/client/**',
                '**/worker/**',
                '**/config/**',
                '**/dev/**',
                '**/cli/**',
                '**/testing/**',
              ],
              allowTypeImports: true,
              message: 'Workflow code imports Node-side code as types only (import type).',
            },
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        {
          object: 'Math',
          property: 'random',
          message: 'Use the workflow API (it is seeded) — never Math.random in workflow code.',
        },
        {
          object: 'Date',
          property: 'now',
          message: 'Use the clock helper in src/workflows/clock.ts (the workflow API time).',
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow.' },
        { name: 'setInterval', message: 'Use sleep() from @temporalio/workflow.' },
        { name: 'process', message: 'No process access in workflow code.' },
        { name: 'require', message: 'No dynamic require in workflow code.' },
        { name: 'Buffer', message: 'No Node globals in workflow code.' },
      ],
    },
  },
  {
    // The saga core is pure: no Temporal at all, and shared and schema as types only (besides the rules above).
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins
              .flatMap((m) => [m, `node:${m}`])
              .map((name) => ({ name, message: 'The saga core is pure: no Node built-ins in src/core.' })),
            { name: 'zod', message: 'The saga core is pure: no zod in src/core, not even its types.' },
          ],
          patterns: [
            {
              group: ['@temporalio/*'],
              message: 'The saga core is pure: no Temporal in src/core (the workflow drives it).',
            },
            {
              group: ['**/shared/**', '**/schema/**', '../shared', '../schema'],
              allowTypeImports: true,
              message: 'The saga core imports shared and schema as types only (import type).',
            },
          ],
        },
      ],
    },
  }
);
