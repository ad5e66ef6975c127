/**
 * `node dist/dev/cluster/main.js up|down|status|build [--json]`: a Temporal cluster on PostgreSQL on this machine
 * (what a `jipper cluster` command calls). Settings come from the environment (see settings.ts); errors are one line
 * on stderr, exit code 2 for bad usage or settings, 1 for a failure.
 *
 *   up      build or reuse the server, start PostgreSQL and each service, register the namespace and search attributes
 *   down    stop everything `up` started (by pid), PostgreSQL last
 *   status  what runs, on which port; exit code 0 only when every component runs and listens
 *   build   only build (or find) the server binaries, and the Web UI with JIPPER_CLUSTER_UI=build
 */
import { z } from 'zod';
import { oneLine } from '../../client/temporal-cli';
import { ensureServerBinaries, ensureUiServer } from './binaries';
import type { ClusterStatus } from './cluster';
import { clusterDown, clusterStatus, clusterUp } from './cluster';
import { ClusterSettingsError, clusterSettings } from './settings';

const argsSchema = z.tuple([
  z.enum(['up', 'down', 'status', 'build'], { error: 'expected up, down, status or build' }),
]);

class UsageError extends Error {}

function parseArgs(argv: string[]): { command: 'up' | 'down' | 'status' | 'build'; json: boolean } {
  const json = argv.includes('--json');
  const rest = argv.filter((a) => a !== '--json');
  const unknownFlag = rest.find((a) => a.startsWith('-'));
  if (unknownFlag !== undefined) throw new UsageError(`unknown option ${unknownFlag}`);
  const parsed = argsSchema.safeParse(rest);
  if (!parsed.success)
    throw new UsageError(`usage: cluster up|down|status|build [--json] (${parsed.error.issues[0]?.message})`);
  return { command: parsed.data[0], json };
}

function printStatus(status: ClusterStatus): void {
  const rows = [status.postgres, ...status.services, ...(status.ui ? [status.ui] : [])];
  for (const c of rows) {
    const state = c.running ? (c.listening ? 'up' : 'starting') : 'down';
    console.log(`${c.name.padEnd(10)} ${state.padEnd(8)} ${`pid ${c.pid ?? '-'}`.padEnd(12)} 127.0.0.1:${c.port}`);
  }
  console.log(`frontend: ${status.address}${status.uiUrl ? `  Web UI: ${status.uiUrl}` : ''}`);
}

async function main(): Promise<number> {
  let command: ReturnType<typeof parseArgs>;
  let settings: ReturnType<typeof clusterSettings>;
  try {
    command = parseArgs(process.argv.slice(2));
    settings = clusterSettings();
  } catch (err) {
    if (err instanceof UsageError || err instanceof ClusterSettingsError) {
      console.error(`jipper cluster: ${err.message}`);
      return 2;
    }
    throw err;
  }
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  switch (command.command) {
    case 'up': {
      const status = await clusterUp(settings, log);
      if (command.json) console.log(JSON.stringify(status, null, 2));
      else printStatus(status);
      return status.healthy ? 0 : 1;
    }
    case 'down':
      await clusterDown(settings, log);
      return 0;
    case 'status': {
      const status = await clusterStatus(settings);
      if (command.json) console.log(JSON.stringify(status, null, 2));
      else printStatus(status);
      return status.healthy ? 0 : 1;
    }
    case 'build': {
      const server = await ensureServerBinaries(settings.binDir, settings.sharedCacheDir, log);
      console.log(`${server.server} (${server.version}, ${server.source})`);
      if (settings.ui === 'build') {
        const ui = await ensureUiServer(settings.binDir, settings.sharedCacheDir, log);
        console.log(`${ui.path} (${ui.version}, ${ui.source})`);
      }
      return 0;
    }
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`jipper cluster: ${oneLine(err)}`);
      process.exit(1);
    }
  );
}
