/**
 * `npm run test:cluster`: Jipper against a Temporal cluster on PostgreSQL on this machine (src/dev/cluster), started
 * by test/cluster/global-setup.ts. First the main suite's integration files, unchanged, against the cluster; then the
 * cluster's own tests (test/cluster/*.cluster.test.ts): the cluster itself, scale-out, faults under load and rolling
 * deploys. One file at a time: the fault tests kill the cluster's services.
 */
/** Integration files of the main suite that run against any Temporal server (not the dev-server-specific ones). */
const INTEGRATION = [
  'engine',
  'semantics',
  'cancellation',
  'cli',
  'examples',
  'bad-input',
  'timeouts',
  'load',
  'worker-crash',
];

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', isolatedModules: true }] },
  testMatch: [
    ...INTEGRATION.map((name) => `<rootDir>/test/integration/${name}.test.ts`),
    '<rootDir>/test/cluster/**/*.cluster.test.ts',
  ],
  globalSetup: '<rootDir>/test/cluster/global-setup.ts',
  globalTeardown: '<rootDir>/test/cluster/global-teardown.ts',
  testSequencer: '<rootDir>/test/cluster/sequencer.js',
  testTimeout: 1_800_000,
  maxWorkers: 1,
};
