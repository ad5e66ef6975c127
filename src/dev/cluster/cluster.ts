/**
 * A Temporal cluster on this machine: PostgreSQL, then the server's frontend, history (one process per history host),
 * matching and internal-worker services as separate processes, the `default` namespace with Jipper's search
 * attributes, and the Web UI when it has been built. Everything listens on 127.0.0.1.
 *
 * ```ts
 * const settings = clusterSettings();
 * const status = await clusterUp(settings, console.log); // builds the server the first time
 * console.log(status.address);                           // 127.0.0.1:17200
 * await clusterDown(settings, console.log);
 * ```
 *
 * `up` is idempotent: what already runs is kept. Processes are detached and tracked by pid files under
 * `<cluster dir>/run`, so `down` and `status` work from another process.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { stringify } from 'yaml';
import { ensureSearchAttributes } from '../../config/search-attributes';
import type { LogLine } from '../../shared/text';
import { oneLine } from '../../shared/text';
import type { ServerBinaries, UiBinary } from './binaries';
import { builtUiServer, ensureServerBinaries, ensureUiServer } from './binaries';
import type { Postgres } from './postgres';
import {
  TEMPORAL_DB_PASSWORD,
  TEMPORAL_DB_USER,
  ensurePostgresInstalled,
  ensureTemporalRole,
  findPostgresBin,
  initPostgres,
  postgresAt,
  postgresRunning,
  postmasterPid,
  psql,
  startPostgres,
  stopPostgres,
} from './postgres';
import type { ManagedProcess } from './processes';
import { isRunning, logTail, readPidFile, startProcess, stopProcess, tcpOpen, waitForPort } from './processes';
import type { ServiceProcessSpec } from './server-env';
import { renderDynamicConfig, serverArgs, serverEnvironment, serviceProcesses } from './server-env';
import type { ClusterSettings } from './settings';

export const CLUSTER_NAMESPACE = 'default';
const UI_NAME = 'ui';
const SERVICE_START_TIMEOUT_MS = 120_000;

export interface ComponentStatus {
  name: string;
  pid: number | undefined;
  running: boolean;
  /** The port it serves on (gRPC for Temporal's services). */
  port: number;
  listening: boolean;
  logFile: string | undefined;
}

export interface ClusterStatus {
  address: string;
  uiUrl: string | undefined;
  postgres: ComponentStatus;
  services: ComponentStatus[];
  ui: ComponentStatus | undefined;
  /** Every component runs and listens. */
  healthy: boolean;
}

interface Paths {
  runDir: string;
  logDir: string;
  dynamicConfig: string;
}

function paths(settings: ClusterSettings): Paths {
  return {
    runDir: join(settings.dir, 'run'),
    logDir: join(settings.dir, 'logs'),
    dynamicConfig: join(settings.dir, 'dynamicconfig.yaml'),
  };
}

/** The PostgreSQL of this cluster, or undefined when PostgreSQL is not installed. */
export function clusterPostgres(settings: ClusterSettings): Postgres | undefined {
  const bin = findPostgresBin();
  return bin === undefined ? undefined : postgresAt(bin, settings.dir, settings.ports.postgres);
}

/** Starts whatever of the cluster is not running (building the server first if needed), and sets it up. */
export async function clusterUp(settings: ClusterSettings, log: LogLine): Promise<ClusterStatus> {
  const binaries = await ensureServerBinaries(settings.binDir, settings.sharedCacheDir, log);
  log(`Temporal server ${binaries.version} (${binaries.source}): ${binaries.server}`);
  const ui =
    settings.ui === 'build'
      ? await ensureUiServer(settings.binDir, settings.sharedCacheDir, log)
      : settings.ui === 'auto'
        ? builtUiServer(settings.binDir)
        : undefined;

  const pg = postgresAt(await ensurePostgresInstalled(log), settings.dir, settings.ports.postgres);
  await initPostgres(pg, settings.projectRoot, log);
  await startPostgres(pg, log);
  await ensureTemporalRole(pg);
  await setupSchemas(binaries, pg, log);

  const p = paths(settings);
  mkdirSync(settings.dir, { recursive: true });
  writeFileSync(p.dynamicConfig, renderDynamicConfig(settings.dynamicConfigFile));
  const started: ManagedProcess[] = [];
  const [first, ...rest] = serviceProcesses(settings);
  for (const spec of [first, ...rest]) {
    if (spec === undefined) continue;
    const running = readPidFile(p.runDir, spec.name);
    if (running !== undefined && isRunning(running)) continue;
    const proc = startService(settings, binaries, spec);
    started.push(proc);
    // On a new database every service writes the cluster's metadata when it starts, and the ones that lose the race
    // exit on a duplicate key: the first service initialises it alone, the others start once it listens.
    if (spec === first) await waitForPort(proc, spec.ports.grpc, SERVICE_START_TIMEOUT_MS);
  }
  if (started.length > 0) log(`Temporal: started ${started.map((s) => `${s.name} (pid ${s.pid})`).join(', ')}`);
  for (const spec of serviceProcesses(settings)) {
    const proc = readPidFile(p.runDir, spec.name);
    if (proc !== undefined) await waitForPort(proc, spec.ports.grpc, SERVICE_START_TIMEOUT_MS);
  }
  await setupNamespace(settings.address, log);

  if (ui !== undefined) await startUi(settings, ui, log);
  const status = await clusterStatus(settings);
  log(`Temporal cluster: frontend ${status.address}${status.uiUrl === undefined ? '' : `, Web UI ${status.uiUrl}`}`);
  return status;
}

function startService(settings: ClusterSettings, binaries: ServerBinaries, spec: ServiceProcessSpec): ManagedProcess {
  const p = paths(settings);
  return startProcess({
    runDir: p.runDir,
    logDir: p.logDir,
    name: spec.name,
    binary: binaries.server,
    args: serverArgs(spec.service),
    env: serverEnvironment(settings, spec, p.dynamicConfig),
    cwd: settings.dir,
  });
}

/** Stops the UI, the Temporal services (SIGTERM, then SIGKILL after a grace period) and PostgreSQL. */
export async function clusterDown(settings: ClusterSettings, log: LogLine): Promise<void> {
  const p = paths(settings);
  const names = [UI_NAME, ...serviceProcesses(settings).map((s) => s.name)];
  await Promise.all(
    names.map(async (name) => {
      const proc = readPidFile(p.runDir, name);
      if (proc === undefined) return;
      const wasRunning = isRunning(proc);
      await stopProcess(p.runDir, proc);
      if (wasRunning) log(`stopped ${name} (pid ${proc.pid})`);
    })
  );
  const pg = clusterPostgres(settings);
  if (pg !== undefined && (await postgresRunning(pg))) {
    await stopPostgres(pg, 'fast');
    log(`stopped PostgreSQL (${pg.dataDir})`);
  }
}

export async function clusterStatus(settings: ClusterSettings): Promise<ClusterStatus> {
  const p = paths(settings);
  const component = async (name: string, port: number): Promise<ComponentStatus> => {
    const proc = readPidFile(p.runDir, name);
    const running = proc !== undefined && isRunning(proc);
    return {
      name,
      pid: running ? proc.pid : undefined,
      running,
      port,
      listening: await tcpOpen(port),
      logFile: proc?.logFile,
    };
  };
  const pg = clusterPostgres(settings);
  const pgRunning = pg !== undefined && (await postgresRunning(pg));
  const postgres: ComponentStatus = {
    name: 'postgres',
    pid: pgRunning && pg !== undefined ? postmasterPid(pg) : undefined,
    running: pgRunning,
    port: settings.ports.postgres,
    listening: await tcpOpen(settings.ports.postgres),
    logFile: pg?.logFile,
  };
  const services = await Promise.all(serviceProcesses(settings).map((s) => component(s.name, s.ports.grpc)));
  const uiProc = readPidFile(p.runDir, UI_NAME);
  const ui = uiProc === undefined ? undefined : await component(UI_NAME, settings.ports.ui);
  const all = [postgres, ...services, ...(ui ? [ui] : [])];
  return {
    address: settings.address,
    uiUrl: ui?.running ? `http://127.0.0.1:${settings.ports.ui}` : undefined,
    postgres,
    services,
    ui,
    healthy: all.every((c) => c.running && c.listening),
  };
}

/** The running process of a service (`frontend`, `history-1`, ..., `ui`), as its pid file names it. */
export function serviceProcess(settings: ClusterSettings, name: string): ManagedProcess | undefined {
  const proc = readPidFile(paths(settings).runDir, name);
  return proc !== undefined && isRunning(proc) ? proc : undefined;
}

/** Signals one service (default SIGKILL: a crash) and waits for it to be gone. */
export async function killService(
  settings: ClusterSettings,
  name: string,
  signal: NodeJS.Signals = 'SIGKILL'
): Promise<void> {
  const proc = readPidFile(paths(settings).runDir, name);
  if (proc === undefined) throw new Error(`no pid file for ${name}: is the cluster up?`);
  await stopProcess(paths(settings).runDir, proc, signal, 0);
}

/** Starts one service again (after {@link killService}) and waits for its port. */
export async function restartService(settings: ClusterSettings, name: string): Promise<ManagedProcess> {
  const spec = serviceProcesses(settings).find((s) => s.name === name);
  if (spec === undefined) throw new Error(`no service ${name}`);
  const binaries = await ensureServerBinaries(settings.binDir, settings.sharedCacheDir, () => undefined);
  const proc = startService(settings, binaries, spec);
  await waitForPort(proc, spec.ports.grpc, SERVICE_START_TIMEOUT_MS);
  return proc;
}

/** Stops PostgreSQL (`immediate`: no checkpoint, as a crash) and starts it again. */
export async function restartClusterPostgres(
  settings: ClusterSettings,
  mode: 'fast' | 'immediate',
  downMs = 0
): Promise<void> {
  const pg = clusterPostgres(settings);
  if (pg === undefined) throw new Error('PostgreSQL is not installed');
  await stopPostgres(pg, mode);
  if (downMs > 0) await delay(downMs);
  await startPostgres(pg, () => undefined);
}

async function sqlTool(binaries: ServerBinaries, pg: Postgres, args: string[]): Promise<{ code: number; out: string }> {
  const env = {
    ...process.env,
    SQL_PLUGIN: 'postgres12',
    SQL_HOST: '127.0.0.1',
    SQL_PORT: String(pg.port),
    SQL_USER: TEMPORAL_DB_USER,
    SQL_PASSWORD: TEMPORAL_DB_PASSWORD,
  };
  return new Promise((resolveRun, reject) => {
    execFile(binaries.sqlTool, args, { env, timeout: 300_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') reject(new Error(`temporal-sql-tool: ${error.message}`));
      else resolveRun({ code: typeof error?.code === 'number' ? error.code : 0, out: `${stdout}${stderr}` });
    });
  });
}

/** Creates both databases, sets up the base schema where there is none, and migrates to the binary's version. */
async function setupSchemas(binaries: ServerBinaries, pg: Postgres, log: LogLine): Promise<void> {
  for (const [db, dir] of [
    ['temporal', 'temporal'],
    ['temporal_visibility', 'visibility'],
  ] as const) {
    const exists = (await psql(pg, `SELECT 1 FROM pg_database WHERE datname = '${db}'`)).trim() === '1';
    if (!exists) {
      log(`PostgreSQL: creating database ${db}`);
      await sqlToolOk(binaries, pg, ['--db', db, 'create-database']);
    }
    const hasSchema =
      (
        await psql(
          pg,
          `SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename = 'schema_version'`,
          db
        )
      ).trim() === '1';
    if (!hasSchema) await sqlToolOk(binaries, pg, ['--db', db, 'setup-schema', '-v', '0.0']);
    await sqlToolOk(binaries, pg, ['--db', db, 'update-schema', '-d', join(binaries.schemaDir, dir, 'versioned')]);
  }
}

async function sqlToolOk(binaries: ServerBinaries, pg: Postgres, args: string[]): Promise<void> {
  const { code, out } = await sqlTool(binaries, pg, args);
  if (code !== 0) {
    throw new Error(
      `temporal-sql-tool ${args.join(' ')} exited ${code}: ${out.trim().split('\n').slice(-3).join(' | ')}`
    );
  }
}

/**
 * Registers the namespace (retrying while the frontend warms up), waits until it can be described, and registers
 * Jipper's search attributes on it.
 */
export async function setupNamespace(address: string, log: LogLine, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({ address, connectTimeout: 5_000 });
      try {
        await connection.workflowService.registerNamespace({
          namespace: CLUSTER_NAMESPACE,
          workflowExecutionRetentionPeriod: msToTs('3 days'),
        });
        log(`namespace ${CLUSTER_NAMESPACE}: registered`);
      } catch (err) {
        if ((err as { code?: number }).code !== GRPC_ALREADY_EXISTS) throw err;
      }
      await connection.workflowService.describeNamespace({ namespace: CLUSTER_NAMESPACE });
      await ensureSearchAttributes(connection, CLUSTER_NAMESPACE, log);
      return;
    } catch (err) {
      lastError = err;
      await delay(1_000);
    } finally {
      await connection?.close();
    }
  }
  throw new Error(`the cluster at ${address} did not accept the namespace setup: ${oneLine(lastError)}`);
}

const GRPC_ALREADY_EXISTS = 6;

async function startUi(settings: ClusterSettings, ui: UiBinary, log: LogLine): Promise<void> {
  const p = paths(settings);
  const running = readPidFile(p.runDir, UI_NAME);
  if (running !== undefined && isRunning(running)) return;
  const configDir = join(settings.dir, 'ui-config');
  mkdirSync(configDir, { recursive: true });
  writeFileSync(
    join(configDir, 'development.yaml'),
    stringify({
      temporalGrpcAddress: settings.address,
      host: '127.0.0.1',
      port: settings.ports.ui,
      enableUi: true,
      defaultNamespace: CLUSTER_NAMESPACE,
      disableNewsFetch: true,
      cors: { allowOrigins: [`http://127.0.0.1:${settings.ports.ui}`], cookieInsecure: true },
    })
  );
  const proc = startProcess({
    runDir: p.runDir,
    logDir: p.logDir,
    name: UI_NAME,
    binary: ui.path,
    args: ['--root', settings.dir, '--config', 'ui-config', '--env', 'development', 'start'],
    env: {},
    cwd: settings.dir,
  });
  try {
    await waitForPort(proc, settings.ports.ui, 60_000);
  } catch (err) {
    log(`Web UI did not start: ${oneLine(err)}; ${logTail(proc.logFile, 2)}`);
    return;
  }
  log(`Web UI ${ui.version} (${ui.source}): http://127.0.0.1:${settings.ports.ui} (pid ${proc.pid})`);
}
