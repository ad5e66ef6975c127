/**
 * `npm run test:extended`: the tests that need more than `npm test` may assume (Node, Python with pip, and what
 * `npm install` and the project's own installers fetch). .ci/run runs it after installing zsh and fish with apt; the
 * global setup (test/extended/global-setup.ts) builds the Temporal server with Go first (cached in .jipper), outside
 * every test's timeout, and names what to install when something is missing.
 * - temporal-tls: TLS, mTLS and API keys against Temporal's own TLS frontend and authorizer.
 * - shell-completion: the zsh and fish completion scripts in the real shells.
 */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test/extended'],
  testMatch: ['**/*.extended.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', isolatedModules: true }] },
  globalSetup: '<rootDir>/test/extended/global-setup.ts',
  testTimeout: 120_000,
  maxWorkers: 1,
};
