/**
 * `npm test`: two projects.
 * - unit: no server (job activities with MockActivityEnvironment, planning, rendering, replay of recorded histories,
 *   lint rules, the Temporal CLI finder, the compose file).
 * - integration: against a real Temporal server — one dev server for the whole run (test/support/global-setup.ts,
 *   on jipper/testing) unless TEMPORAL_ADDRESS points at one; each test file uses its own task queue.
 *   The global setup also finds the Chromium for the Web UI tests (a system one, else the one inside @sparticuz/chromium).
 * Needs only Node, Python with pip, and what `npm install` and the project's installers fetch (README: "What `npm test`
 * needs"). Long fault and load tests are `npm run test:faults` (jest.faults.config.js); what needs Go, zsh or fish is
 * `npm run test:extended` (jest.extended.config.js).
 */
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', isolatedModules: true }] };

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 120_000,
  maxWorkers: 2,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      roots: ['<rootDir>/test/unit'],
      testMatch: ['**/*.test.ts'],
      transform,
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      roots: ['<rootDir>/test/integration'],
      testMatch: ['**/*.test.ts'],
      transform,
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
  ],
};
