/**
 * The embedded Temporal dev server (`temporal server start-dev`): start one, or reuse the one already listening, and
 * make sure Jipper's search attributes exist on it.
 *
 * ```ts
 * const server = await startDevServer({ port: 7233, dbFilename: defaultDbFilename() });
 * console.log(server.address, server.uiUrl); // 127.0.0.1:7233 http://127.0.0.1:8233
 * await server.stop(); // no-op when server.reused
 * ```
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Connection } from '@temporalio/client';
import type { ProbeConnectionOptions } from '../config/connect';
import { DEFAULT_TEMPORAL_PORT, connectChecked, probeTemporal, tcpOpen } from '../config/connect';
import { findProjectRoot } from '../config/project';
import { ensureSearchAttributes } from '../config/search-attributes';
import { JIPPER_SEARCH_ATTRIBUTES } from '../shared/search-attributes';
import type { LogLine } from '../shared/text';
import { oneLine } from '../shared/text';
import { findOrInstallTemporalCli } from './temporal-cli';

/** The dev server's own default gRPC port. */
export const DEFAULT_DEV_SERVER_PORT = DEFAULT_TEMPORAL_PORT;

export interface DevServerOptions {
  /** Path of the `temporal` binary. Default: {@link findOrInstallTemporalCli} (which may install it). */
  cliPath?: string;
  /** Address the frontend (and the UI) binds to. Default `127.0.0.1`: the server is not reachable from elsewhere. */
  ip?: string;
  /** gRPC frontend port. Default 7233. */
  port?: number;
  /** Web UI port. Default: `port + 1000`, as the CLI does (8233 for 7233). `false` runs headless, with no UI. */
  uiPort?: number | false;
  /**
   * SQLite file that keeps workflows across restarts, relative to the project root. Default: none, state lives in
   * memory and is lost when the server stops. {@link defaultDbFilename} is the project's usual file.
   */
  dbFilename?: string;
  /**
   * A codec server the Web UI sends payloads to for decoding (`--ui-codec-endpoint`): with encryption on, the UI shows
   * reports only through one (`jipper codec-server`). Default: none.
   */
  uiCodecEndpoint?: string;
  /** Namespace created at launch (and checked for search attributes). Default `default`, which always exists. */
  namespace?: string;
  /** Server log level. Default `warn`. */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** How long to wait for the frontend to answer. Default 60 s. */
  startTimeoutMs?: number;
  /** How long `stop()` waits after SIGTERM before SIGKILL. Default 5 s. */
  stopGraceMs?: number;
  /**
   * Keep the server running after this process exits (its own process group, output to the log file, and a pid file
   * `.jipper/dev-server-<port>.pid`). Default `false`: the server is killed when this process exits.
   */
  detached?: boolean;
  /** Where the server's output goes. Default `.jipper/dev-server-<port>.log` under the project root. */
  logFile?: string;
  /** Root for the default db, log and pid files. Default: {@link findProjectRoot}. */
  projectRoot?: string;
  /** Progress lines. Default: silent. */
  log?: LogLine;
}

export interface DevServer {
  /** `host:port` of the gRPC frontend. */
  address: string;
  /** The Web UI, when there is one (headless servers, or a reused server whose UI port is closed, have none). */
  uiUrl: string | undefined;
  /** The server's process id; `undefined` when an already running server was reused. */
  pid: number | undefined;
  /** `true` when a Temporal server was already listening on the port and is used as it is. */
  reused: boolean;
  /** SIGTERM, then SIGKILL after the grace period; resolves once the process is gone. A no-op for a reused server. */
  stop(): Promise<void>;
}

/** The port is taken by something that does not speak Temporal's gRPC API. */
export class DevServerPortInUseError extends Error {
  override readonly name = 'DevServerPortInUseError';
  constructor(readonly port: number) {
    super(`port ${port} is in use by something that is not a Temporal server; set TEMPORAL_ADDRESS or free the port`);
  }
}

/** `temporal server start-dev` exited or did not answer in time; the message ends with its last log line. */
export class DevServerStartError extends Error {
  override readonly name = 'DevServerStartError';
}

/** The project's dev-server database: `<project root>/.jipper/dev-server.db`. */
export function defaultDbFilename(projectRoot: string = findProjectRoot()): string {
  return join(projectRoot, '.jipper', 'dev-server.db');
}

/** Starts a dev server on the port, or reuses the Temporal server already there. See {@link DevServerOptions}. */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const port = options.port ?? DEFAULT_DEV_SERVER_PORT;
  const namespace = options.namespace ?? 'default';
  const log = options.log ?? (() => undefined);
  const root = options.projectRoot ?? findProjectRoot();
  const address = `${ip}:${port}`;

  const existing = await probeTemporal({ address });
  if (existing.kind === 'other' || existing.kind === 'tls') throw new DevServerPortInUseError(port);
  if (existing.kind === 'temporal') {
    log(`Temporal dev server: reusing the server already at ${address}`);
    await withConnection({ address }, (connection) => ensureSearchAttributes(connection, namespace, log));
    const guessedUi = port + 1000;
    const uiUrl = (await tcpOpen(ip, guessedUi, 1000)) === true ? `http://${ip}:${guessedUi}` : undefined;
    return { address, uiUrl, pid: undefined, reused: true, stop: () => Promise.resolve() };
  }

  const cliPath = options.cliPath ?? (await findOrInstallTemporalCli({ projectRoot: root, log })).path;
  const uiPort = options.uiPort === undefined ? port + 1000 : options.uiPort;
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(port), '--namespace', namespace];
  args.push('--log-level', options.logLevel ?? 'warn', '--disable-config-file');
  if (uiPort === false) args.push('--headless');
  else args.push('--ui-port', String(uiPort), '--ui-disable-news-fetch');
  if (uiPort !== false && options.uiCodecEndpoint !== undefined)
    args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
  if (options.dbFilename !== undefined) {
    const dbFile = resolve(root, options.dbFilename);
    mkdirSync(dirname(dbFile), { recursive: true });
    args.push('--db-filename', dbFile);
  }
  for (const key of JIPPER_SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=${cliTypeName(key.type)}`);

  const logFile = resolve(root, options.logFile ?? join('.jipper', `dev-server-${port}.log`));
  const pidFile = join(root, '.jipper', `dev-server-${port}.pid`);
  const detached = options.detached ?? false;
  log(`Temporal dev server: starting on ${address}${uiPort === false ? ' (headless)' : `, UI on port ${uiPort}`}`);
  const child = spawnServer(cliPath, args, logFile, detached);
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  const killOnExit = (): void => void child.kill('SIGKILL');
  if (!detached) process.once('exit', killOnExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      process.removeListener('exit', killOnExit);
      await terminate(child, exited, options.stopGraceMs ?? 5_000);
      if (detached) rmSync(pidFile, { force: true });
    })();
    return stopping;
  };

  try {
    await waitUntilServing(address, child, exited, logFile, options.startTimeoutMs ?? 60_000);
    await withConnection({ address }, (connection) => ensureSearchAttributes(connection, namespace, log));
  } catch (err) {
    await stop();
    throw err;
  }
  if (detached) {
    writeFileSync(pidFile, `${child.pid}\n`);
    child.unref();
  }
  const uiUrl = uiPort === false ? undefined : `http://${ip}:${uiPort}`;
  log(`Temporal dev server: ready at ${address}${uiUrl === undefined ? '' : `, Web UI ${uiUrl}`}`);
  return { address, uiUrl, pid: child.pid, reused: false, stop };
}

/** The CLI's spelling of a search attribute type: KEYWORD → Keyword, KEYWORD_LIST → KeywordList. */
function cliTypeName(type: string): string {
  return type
    .toLowerCase()
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}

async function withConnection<T>(
  options: ProbeConnectionOptions,
  fn: (connection: Connection) => Promise<T>
): Promise<T> {
  const connection = await connectChecked(options, 10_000);
  try {
    return await fn(connection);
  } finally {
    await connection.close();
  }
}

/** Spawns the binary itself (no shell), output to the log file, so the pid is the server's and signals reach it. */
function spawnServer(cliPath: string, args: string[], logFile: string, detached: boolean): ChildProcess {
  mkdirSync(dirname(logFile), { recursive: true });
  const out = openSync(logFile, 'w');
  try {
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('TEMPORAL_')));
    return spawn(cliPath, args, { stdio: ['ignore', out, out], env, detached });
  } finally {
    closeSync(out);
  }
}

async function waitUntilServing(
  address: string,
  child: ChildProcess,
  exited: Promise<void>,
  logFile: string,
  timeoutMs: number
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let spawnError: Error | undefined;
  child.on('error', (err) => (spawnError = err));
  for (;;) {
    if (spawnError !== undefined) throw new DevServerStartError(`cannot run the Temporal CLI: ${oneLine(spawnError)}`);
    if (child.exitCode !== null || child.signalCode !== null) {
      const how = child.exitCode !== null ? `code ${child.exitCode}` : `signal ${child.signalCode}`;
      throw new DevServerStartError(`temporal server start-dev exited with ${how}: ${lastLogLine(logFile)}`);
    }
    if ((await probeTemporal({ address }, 1_000)).kind === 'temporal') return;
    if (Date.now() > deadline) {
      throw new DevServerStartError(
        `temporal server start-dev did not answer on ${address} within ${timeoutMs / 1000}s: ${lastLogLine(logFile)}`
      );
    }
    await Promise.race([exited, sleep(200)]);
  }
}

async function terminate(child: ChildProcess, exited: Promise<void>, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  child.kill('SIGTERM');
  if (await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)])) return;
  child.kill('SIGKILL');
  await exited;
}

function lastLogLine(logFile: string): string {
  try {
    const lines = readFileSync(logFile, 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '');
    return lines.pop() ?? '(no output)';
  } catch {
    return '(no output)';
  }
}

/** A timer that does not keep the process alive (a pending grace period must not delay exit). */
function sleep(ms: number): Promise<void> {
  return delay(ms, undefined, { ref: false });
}
