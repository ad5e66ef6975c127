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
import { createServer, connect as tcpConnect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { ConnectionLike, ConnectionOptions } from '@temporalio/client';
import { Connection } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { JIPPER_SEARCH_ATTRIBUTES } from '../shared/search-attributes';
import type { LogLine } from './temporal-cli';
import { findOrInstallTemporalCli, findProjectRoot, oneLine } from './temporal-cli';

/** The dev server's own default gRPC port. */
export const DEFAULT_DEV_SERVER_PORT = 7233;

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

/** A search attribute Jipper needs exists on the server with another type. */
export class SearchAttributeConflictError extends Error {
  override readonly name = 'SearchAttributeConflictError';
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
  if (existing.kind === 'other') throw new DevServerPortInUseError(port);
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

/**
 * Registers each of Jipper's search attributes (see `src/shared/search-attributes.ts`) that the namespace lacks.
 * Idempotent, and safe when several workers run it at once. Servers that do not offer the operator API (Temporal
 * Cloud manages search attributes elsewhere) are logged and skipped: `checked` is then `false`.
 *
 * @throws SearchAttributeConflictError when an attribute exists with a different type.
 */
export async function ensureSearchAttributes(
  connection: Pick<ConnectionLike, 'operatorService'>,
  namespace: string,
  log: LogLine = () => undefined
): Promise<{ added: string[]; checked: boolean }> {
  let existing: Record<string, number>;
  try {
    const response = await connection.operatorService.listSearchAttributes({ namespace });
    existing = response.customAttributes ?? {};
  } catch (err) {
    if (grpcCode(err) === GRPC_PERMISSION_DENIED || grpcCode(err) === GRPC_UNIMPLEMENTED) {
      log(`search attributes: cannot list them on this server (${oneLine(err)}); register them yourself`);
      return { added: [], checked: false };
    }
    throw err;
  }

  const missing: Record<string, number> = {};
  for (const key of JIPPER_SEARCH_ATTRIBUTES) {
    const wanted = indexedValueType(key.type);
    const found = existing[key.name];
    if (found === undefined) missing[key.name] = wanted;
    else if (found !== wanted) {
      throw new SearchAttributeConflictError(
        `search attribute ${key.name} exists in namespace ${namespace} with another type than ${key.type}; remove or rename it`
      );
    }
  }
  const added = Object.keys(missing);
  if (added.length === 0) return { added, checked: true };
  try {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
  } catch (err) {
    if (grpcCode(err) !== GRPC_ALREADY_EXISTS) throw err;
  }
  log(`search attributes: registered ${added.join(', ')} in namespace ${namespace}`);
  return { added, checked: true };
}

/** What answers at an address: a Temporal frontend, nothing at all, or something else. */
export type ProbeResult = { kind: 'temporal' } | { kind: 'closed'; reason: string } | { kind: 'other'; reason: string };

/** The connection settings {@link probeTemporal} and {@link connectChecked} use; `address` is required. */
export type ProbeConnectionOptions = Pick<ConnectionOptions, 'tls' | 'apiKey' | 'metadata'> & { address: string };

/**
 * Tells whether a Temporal frontend answers at `options.address`: `closed` when no TCP connection can be made,
 * `other` when one can but `GetSystemInfo` does not succeed within `timeoutMs` (default 3 s).
 */
export async function probeTemporal(options: ProbeConnectionOptions, timeoutMs = 3_000): Promise<ProbeResult> {
  try {
    await (await connectChecked(options, timeoutMs)).close();
    return { kind: 'temporal' };
  } catch (err) {
    return { kind: err instanceof NothingListeningError ? 'closed' : 'other', reason: oneLine(err) };
  }
}

/** No TCP connection could be made at all (refused, unresolvable, or no answer in time). */
class NothingListeningError extends Error {}

/**
 * Opens a client connection and checks the server answers `GetSystemInfo` (old servers' UNIMPLEMENTED included: the
 * SDK accepts that, and so would anything else that speaks gRPC), all within `timeoutMs`. A refused TCP connection
 * fails at once. On failure the connection is closed, so nothing keeps retrying in the background.
 */
export async function connectChecked(options: ProbeConnectionOptions, timeoutMs: number): Promise<Connection> {
  const deadline = Date.now() + timeoutMs;
  const { host, port } = splitAddress(options.address);
  const tcp = await tcpOpen(host, port, timeoutMs);
  if (tcp !== true) throw new NothingListeningError(tcp === false ? 'connection refused' : tcp);
  const connection = Connection.lazy({ ...options, connectTimeout: Math.max(deadline - Date.now(), 1) });
  try {
    await connection.ensureConnected();
    await connection.withDeadline(deadline, () => connection.workflowService.getSystemInfo({}));
    return connection;
  } catch (err) {
    await connection.close();
    throw err;
  }
}

function portIsFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.once('error', () => resolvePort(false));
    server.listen(port, host, () => server.close(() => resolvePort(true)));
  });
}

function osAssignedPort(host: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/**
 * Ports {@link freePort} picks from: below Linux's ephemeral range (32768–60999), where the OS assigns the ports of
 * outgoing connections and of listeners on port 0 — such as the dev server's own internal services, which would
 * otherwise sometimes take a port picked for its Web UI between the pick and the UI's start.
 */
const PICK_FROM = 20_000;
const PICK_TO = 32_000;

/** A port nothing listens on right now on `host` (default 127.0.0.1), outside the OS's ephemeral range if it can. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = PICK_FROM + Math.floor(Math.random() * (PICK_TO - PICK_FROM));
    if (await portIsFree(port, host)) return port;
  }
  return osAssignedPort(host);
}

/** Splits `host:port` (or `[v6]:port`); the port defaults to 7233 as in the SDK. */
export function splitAddress(address: string): { host: string; port: number } {
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(address);
  if (match?.[1] === undefined) throw new Error(`not a host:port address: ${address}`);
  const host = match[1].replace(/^\[(.*)\]$/, '$1');
  return { host, port: match[2] === undefined ? DEFAULT_DEV_SERVER_PORT : Number(match[2]) };
}

const GRPC_ALREADY_EXISTS = 6;
const GRPC_PERMISSION_DENIED = 7;
const GRPC_UNIMPLEMENTED = 12;

function grpcCode(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'number' ? err.code : undefined;
}

function indexedValueType(type: (typeof JIPPER_SEARCH_ATTRIBUTES)[number]['type']): number {
  const encoded = encodeSearchAttributeIndexedValueType(type);
  if (encoded === undefined) throw new Error(`unknown search attribute type ${type}`);
  return encoded;
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

/** `true` when a TCP connection opens, `false` when refused, else why not. */
function tcpOpen(host: string, port: number, timeoutMs: number): Promise<true | false | string> {
  return new Promise((resolveOpen) => {
    const socket = tcpConnect({ host, port });
    const done = (result: true | false | string): void => {
      socket.destroy();
      resolveOpen(result);
    };
    socket.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs / 1000}s`));
    socket.once('connect', () => done(true));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED' ? false : oneLine(err)));
  });
}

/** A timer that does not keep the process alive (a pending grace period must not delay exit). */
function sleep(ms: number): Promise<void> {
  return delay(ms, undefined, { ref: false });
}
