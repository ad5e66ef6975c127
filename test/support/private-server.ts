/**
 * A Temporal dev server of a test's own, on a free loopback port, keeping its state in a SQLite file in `dir`, so the
 * test can SIGKILL it (a crashed server: nothing flushed, no goodbye to clients) and start it again on the same file
 * and port.
 *
 * ```ts
 * const server = await startPrivateServer(dir);
 * await server.crash();   // SIGKILL
 * await server.restart(); // same db file, same port
 * await server.stop();
 * ```
 */
import { join } from 'node:path';
import type { DevServer } from '../../src/dev/dev-server';
import { startDevServer } from '../../src/dev/dev-server';
import { findOrInstallTemporalCli } from '../../src/dev/temporal-cli';
import { freePort } from '../../src/dev/ports';

export interface PrivateServer {
  address: string;
  dbFilename: string;
  /** Current server pid. */
  pid(): number;
  /** SIGKILL, and wait until it is gone. */
  crash(): Promise<void>;
  /** Starts the server again on the same db file and port; resolves once it answers. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startPrivateServer(dir: string): Promise<PrivateServer> {
  const cliPath = process.env.TEMPORAL_CLI_PATH ?? (await findOrInstallTemporalCli()).path;
  const port = await freePort();
  const dbFilename = join(dir, 'temporal.db');
  let starts = 0;
  const start = (): Promise<DevServer> => {
    starts += 1;
    return startDevServer({
      cliPath,
      port,
      uiPort: false,
      dbFilename,
      logFile: join(dir, `temporal-server-${starts}.log`),
      stopGraceMs: 2_000,
      projectRoot: dir,
    });
  };
  let server = await start();
  if (server.reused) throw new Error(`port ${port} already had a Temporal server`);
  return {
    address: server.address,
    dbFilename,
    pid: () => server.pid as number,
    async crash() {
      process.kill(server.pid as number, 'SIGKILL');
      await server.stop();
    },
    async restart() {
      server = await start();
      if (server.reused) throw new Error(`port ${port} was taken by another Temporal server while ours was down`);
    },
    stop: () => server.stop(),
  };
}
