/** `jipper dev` (the embedded Temporal dev server) and `jipper worker` (a worker), each in the foreground until Ctrl-C. */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { z } from 'zod';
import { startWorker } from '../../worker/main';
import { loadConfig } from '../../config/config';
import { DEFAULT_DEV_SERVER_PORT, defaultDbFilename, startDevServer } from '../../dev/dev-server';
import { findOrInstallTemporalCli } from '../../dev/temporal-cli';
import { err, out, printJsonLine } from '../io';
import { action } from '../context';

const portSchema = z.coerce.number().int().min(1).max(65535);

function port(value: string): number {
  const parsed = portSchema.safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError('expected a port number (1-65535)');
  return parsed.data;
}

/** Resolves at the first SIGINT or SIGTERM. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

interface DevOptions {
  port: number;
  uiPort?: number;
  headless?: boolean;
  db: string;
  inMemory?: boolean;
  json?: boolean;
}

export function registerServers(program: Command): void {
  program
    .command('dev')
    .description(
      "Run the embedded Temporal dev server (SQLite state, Web UI, Jipper's search attributes registered) until Ctrl-C; reuse the one already listening on the port."
    )
    .option('--port <port>', 'gRPC port', port, DEFAULT_DEV_SERVER_PORT)
    .option('--ui-port <port>', 'Web UI port (default: port + 1000)', port)
    .option('--headless', 'no Web UI')
    .option('--db <file>', 'SQLite file that keeps runs across restarts', defaultDbFilename())
    .option('--in-memory', 'keep no state on disk (runs are lost when the server stops)')
    .option('--json', 'print { address, webUi, namespace, db, reused } as one JSON line once the server is up')
    .action(
      action(async (options: DevOptions) => {
        const namespace = loadConfig().namespace;
        const log = (line: string) => err(line);
        const cli = await findOrInstallTemporalCli({ log });
        const server = await startDevServer({
          cliPath: cli.path,
          port: options.port,
          uiPort: options.headless ? false : (options.uiPort ?? options.port + 1000),
          ...(options.inMemory ? {} : { dbFilename: options.db }),
          namespace,
          log,
        });
        const db = server.reused || options.inMemory ? undefined : options.db;
        if (options.json) {
          printJsonLine({
            address: server.address,
            webUi: server.uiUrl ?? null,
            namespace,
            db: db ?? null,
            reused: server.reused,
          });
        } else {
          out(
            `Temporal ${server.reused ? 'server (already running)' : 'dev server'}: ${server.address}`,
            `Web UI: ${server.uiUrl ?? '(none)'}`,
            `namespace: ${namespace}${db ? ` · state in ${db}` : ''}`,
            'Press Ctrl-C to stop.'
          );
        }
        await untilSignal();
        await server.stop();
      })
    );

  program
    .command('worker')
    .description(
      "Run a worker for Jipper's workflows and the job libraries of JIPPER_LIBRARIES (default: the example volume library in JIPPER_SANDBOX) until Ctrl-C."
    )
    .option('--json', 'print { taskQueue, address, namespace, jobs } as one JSON line once the worker polls')
    .action(
      action(async (options: { json?: boolean }) => {
        const config = loadConfig();
        const { done, address, registry } = await startWorker(config, (line) => err(line));
        if (options.json) {
          printJsonLine({ taskQueue: config.taskQueue, address, namespace: config.namespace, jobs: registry.names() });
        }
        await done;
      })
    );
}
