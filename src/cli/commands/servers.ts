/**
 * `jipper dev` (the embedded Temporal dev server, in the foreground until Ctrl-C), `jipper dev status` and `jipper dev
 * stop` (this project's dev servers, including the ones `start` and `worker` left running in the background), and
 * `jipper worker` (a worker until Ctrl-C).
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { z } from 'zod';
import { startWorker } from '../../worker/main';
import { isLoopbackHost, probeTemporal, splitAddress } from '../../config/connect';
import type { DevServerState } from '../../dev/dev-server';
import {
  defaultDbFilename,
  isDevServerProcess,
  readDevServerStates,
  startDevServer,
  stopDevServerProcess,
} from '../../dev/dev-server';
import { configuredAddress, mayStartEmbedded } from '../../dev/ensure-server';
import type { CodecServer } from '../../codec/codec-server';
import { codecEndpointFor, startCodecServer } from '../../codec/codec-server';
import { findOrInstallTemporalCli } from '../../dev/temporal-cli';
import { action, cliConfig, printJson } from '../context';
import { UsageError } from '../errors';
import { err, out, printJsonLine } from '../io';

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
  port?: number;
  uiPort?: number;
  headless?: boolean;
  db?: string;
  inMemory?: boolean;
  json?: boolean;
}

/** A dev server of this project as `dev status` shows it. */
interface DevServerStatus extends DevServerState {
  /** `running`: its process runs and the frontend answers; `not answering`: it runs but does not answer (yet); `gone`. */
  status: 'running' | 'not answering' | 'gone';
}

async function statusOf(state: DevServerState): Promise<DevServerStatus['status']> {
  if (!isDevServerProcess(state.pid)) return 'gone';
  return (await probeTemporal({ address: state.address }, 2_000)).kind === 'temporal' ? 'running' : 'not answering';
}

export function registerServers(program: Command): void {
  const dev = program
    .command('dev')
    .description(
      "Run the embedded Temporal dev server at the configured address (default 127.0.0.1:7233; it must be on loopback) until Ctrl-C: SQLite state in the project's .jipper/, Web UI on port + 1000, Jipper's search attributes registered. Reuses a server already listening there."
    )
    .option('--port <port>', 'gRPC port (default: the configured address’s)', port)
    .option('--ui-port <port>', 'Web UI port (default: port + 1000)', port)
    .option('--headless', 'no Web UI')
    .option('--db <file>', 'SQLite file that keeps runs across restarts (default .jipper/dev-server-<port>.db)')
    .option('--in-memory', 'keep no state on disk (runs are lost when the server stops)')
    .option('--json', 'print { address, webUi, namespace, db, reused } as one JSON line once the server is up')
    .action(
      action(async (options: DevOptions) => {
        const config = await cliConfig();
        const configured = splitAddress(configuredAddress(config));
        const host = configured.host;
        const serverPort = options.port ?? configured.port;
        if (!isLoopbackHost(host) || !mayStartEmbedded({ ...config, address: `${host}:${serverPort}` })) {
          throw new UsageError(
            `jipper dev runs a server on this machine, without TLS: the configured address ${configuredAddress(config)} (${config.addressSource ?? 'default'}) is not a plain loopback address`
          );
        }
        const log = (line: string) => err(line);
        const cli = await findOrInstallTemporalCli({ projectRoot: config.projectRoot, log });
        const db = options.db ?? defaultDbFilename(serverPort, config.projectRoot);
        const uiPort = options.headless ? false : (options.uiPort ?? serverPort + 1000);
        const { keyRing } = config;
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
          ip: host,
          port: serverPort,
          uiPort,
          ...(codec ? { uiCodecEndpoint: codec.url } : {}),
          ...(options.inMemory ? {} : { dbFilename: db }),
          namespace: config.namespace,
          projectRoot: config.projectRoot,
          log,
        }).catch(async (err: unknown) => {
          await codec?.close();
          throw err;
        });
        const kept = server.reused || options.inMemory ? undefined : db;
        if (options.json) {
          printJsonLine({
            address: server.address,
            webUi: server.uiUrl ?? null,
            codecServer: codec?.url ?? null,
            namespace: config.namespace,
            db: kept ?? null,
            reused: server.reused,
          });
        } else {
          out(
            `Temporal ${server.reused ? 'server (already running)' : 'dev server'}: ${server.address}`,
            `Web UI: ${server.uiUrl ?? '(none)'}`,
            ...(codec
              ? [
                  `payloads encrypted (key ring of ${keyRing?.source}); the Web UI decodes them through ${codec.url}` +
                    (server.reused ? ' if that server was started with --ui-codec-endpoint' : ''),
                ]
              : []),
            `namespace: ${config.namespace}${kept ? ` · state in ${kept}` : ''}`,
            'Press Ctrl-C to stop.'
          );
        }
        await untilSignal();
        await server.stop();
        await codec?.close();
      })
    );

  dev
    .command('status')
    .description(
      "This project's dev servers (the foreground one, and those `start` and `worker` left running): address, Web UI, pid, database, log. Exit code 1 when none runs."
    )
    .option('--json', 'print them as JSON')
    .action(
      action(async (options: { json?: boolean }) => {
        const config = await cliConfig();
        const servers: DevServerStatus[] = [];
        for (const { file: _file, ...state } of readDevServerStates(config.projectRoot)) {
          servers.push({ ...state, status: await statusOf(state) });
        }
        const running = servers.filter((server) => server.status !== 'gone');
        if (options.json) {
          printJson({ projectRoot: config.projectRoot, servers });
        } else if (!servers.length) {
          out(`no dev server of this project (${config.projectRoot})`);
        } else {
          for (const server of servers) {
            out(`${server.address}  ${server.status}`);
            if (server.status === 'gone') {
              out(`  pid ${server.pid} is gone; \`jipper dev stop --address ${server.address}\` clears it`);
              continue;
            }
            out(`  Web UI:    ${server.uiUrl ?? '(none)'}`);
            out(`  pid:       ${server.pid} (${server.detached ? 'background' : 'foreground'})`);
            out(`  namespace: ${server.namespace}`);
            out(`  state:     ${server.dbFilename ?? 'in memory'}`);
            out(`  log:       ${server.logFile}`);
            out(`  since:     ${server.startedAt}`);
          }
        }
        return running.length ? undefined : 1;
      })
    );

  dev
    .command('stop')
    .description(
      "Stop this project's dev server at the configured address (default 127.0.0.1:7233), or all of them with --all. A server that is not running is not an error."
    )
    .option('--all', 'every dev server of this project')
    .option('--json', 'print [{ address, pid, stopped }] as JSON')
    .action(
      action(async (options: { all?: boolean; json?: boolean }) => {
        const config = await cliConfig();
        const address = configuredAddress(config);
        const states = readDevServerStates(config.projectRoot).filter(
          (state) => options.all || state.address === address
        );
        if (!states.length) {
          if (options.json) return printJson([]);
          out(
            options.all
              ? `no dev server of this project (${config.projectRoot})`
              : `no dev server of this project at ${address}`
          );
          return;
        }
        const results = [];
        for (const state of states) {
          const stopped = await stopDevServerProcess(state);
          results.push({ address: state.address, pid: state.pid, stopped });
          if (!options.json) {
            out(
              stopped
                ? `stopped the dev server at ${state.address} (pid ${state.pid})`
                : `cleared ${state.address} (its process was gone)`
            );
          }
        }
        if (options.json) printJson(results);
      })
    );

  program
    .command('worker')
    .description(
      "Run a worker for Jipper's workflows and the configured job libraries (config file `libraries`, JIPPER_LIBRARIES or --libraries; default: the example volume library in JIPPER_SANDBOX) until Ctrl-C. On a loopback address where nothing listens it starts the embedded dev server first."
    )
    .option('--json', 'print { taskQueue, address, namespace, jobs } as one JSON line once the worker polls')
    .action(
      action(async (options: { json?: boolean }) => {
        const config = await cliConfig();
        const { done, address, registry } = await startWorker(config, (line) => err(line));
        if (options.json) {
          printJsonLine({ taskQueue: config.taskQueue, address, namespace: config.namespace, jobs: registry.names() });
        }
        await done;
      })
    );
}
