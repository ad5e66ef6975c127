/** `jipper dev` (the embedded Temporal dev server) and `jipper worker` (a worker), each in the foreground until Ctrl-C. */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { z } from 'zod';
import { startWorker } from '../../worker/main';
import type { CodecServer } from '../../codec/codec-server';
import { codecEndpointFor, startCodecServer } from '../../codec/codec-server';
import { loadConfig } from '../../config/config';
import { DEFAULT_DEV_SERVER_PORT, defaultDbFilename, startDevServer } from '../../dev/dev-server';
import { findOrInstallTemporalCli } from '../../dev/temporal-cli';
import { action } from '../context';

const portSchema = z.coerce.number().int().min(1).max(65535);

function port(value: string): number {
  const parsed = portSchema.safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError('expected a port number (1-65535)');
  return parsed.data;
}

/** Resolves at the first SIGINT or SIGTERM. */
export function untilSignal(): Promise<NodeJS.Signals> {
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
    .action(
      action(async (options: DevOptions) => {
        const { namespace, keyRing } = loadConfig();
        const log = (line: string) => process.stderr.write(`${line}\n`);
        const cli = await findOrInstallTemporalCli({ log });
        const uiPort = options.headless ? false : (options.uiPort ?? options.port + 1000);
        // With encryption on, the Web UI decodes payloads through a codec server this command serves on uiPort + 1.
        let codec: CodecServer | undefined;
        if (keyRing && uiPort !== false) {
          codec = await startCodecServer({
            keyRing,
            port: Number(new URL(codecEndpointFor(uiPort)).port),
            origins: [`http://127.0.0.1:${uiPort}`, `http://localhost:${uiPort}`],
            log,
          });
        }
        const server = await startDevServer({
          cliPath: cli.path,
          port: options.port,
          uiPort,
          ...(codec ? { uiCodecEndpoint: codec.url } : {}),
          ...(options.inMemory ? {} : { dbFilename: options.db }),
          namespace,
          log,
        }).catch(async (err: unknown) => {
          await codec?.close();
          throw err;
        });
        console.log(`Temporal ${server.reused ? 'server (already running)' : 'dev server'}: ${server.address}`);
        console.log(`Web UI: ${server.uiUrl ?? '(none)'}`);
        if (codec) {
          console.log(
            `payloads encrypted (key ring of ${keyRing?.source}); the Web UI decodes them through ${codec.url}` +
              (server.reused ? ' if that server was started with --ui-codec-endpoint' : '')
          );
        }
        console.log(`namespace: ${namespace}${server.reused || options.inMemory ? '' : ` · state in ${options.db}`}`);
        console.log('Press Ctrl-C to stop.');
        await untilSignal();
        await server.stop();
        await codec?.close();
      })
    );

  program
    .command('worker')
    .description(
      "Run a worker for Jipper's workflows and the job libraries of JIPPER_LIBRARIES (default: the example volume library in JIPPER_SANDBOX) until Ctrl-C."
    )
    .action(
      action(async () => {
        const { done } = await startWorker();
        await done;
      })
    );
}
