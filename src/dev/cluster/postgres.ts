/**
 * The cluster's own PostgreSQL: Debian's binaries (installed with apt-get when missing and this runs as root), a data
 * directory under the cluster directory, its own port, listening on 127.0.0.1 and a Unix socket in the data directory.
 *
 * `initdb` refuses to run as root, so as root every PostgreSQL command runs as the `postgres` user (`runuser`), on a
 * data directory that user owns; as anyone else they run as that user.
 */
import { execFile } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  statSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { LogLine } from '../../shared/text';

/** The role Temporal connects as. A throwaway local cluster: password auth is not the point here. */
export const TEMPORAL_DB_USER = 'temporal';
export const TEMPORAL_DB_PASSWORD = 'temporal';

export class PostgresError extends Error {
  override readonly name = 'PostgresError';
}

export interface Postgres {
  binDir: string;
  dataDir: string;
  port: number;
  logFile: string;
}

const PG_ROOT = '/usr/lib/postgresql';
const isRoot = (): boolean => process.getuid?.() === 0;

/** The newest `/usr/lib/postgresql/<major>/bin` with pg_ctl, or undefined. */
export function findPostgresBin(): string | undefined {
  if (!existsSync(PG_ROOT)) return undefined;
  const majors = readdirSync(PG_ROOT)
    .filter((v) => /^\d+$/.test(v) && existsSync(join(PG_ROOT, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return majors[0] === undefined ? undefined : join(PG_ROOT, majors[0], 'bin');
}

function run(
  command: string,
  args: string[],
  options: { asPostgres?: boolean; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}
): Promise<{ code: number; stdout: string; stderr: string }> {
  const [file, argv] =
    options.asPostgres && isRoot() ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
  return new Promise((resolvePromise, reject) => {
    execFile(
      file,
      argv,
      { timeout: options.timeoutMs ?? 120_000, env: options.env ?? process.env, cwd: '/' },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(new PostgresError(`${command} ${args.join(' ')}: ${error.message}`));
          return;
        }
        resolvePromise({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
      }
    );
  });
}

async function runOk(command: string, args: string[], options: Parameters<typeof run>[2] = {}): Promise<string> {
  const result = await run(command, args, options);
  if (result.code !== 0) {
    const why = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-3).join(' | ');
    throw new PostgresError(`${command.split('/').pop()} ${args.slice(0, 2).join(' ')} exited ${result.code}: ${why}`);
  }
  return result.stdout;
}

/** Finds PostgreSQL, installing Debian's package when it is missing and this runs as root. */
export async function ensurePostgresInstalled(log: LogLine): Promise<string> {
  const found = findPostgresBin();
  if (found !== undefined) return found;
  if (!isRoot()) {
    throw new PostgresError(
      'PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/pg_ctl): apt-get install postgresql'
    );
  }
  log('PostgreSQL: not installed; apt-get install postgresql');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await runOk('apt-get', ['update'], { timeoutMs: 600_000, env });
  await runOk('apt-get', ['install', '-y', '--no-install-recommends', 'postgresql'], { timeoutMs: 900_000, env });
  const installed = findPostgresBin();
  if (installed === undefined) throw new PostgresError('apt-get installed postgresql but no pg_ctl was found');
  return installed;
}

export function postgresAt(binDir: string, clusterDir: string, port: number): Postgres {
  return { binDir, dataDir: join(clusterDir, 'postgres'), port, logFile: join(clusterDir, 'logs', 'postgres.log') };
}

/**
 * Creates the data directory (initdb, trust auth on loopback and the socket) unless it exists. `ours` is the directory
 * (the project) under which directories may be made traversable for the postgres user.
 */
export async function initPostgres(pg: Postgres, ours: string, log: LogLine): Promise<boolean> {
  if (existsSync(join(pg.dataDir, 'PG_VERSION'))) return false;
  // Parents stay traversable for the postgres user; only the data directory itself is private.
  mkdirSync(join(pg.dataDir, '..'), { recursive: true });
  mkdirSync(pg.dataDir, { mode: 0o700 });
  mkdirSync(join(pg.logFile, '..'), { recursive: true });
  if (isRoot()) {
    const { uid, gid } = postgresUser();
    chownSync(pg.dataDir, uid, gid);
    letPostgresThrough(join(pg.dataDir, '..'), ours);
  }
  log(`PostgreSQL: initdb ${pg.dataDir}`);
  await runOk(join(pg.binDir, 'initdb'), ['-D', pg.dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8'], {
    asPostgres: true,
  });
  return true;
}

/**
 * The postgres user must traverse every directory above its data directory. Those inside `ours` (the project) that
 * lack the search bit for others (a `.jipper` made private by some tool) get it; one outside that lacks it is an error
 * naming it, rather than a change to a directory that is not the project's.
 */
function letPostgresThrough(dir: string, ours: string): void {
  for (let current = dir; ; current = dirname(current)) {
    const mode = statSync(current).mode;
    if ((mode & 0o001) === 0) {
      if (current !== ours && !current.startsWith(`${ours}/`)) {
        throw new PostgresError(
          `the postgres user cannot reach ${dir}: ${current} is private; set JIPPER_CLUSTER_DIR to a directory it can reach`
        );
      }
      chmodSync(current, mode | 0o001);
    }
    if (dirname(current) === current) return;
  }
}

function postgresUser(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) throw new PostgresError('there is no postgres user to run PostgreSQL as');
  return { uid: Number(uid), gid: Number(gid) };
}

/** The log file must be writable by the postgres user: pg_ctl opens it as that user. */
function prepareLog(pg: Postgres): void {
  mkdirSync(join(pg.logFile, '..'), { recursive: true });
  closeSync(openSync(pg.logFile, 'a'));
  if (isRoot()) {
    const { uid, gid } = postgresUser();
    chownSync(pg.logFile, uid, gid);
  }
}

export async function postgresRunning(pg: Pick<Postgres, 'binDir' | 'dataDir'>): Promise<boolean> {
  if (!existsSync(join(pg.dataDir, 'PG_VERSION'))) return false;
  return (await run(join(pg.binDir, 'pg_ctl'), ['-D', pg.dataDir, 'status'], { asPostgres: true })).code === 0;
}

/** The postmaster's pid, from `postmaster.pid`, or undefined. */
export function postmasterPid(pg: Pick<Postgres, 'dataDir'>): number | undefined {
  try {
    const pid = Number(readFileSync(join(pg.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Starts the server (no-op when it runs) and waits until it accepts connections. */
export async function startPostgres(pg: Postgres, log: LogLine): Promise<void> {
  if (await postgresRunning(pg)) return;
  prepareLog(pg);
  const options = [
    `-p ${pg.port}`,
    `-k ${pg.dataDir}`,
    '-c listen_addresses=127.0.0.1',
    // Five Temporal processes with two pools each (default and visibility stores).
    '-c max_connections=300',
  ].join(' ');
  log(`PostgreSQL: starting on 127.0.0.1:${pg.port}`);
  await runOk(
    join(pg.binDir, 'pg_ctl'),
    ['-D', pg.dataDir, '-o', options, '-l', pg.logFile, '-w', '-t', '60', 'start'],
    {
      asPostgres: true,
    }
  );
}

/** `fast` (clients disconnected, clean shutdown) or `immediate` (no checkpoint: a crash, recovered at next start). */
export async function stopPostgres(pg: Postgres, mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
  if (!(await postgresRunning(pg))) return;
  await runOk(join(pg.binDir, 'pg_ctl'), ['-D', pg.dataDir, '-m', mode, '-w', '-t', '60', 'stop'], {
    asPostgres: true,
  });
}

/** Runs SQL as the superuser over the Unix socket in the data directory. */
export async function psql(pg: Postgres, sql: string, database = 'postgres'): Promise<string> {
  const args = ['-h', pg.dataDir, '-p', String(pg.port), '-U', 'postgres', '-d', database, '-Atc', sql];
  return runOk(join(pg.binDir, 'psql'), args, { asPostgres: true });
}

/** Creates Temporal's role (a superuser: the SQL tool creates the databases) unless it exists. */
export async function ensureTemporalRole(pg: Postgres): Promise<void> {
  const exists = await psql(pg, `SELECT 1 FROM pg_roles WHERE rolname = '${TEMPORAL_DB_USER}'`);
  if (exists.trim() === '1') return;
  await psql(pg, `CREATE USER ${TEMPORAL_DB_USER} WITH PASSWORD '${TEMPORAL_DB_PASSWORD}' SUPERUSER`);
}
