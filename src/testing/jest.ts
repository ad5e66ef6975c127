/**
 * One Temporal server for a whole Jest run, started in Jest's global setup and handed to every test file through
 * `TEMPORAL_ADDRESS` (which `startTestServer` and `startTestWorker` read).
 *
 * ```ts
 * // test/global-setup.ts                             // jest.config.js
 * export { globalSetup as default } from 'jipper/testing';  // globalSetup: '<rootDir>/test/global-setup.ts',
 * // test/global-teardown.ts                          // globalTeardown: '<rootDir>/test/global-teardown.ts',
 * export { globalTeardown as default } from 'jipper/testing';
 * ```
 */
import type { TestServer } from './server';
import { startTestServer } from './server';

const SERVER = Symbol.for('jipper.testing.server');

type Holder = typeof globalThis & { [SERVER]?: TestServer };

/** Starts the run's server (or uses `TEMPORAL_ADDRESS`'s) and exports its address to the test files. */
export async function globalSetup(): Promise<void> {
  const server = await startTestServer();
  (globalThis as Holder)[SERVER] = server;
  process.env.TEMPORAL_ADDRESS = server.address;
  process.env.TEMPORAL_NAMESPACE = server.namespace;
}

/** Stops the server {@link globalSetup} started. */
export async function globalTeardown(): Promise<void> {
  const holder = globalThis as Holder;
  const server = holder[SERVER];
  delete holder[SERVER];
  await server?.teardown();
}
