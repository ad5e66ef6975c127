/**
 * Jest global setup: one Temporal server for the whole run, handed to the test files through the environment.
 *
 * - `TEMPORAL_ADDRESS` set: that server is used, once it answers (and has Jipper's search attributes).
 * - Otherwise the Temporal CLI is found or installed and one in-memory dev server is started on a free loopback port,
 *   with its Web UI on another free port (`JIPPER_TEST_HEADLESS=1` leaves the UI out).
 *
 * Exported to test files: `TEMPORAL_ADDRESS`, `TEMPORAL_CLI_PATH` (when a dev server was started), and
 * `JIPPER_TEST_UI_URL` (when it has a UI). When no server can be had this throws: the run fails, nothing is skipped.
 */
import { join } from 'node:path';
import { loadConfig } from '../../src/client/config';
import type { DevServer } from '../../src/client/dev-server';
import { ensureSearchAttributes, freePort, startDevServer } from '../../src/client/dev-server';
import { findOrInstallTemporalCli } from '../../src/client/temporal-cli';
import { testConnection } from './server';

/** Where the started server is kept for global-teardown.ts (both run in jest's main process). */
export const DEV_SERVER_GLOBAL = Symbol.for('jipper.test.devServer');

type GlobalWithServer = typeof globalThis & { [DEV_SERVER_GLOBAL]?: DevServer };

const log = (line: string): void => void process.stderr.write(`[jest global setup] ${line}\n`);

export default async function globalSetup(): Promise<void> {
  if (process.env.TEMPORAL_ADDRESS !== undefined && process.env.TEMPORAL_ADDRESS !== '') {
    const { connection, close } = await testConnection();
    try {
      await ensureSearchAttributes(connection, loadConfig().namespace, log);
    } finally {
      await close();
    }
    log(`using the Temporal server at ${process.env.TEMPORAL_ADDRESS} (TEMPORAL_ADDRESS)`);
    return;
  }

  const started = Date.now();
  const cli = await findOrInstallTemporalCli({ log });
  const headless = process.env.JIPPER_TEST_HEADLESS === '1' || process.env.JIPPER_TEST_HEADLESS === 'true';
  const start = async () =>
    startDevServer({
      cliPath: cli.path,
      port: await freePort(),
      uiPort: headless ? false : await freePort(),
      logFile: join('.jipper', 'test-dev-server.log'),
      log,
    });
  // A port picked free can be taken before the server binds it (another process on the machine): pick again.
  let server: DevServer;
  for (let attempt = 1; ; attempt++) {
    try {
      server = await start();
      break;
    } catch (err) {
      if (attempt === 3 || !/address already in use/.test(String(err))) throw err;
      log(`a port was taken before the server could bind it; trying other ports (${String(err).slice(0, 200)})`);
    }
  }
  (globalThis as GlobalWithServer)[DEV_SERVER_GLOBAL] = server;
  process.env.TEMPORAL_ADDRESS = server.address;
  process.env.TEMPORAL_CLI_PATH = cli.path;
  if (server.uiUrl !== undefined) process.env.JIPPER_TEST_UI_URL = server.uiUrl;
  log(`dev server ${server.address} ready in ${Date.now() - started} ms (CLI ${cli.version} from ${cli.source})`);
}

/** Stops the dev server globalSetup started, if it started one. */
export async function stopTestDevServer(): Promise<void> {
  const holder = globalThis as GlobalWithServer;
  const server = holder[DEV_SERVER_GLOBAL];
  delete holder[DEV_SERVER_GLOBAL];
  await server?.stop();
}
