/**
 * `node dist/dev/cluster/main.js up|down|status|build [--json]`: a Temporal cluster on PostgreSQL on this machine
 * (what a `jipper cluster` command calls). Settings come from the environment (see settings.ts); errors are one line
 * on stderr, exit code 2 for bad usage or settings, 1 for a failure.
 *
 *   up      build or reuse the server, start PostgreSQL and each service, register the namespace and search attributes
 *   down    stop everything `up` started (by pid), PostgreSQL last
 *   status  what runs, on which port; exit code 0 only when every component runs and listens
 *   build   only build (or find) the server binaries, and the Web UI with JIPPER_CLUSTER_UI=build
 *   setup   only register the namespace and Jipper's search attributes, on `TEMPORAL_ADDRESS` (docker-compose.yml's
 *           temporal-setup) or else on this cluster's frontend; retries while the frontend warms up
 */
import { z } from 'zod';
import { oneLine } from '../../shared/text';
import { ensureServerBinaries, ensureUiServer } from './binaries';
import type { ClusterStatus } from './cluster';
import { clusterDown, clusterStatus, clusterUp, setupNamespace } from './cluster';
import { ClusterSettingsError, clusterSettings } from './settings';

const COMMANDS = ['up', 'down', 'status', 'build', 'setup'] as const;
type Command = (typeof COMMANDS)[number];
const argsSchema = z.tuple([z.enum(COMMANDS, { error: `expected ${COMMANDS.join(', ')}` })]);
const setupEnvSchema = z.object({
  TEMPORAL_ADDRESS: z
    .string()
    .trim()
    .regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port')
    .optional(),
});

class UsageError extends Error {}

function parseArgs(argv: string[]): { command: Command; json: boolean } {
  const json = argv.includes('--json');
  const rest = argv.filter((a) => a !== '--json');
  const unknownFlag = rest.find((a) => a.startsWith('-'));
  if (unknownFlag !== undefined) throw new UsageError(`unknown option ${unknownFlag}`);
  const parsed = argsSchema.safeParse(rest);
  if (!parsed.success)
    throw new UsageError(`usage: cluster ${COMMANDS.join('|')} [--json] (${parsed.error.issues[0]?.message})`);
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
  let setupAddress: string | undefined;
  try {
    command = parseArgs(process.argv.slice(2));
    settings = clusterSettings();
    const env = setupEnvSchema.safeParse(process.env);
    if (!env.success) throw new UsageError(`TEMPORAL_ADDRESS: ${env.error.issues[0]?.message}`);
    setupAddress = env.data.TEMPORAL_ADDRESS;
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
    case 'setup':
      await setupNamespace(setupAddress ?? settings.address, log);
      return 0;
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
