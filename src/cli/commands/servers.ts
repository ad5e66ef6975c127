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
  devServerStateAt,
  isDevServerProcess,
  readDevServerStates,
  startDevServer,
  stopDevServerProcess,
} from '../../dev/dev-server';
import { configuredAddress, mayStartEmbedded } from '../../dev/ensure-server';
import type { CodecServer } from '../../codec/codec-server';
import { codecEndpointFor, startCodecServer } from '../../codec/codec-server';
import { FileKeyRing } from '../../codec/keyring';
import { findOrInstallTemporalCli } from '../../dev/temporal-cli';
import { action, cliConfig, printJson } from '../context';
import { codecToken } from './codec-token';
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
  const dev = registerDev(program);
  registerDevStatus(dev);
  registerDevStop(dev);
  registerWorker(program);
}

function registerDev(program: Command): Command {
  return program
    .command('dev')
    .description(
      "Run the embedded Temporal dev server at the configured address (default 127.0.0.1:7233; it must be on loopback) until Ctrl-C: SQLite state in the project's .jipper/, Web UI on port + 1000, Jipper's search attributes registered. With a Temporal server already listening there it says so and exits (staying only to serve the Web UI's codec server when payloads are encrypted)."
    )
    .option('--port <port>', 'gRPC port (default: the configured address’s)', port)
    .option('--ui-port <port>', 'Web UI port (default: port + 1000)', port)
    .option('--headless', 'no Web UI')
    .option('--db <file>', 'SQLite file that keeps runs across restarts (default .jipper/dev-server-<port>.db)')
    .option('--in-memory', 'keep no state on disk (runs are lost when the server stops)')
    .option('--json', 'print { address, webUi, namespace, db, reused } as one JSON line once the server is up')
    .action(action(runDev));
}

async function runDev(options: DevOptions): Promise<void> {
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
  if (keyRing instanceof FileKeyRing) keyRing.reloadOn('SIGHUP', log);
  const token = codecToken(); // JIPPER_CODEC_TOKEN: the CLI and scripts then need it; the Web UI cannot send one
  if (keyRing && uiPort !== false) {
    codec = await startCodecServer({
      keyRing,
      port: Number(new URL(codecEndpointFor(uiPort)).port),
      origins: [`http://127.0.0.1:${uiPort}`, `http://localhost:${uiPort}`],
      ...(token ? { token } : {}),
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
      server.reused
        ? reusedNote(server.address, serverPort, config.projectRoot, codec !== undefined)
        : 'Press Ctrl-C to stop.'
    );
  }
  // A reused server is not this command's to stop: with nothing of its own to serve, the command is done.
  if (server.reused && !codec) return;
  await untilSignal();
  await server.stop();
  await codec?.close();
}

/** What `jipper dev` says of a server that was already running on its port, and who can stop it. */
function reusedNote(address: string, serverPort: number, projectRoot: string, serving: boolean): string {
  const state = devServerStateAt(address, projectRoot);
  const owner =
    state && isDevServerProcess(state.pid)
      ? `it is this project's (pid ${state.pid}): \`jipper dev stop --port ${serverPort}\` stops it`
      : 'it was not started by this project, so jipper dev leaves it alone';
  return `${owner}.${serving ? ' Press Ctrl-C to stop the codec server.' : ''}`;
}

function registerDevStatus(dev: Command): void {
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
        if (options.json) printJson({ projectRoot: config.projectRoot, servers });
        else printStatus(servers, config.projectRoot);
        return running.length ? undefined : 1;
      })
    );
}

function printStatus(servers: DevServerStatus[], projectRoot: string): void {
  if (!servers.length) {
    out(`no dev server of this project (${projectRoot})`);
    return;
  }
  for (const server of servers) {
    out(`${server.address}  ${server.status}`);
    if (server.status === 'gone') {
      out(`  pid ${server.pid} is gone; \`jipper dev stop --port ${portOf(server.address)}\` clears it`);
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

const portOf = (address: string): number => splitAddress(address).port;

interface StopOptions {
  port?: number;
  all?: boolean;
  json?: boolean;
}

function registerDevStop(dev: Command): void {
  dev
    .command('stop')
    .description(
      "Stop this project's dev server: the one at the configured address (default 127.0.0.1:7233) or --port, else the project's only one wherever it runs; all of them with --all. With none running it says so (exit 0); with none at the address but others running (several, or a --port named) it lists them (exit 1)."
    )
    .option('--all', 'every dev server of this project')
    .option('--json', 'print [{ address, pid, stopped }] as JSON')
    // `--port` is `jipper dev`'s option (commander gives it to the parent wherever it is written).
    .action(
      action((options: StopOptions, command: Command) => {
        const { port: devPort } = command.parent?.opts<DevOptions>() ?? {};
        return runDevStop({ ...options, ...(devPort !== undefined ? { port: devPort } : {}) });
      })
    );
}

async function runDevStop(options: StopOptions): Promise<number | undefined> {
  const config = await cliConfig();
  const configured = splitAddress(configuredAddress(config));
  const address = options.port === undefined ? configuredAddress(config) : `${configured.host}:${options.port}`;
  const all = readDevServerStates(config.projectRoot);
  let states = all.filter((state) => options.all || state.address === address);
  // Nothing at the address asked for by default: the project's only dev server, wherever it runs, is the one meant.
  const named = options.port !== undefined || config.addressSource !== undefined;
  if (!states.length && !options.all && !named && all.length === 1) states = all;
  if (!states.length) {
    if (options.json) {
      printJson([]);
      return all.length && !options.all ? 1 : undefined;
    }
    if (!all.length) {
      out(`no dev server of this project (${config.projectRoot})`);
      return undefined;
    }
    const elsewhere = all.map((state) => `${state.address} (pid ${state.pid})`).join(', ');
    err(
      `jipper: no dev server of this project at ${address}; it has ${elsewhere}: stop one with --port <port>, or all with --all`
    );
    return 1;
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
  return undefined;
}

function registerWorker(program: Command): void {
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
