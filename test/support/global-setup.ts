/**
 * Jest global setup: one Temporal server for the whole run (`startTestServer` from jipper/testing), handed to the test
 * files through the environment.
 *
 * - `TEMPORAL_ADDRESS` set: that server is used, once it answers (and has Jipper's search attributes).
 * - Otherwise the Temporal CLI is found or installed and one in-memory dev server is started on a free loopback port,
 *   with its Web UI on another free port (`JIPPER_TEST_HEADLESS=1` leaves the UI out).
 *
 * - With a UI, the Chromium the Web UI tests drive (test/support/browser.ts: a system one, else the one inside the
 *   `@sparticuz/chromium` package, unpacked here, before any test's timeout starts).
 *
 * Exported to test files: `TEMPORAL_ADDRESS`, `TEMPORAL_CLI_PATH` (when a dev server was started),
 * `JIPPER_TEST_UI_URL` (when it has a UI) and `JIPPER_TEST_CHROMIUM`. When no server or browser can be had this throws
 * with what to install: the run fails, nothing is skipped.
 */
import type { TestServer } from '../../src/testing/server';
import { startTestServer } from '../../src/testing/server';
import { findChromium } from './browser';

/** Where the started server is kept for global-teardown.ts (both run in jest's main process). */
export const TEST_SERVER_GLOBAL = Symbol.for('jipper.test.server');

type GlobalWithServer = typeof globalThis & { [TEST_SERVER_GLOBAL]?: TestServer };

const log = (line: string): void => void process.stderr.write(`[jest global setup] ${line}\n`);

export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const headless = process.env.JIPPER_TEST_HEADLESS === '1' || process.env.JIPPER_TEST_HEADLESS === 'true';
  if (!headless) {
    const browser = await findChromium(log);
    process.env.JIPPER_TEST_CHROMIUM = browser.path;
    log(`Chromium for the Web UI tests: ${browser.path} (${browser.source})`);
  }
  const server = await startTestServer({ ui: !headless, log });
  (globalThis as GlobalWithServer)[TEST_SERVER_GLOBAL] = server;
  process.env.TEMPORAL_ADDRESS = server.address;
  if (server.cliPath !== undefined) process.env.TEMPORAL_CLI_PATH = server.cliPath;
  if (server.uiUrl !== undefined) process.env.JIPPER_TEST_UI_URL = server.uiUrl;
  log(
    `Temporal server ${server.address} ready in ${Date.now() - started} ms${server.cliPath ? '' : ' (TEMPORAL_ADDRESS)'}`
  );
}

/** Stops the server globalSetup started (or closes the connection to the configured one). */
export async function stopTestServer(): Promise<void> {
  const holder = globalThis as GlobalWithServer;
  const server = holder[TEST_SERVER_GLOBAL];
  delete holder[TEST_SERVER_GLOBAL];
  await server?.teardown();
}
