/**
 * The embedded Temporal dev server (`temporal server start-dev`): start one, or reuse the one already listening, and
 * make sure Jipper's search attributes exist on it. A server this project starts leaves a state file,
 * `.jipper/dev-server-<port>.json` (its pid, address, Web UI, database and log), so later commands find its Web UI and
 * `jipper dev status` / `jipper dev stop` can see and stop it.
 *
 * ```ts
 * const server = await startDevServer({ port: 7233, dbFilename: defaultDbFilename() });
 * console.log(server.address, server.uiUrl); // 127.0.0.1:7233 http://127.0.0.1:8233
 * await server.stop(); // no-op when server.reused
 * ```
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Connection } from '@temporalio/client';
import type { ProbeConnectionOptions } from '../config/connect';
import { DEFAULT_TEMPORAL_PORT, connectChecked, probeTemporal, splitAddress, tcpOpen } from '../config/connect';
import { findProjectRoot } from '../config/project';
import { ensureSearchAttributes } from '../config/search-attributes';
import { JIPPER_SEARCH_ATTRIBUTES } from '../shared/search-attributes';
import { JIPPER_DYNAMIC_CONFIG } from './dynamic-config';
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
   * memory and is lost when the server stops. {@link defaultDbFilename} is the project's usual file for a port.
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
   * Keep the server running after this process exits (its own process group, output to the log file). Default
   * `false`: the server is killed when this process exits. Either way its state file says where it is while it runs.
   */
  detached?: boolean;
  /** Where the server's output goes. Default `.jipper/dev-server-<port>.log` under the project root. */
  logFile?: string;
  /** Root for the default db, log and state files. Default: {@link findProjectRoot}. */
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
    super(
      `port ${port} is in use by something that is not a Temporal server; choose another --address or free the port`
    );
  }
}

/** What a running dev server of this project left in `.jipper/dev-server-<port>.json`. */
export interface DevServerState {
  pid: number;
  /** `host:port` of the frontend. */
  address: string;
  uiUrl?: string;
  /** The SQLite file, when it keeps state on disk. */
  dbFilename?: string;
  logFile: string;
  namespace: string;
  /** `true`: it outlives the command that started it (`jipper dev stop` ends it). */
  detached: boolean;
  startedAt: string;
}

/** `temporal server start-dev` exited or did not answer in time; the message ends with its last log line. */
export class DevServerStartError extends Error {
  override readonly name = 'DevServerStartError';
}

/** The project's dev-server database for a port: `<project root>/.jipper/dev-server-<port>.db`. */
export function defaultDbFilename(
  port: number = DEFAULT_DEV_SERVER_PORT,
  projectRoot: string = findProjectRoot()
): string {
  return join(projectRoot, '.jipper', `dev-server-${port}.db`);
}

/** Where a dev server on `port` keeps its state file. */
export function devServerStateFile(port: number, projectRoot: string = findProjectRoot()): string {
  return join(projectRoot, '.jipper', `dev-server-${port}.json`);
}

/** The state files of this project's dev servers (running or left behind by one that died), by port. */
export function readDevServerStates(projectRoot: string = findProjectRoot()): (DevServerState & { file: string })[] {
  const dir = join(projectRoot, '.jipper');
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => /^dev-server-\d+\.json$/.test(name));
  } catch {
    return [];
  }
  const states: (DevServerState & { file: string })[] = [];
  for (const name of names.sort()) {
    const file = join(dir, name);
    try {
      const state = JSON.parse(readFileSync(file, 'utf8')) as DevServerState;
      if (typeof state.pid === 'number' && typeof state.address === 'string') states.push({ ...state, file });
    } catch {
      // A file being written, or not ours: not a server.
    }
  }
  return states;
}

/** The state of this project's dev server at `address`, if it left one. */
export function devServerStateAt(address: string, projectRoot: string = findProjectRoot()): DevServerState | undefined {
  return readDevServerStates(projectRoot).find((state) => state.address === address);
}

/** Whether a process with this pid runs, and is a Temporal dev server (not another process that reused the pid). */
export function isDevServerProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('start-dev');
  } catch {
    return true; // No /proc (macOS): the pid is alive, and was the server's.
  }
}

/**
 * Stops the dev server a state file describes: SIGTERM to its process group, SIGKILL after the grace period, then
 * removes the state file. A server whose process is gone only has its state file removed.
 *
 * @returns whether a running server was stopped.
 */
export async function stopDevServerProcess(
  state: DevServerState & { file: string },
  graceMs = 5_000
): Promise<boolean> {
  const running = isDevServerProcess(state.pid);
  if (running) {
    // Timers that keep the process alive: the caller (`jipper dev stop`) has nothing else to wait for.
    const pause = () => delay(100);
    signalServer(state.pid, 'SIGTERM', state.detached);
    const deadline = Date.now() + graceMs;
    while (isDevServerProcess(state.pid) && Date.now() < deadline) await pause();
    if (isDevServerProcess(state.pid)) signalServer(state.pid, 'SIGKILL', state.detached);
    while (isDevServerProcess(state.pid) && Date.now() < deadline + 5_000) await pause();
  }
  rmSync(state.file, { force: true });
  return running;
}

/** Signals a detached server's whole process group (it leads one), else the process itself. */
function signalServer(pid: number, signal: NodeJS.Signals, group: boolean): void {
  try {
    process.kill(group ? -pid : pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // Gone already.
    }
  }
}

/** The state files of the servers this process started and that die with it: removed when it exits. */
const foregroundStateFiles = new Set<string>();
process.once('exit', () => {
  for (const file of foregroundStateFiles) rmSync(file, { force: true });
});

/** Starts a dev server on the port, or reuses the Temporal server already there. See {@link DevServerOptions}. */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const port = options.port ?? DEFAULT_DEV_SERVER_PORT;
  const namespace = options.namespace ?? 'default';
  const log = options.log ?? (() => undefined);
  const root = options.projectRoot ?? findProjectRoot();
  const address = ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;

  const existing = await probeTemporal({ address });
  if (existing.kind === 'other' || existing.kind === 'tls') throw new DevServerPortInUseError(port);
  if (existing.kind === 'temporal') {
    log(`Temporal dev server: reusing the server already at ${address}`);
    await withConnection({ address }, (connection) => ensureSearchAttributes(connection, namespace, log));
    const uiUrl = await runningUiUrl(address, root);
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
  for (const [key, value] of Object.entries(JIPPER_DYNAMIC_CONFIG)) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }

  const logFile = resolve(root, options.logFile ?? join('.jipper', `dev-server-${port}.log`));
  const stateFile = devServerStateFile(port, root);
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
      rmSync(stateFile, { force: true });
      foregroundStateFiles.delete(stateFile);
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
  const uiUrl = uiPort === false ? undefined : `http://${ip}:${uiPort}`;
  const state: DevServerState = {
    pid: child.pid as number,
    address,
    ...(uiUrl !== undefined ? { uiUrl } : {}),
    ...(options.dbFilename !== undefined ? { dbFilename: resolve(root, options.dbFilename) } : {}),
    logFile,
    namespace,
    detached,
    startedAt: new Date().toISOString(),
  };
  mkdirSync(dirname(stateFile), { recursive: true });
  writeFileSync(stateFile, `${JSON.stringify(state, null, 2)}\n`);
  if (detached) child.unref();
  else foregroundStateFiles.add(stateFile);
  log(`Temporal dev server: ready at ${address}${uiUrl === undefined ? '' : `, Web UI ${uiUrl}`}`);
  return { address, uiUrl, pid: child.pid, reused: false, stop };
}

/**
 * The Web UI of the Temporal server running at `address`: the one its state file names when this project started it,
 * else the dev server's usual `port + 1000` when something listens there, else none.
 */
export async function runningUiUrl(
  address: string,
  projectRoot: string = findProjectRoot()
): Promise<string | undefined> {
  const state = devServerStateAt(address, projectRoot);
  if (state && isDevServerProcess(state.pid)) return state.uiUrl;
  const { host, port } = splitAddress(address);
  const guessed = port + 1000;
  if (guessed > 65535) return undefined;
  const uiHost = host.includes(':') ? `[${host}]` : host;
  return (await tcpOpen(host, guessed, 1000)) === true ? `http://${uiHost}:${guessed}` : undefined;
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
