/**
 * `npm run test:package`: the package as a team gets it. Packs this repository, installs the tarball into a fresh
 * project outside it, scaffolds with `jipper init`, runs processes against a dev server on a port of its choosing, and
 * runs the scaffolded tests. Slow (npm installs; a few minutes): .ci/run runs it after `npm test`.
 */
/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 20 * 60_000,
  testEnvironment: 'node',
  roots: ['<rootDir>/test/package'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', isolatedModules: true }] },
};
