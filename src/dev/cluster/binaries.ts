/**
 * The Temporal server, its SQL tool and the Web UI server, built from the Go module proxy with `go install` and kept
 * under `.jipper/temporal-server/<version>/` (never committed). A second copy under the shared cache
 * (`~/.cache/jipper`, see settings.ts) lets a clean checkout on the same machine skip the build.
 *
 * The server's PostgreSQL schemas and its embedded config template ship inside its Go module; they are copied next to
 * the binaries, so the cluster does not depend on the module cache staying put.
 *
 * Order: the checkout's copy, then the shared cache, then a build (about 4–8 minutes on 2 cores with a cold module
 * cache, a minute or two with a warm one).
 */
import { execFile } from 'node:child_process';
import { chmodSync, cpSync, existsSync, linkSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { LogLine } from '../../shared/text';
import { TEMPORAL_SERVER_VERSION, TEMPORAL_UI_SERVER_VERSION } from './settings';

const SERVER_MODULE = 'go.temporal.io/server';
const UI_MODULE = 'github.com/temporalio/ui-server/v2';
/** A build that takes longer is stopped. 4–8 minutes on 2 idle cores; 40 minutes was seen not to be enough on 2 cores
 * shared with a load average of 20. */
const BUILD_TIMEOUT_MS = 90 * 60_000;
const COMPLETE = '.complete';

export interface ServerBinaries {
  version: string;
  dir: string;
  /** `temporal-server` (`go.temporal.io/server/cmd/server`). */
  server: string;
  /** `temporal-sql-tool` (`go.temporal.io/server/cmd/tools/sql`). */
  sqlTool: string;
  /** `schema/postgresql/v12` from the module: `temporal/versioned` and `visibility/versioned`. */
  schemaDir: string;
  /** The config template the server renders from environment variables when started without a config file. */
  configTemplate: string;
  source: 'checkout' | 'shared cache' | 'built';
}

export interface UiBinary {
  version: string;
  path: string;
  source: 'checkout' | 'shared cache' | 'built';
}

/** Go is missing, too old, or the build failed; the message is one line with what to do. */
export class ServerBuildError extends Error {
  override readonly name = 'ServerBuildError';
}

interface Located {
  dir: string;
  source: ServerBinaries['source'];
}

/** Finds or builds the server binaries of {@link TEMPORAL_SERVER_VERSION}. */
export async function ensureServerBinaries(
  binDir: string,
  sharedCacheDir: string | undefined,
  log: LogLine
): Promise<ServerBinaries> {
  const name = `server-${TEMPORAL_SERVER_VERSION}`;
  const { dir, source } = await locate(binDir, sharedCacheDir, name, log, async (scratch) => {
    log(`Temporal server ${TEMPORAL_SERVER_VERSION}: building with go install (4–8 minutes with a cold Go cache)`);
    const started = Date.now();
    await goInstall(scratch, [
      `${SERVER_MODULE}/cmd/server@${TEMPORAL_SERVER_VERSION}`,
      `${SERVER_MODULE}/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}`,
    ]);
    renameSync(join(scratch, 'server'), join(scratch, 'temporal-server'));
    renameSync(join(scratch, 'sql'), join(scratch, 'temporal-sql-tool'));
    const moduleDir = await goModuleDir(SERVER_MODULE, TEMPORAL_SERVER_VERSION);
    copyWritable(join(moduleDir, 'schema', 'postgresql', 'v12'), join(scratch, 'schema', 'postgresql', 'v12'));
    copyWritable(
      join(moduleDir, 'common', 'config', 'config_template_embedded.yaml'),
      join(scratch, 'config_template_embedded.yaml')
    );
    log(`Temporal server ${TEMPORAL_SERVER_VERSION}: built in ${Math.round((Date.now() - started) / 1000)} s`);
  });
  return {
    version: TEMPORAL_SERVER_VERSION,
    dir,
    server: join(dir, 'temporal-server'),
    sqlTool: join(dir, 'temporal-sql-tool'),
    schemaDir: join(dir, 'schema', 'postgresql', 'v12'),
    configTemplate: join(dir, 'config_template_embedded.yaml'),
    source,
  };
}

/** The checkout's copy of the Web UI server, if it has been built (`JIPPER_CLUSTER_UI=build` builds it). */
export function builtUiServer(binDir: string): UiBinary | undefined {
  const dir = join(binDir, `ui-${TEMPORAL_UI_SERVER_VERSION}`);
  if (!existsSync(join(dir, COMPLETE))) return undefined;
  return { version: TEMPORAL_UI_SERVER_VERSION, path: join(dir, 'temporal-ui-server'), source: 'checkout' };
}

/** Finds or builds the Web UI server (`github.com/temporalio/ui-server/v2/cmd/server`, the UI assets embedded). */
export async function ensureUiServer(
  binDir: string,
  sharedCacheDir: string | undefined,
  log: LogLine
): Promise<UiBinary> {
  const { dir, source } = await locate(
    binDir,
    sharedCacheDir,
    `ui-${TEMPORAL_UI_SERVER_VERSION}`,
    log,
    async (scratch) => {
      log(`Temporal Web UI ${TEMPORAL_UI_SERVER_VERSION}: building with go install`);
      await goInstall(scratch, [`${UI_MODULE}/cmd/server@${TEMPORAL_UI_SERVER_VERSION}`]);
      renameSync(join(scratch, 'server'), join(scratch, 'temporal-ui-server'));
    }
  );
  return { version: TEMPORAL_UI_SERVER_VERSION, path: join(dir, 'temporal-ui-server'), source };
}

/**
 * `<binDir>/<name>` when complete; else a copy of `<shared>/temporal-server/<name>`; else `build` into a scratch
 * directory that is renamed into place once complete (an interrupted build leaves no half-made copy behind).
 */
async function locate(
  binDir: string,
  sharedCacheDir: string | undefined,
  name: string,
  log: LogLine,
  build: (scratch: string) => Promise<void>
): Promise<Located> {
  const dir = join(binDir, name);
  if (existsSync(join(dir, COMPLETE))) return { dir, source: 'checkout' };
  const shared = sharedCacheDir === undefined ? undefined : join(sharedCacheDir, 'temporal-server', name);
  mkdirSync(binDir, { recursive: true });
  const scratch = join(binDir, `.${name}.${process.pid}.tmp`);
  rmSync(scratch, { recursive: true, force: true });
  let source: Located['source'];
  if (shared !== undefined && existsSync(join(shared, COMPLETE))) {
    log(`${name}: copying from the shared cache ${shared}`);
    linkOrCopyTree(shared, scratch);
    source = 'shared cache';
  } else {
    mkdirSync(scratch, { recursive: true });
    try {
      await build(scratch);
    } catch (err) {
      rmSync(scratch, { recursive: true, force: true });
      throw err;
    }
    writeFileSync(join(scratch, COMPLETE), `${new Date().toISOString()}\n`);
    source = 'built';
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(scratch, dir);
  if (source === 'built' && shared !== undefined) {
    try {
      const sharedScratch = `${shared}.${process.pid}.tmp`;
      rmSync(sharedScratch, { recursive: true, force: true });
      linkOrCopyTree(dir, sharedScratch);
      rmSync(shared, { recursive: true, force: true });
      renameSync(sharedScratch, shared);
      log(`${name}: kept a copy in the shared cache ${shared}`);
    } catch (err) {
      log(`${name}: could not keep a copy in the shared cache ${shared} (${String(err).split('\n')[0]})`);
    }
  }
  return { dir, source };
}

/** Hard links where the two trees share a filesystem (no extra 270 MB), copies otherwise. */
function linkOrCopyTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) linkOrCopyTree(source, target);
    else {
      try {
        linkSync(source, target);
      } catch {
        cpSync(source, target);
      }
    }
  }
}

/** Copies out of the module cache (read-only files and directories) into a tree this user can delete. */
function copyWritable(from: string, to: string): void {
  cpSync(from, to, { recursive: true });
  const makeWritable = (path: string): void => {
    const stat = statSync(path);
    chmodSync(path, stat.mode | 0o200);
    if (stat.isDirectory()) for (const entry of readdirSync(path)) makeWritable(join(path, entry));
  };
  makeWritable(to);
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      command,
      args,
      { env, timeout: BUILD_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
          const tail = stderr
            .trim()
            .split('\n')
            .filter((line) => !line.startsWith('go: downloading '))
            .slice(-3)
            .join(' | ');
          const why = missing
            ? `\`${command}\` is not installed: the Temporal server is built with Go (${TEMPORAL_SERVER_VERSION} asks for Go 1.26.8 or later)`
            : error.killed
              ? `${command} ${args.join(' ')} did not finish in ${BUILD_TIMEOUT_MS / 60_000} minutes and was stopped`
              : `${command} ${args.join(' ')} failed: ${tail || error.message}`;
          reject(new ServerBuildError(why));
          return;
        }
        resolvePromise(stdout);
      }
    );
  });
}

async function goInstall(gobin: string, packages: string[]): Promise<void> {
  await run('go', ['install', ...packages], { ...process.env, CGO_ENABLED: '0', GOBIN: gobin });
}

const downloadSchema = z.object({ Dir: z.string().optional(), Error: z.string().optional() });

/** Where the Go module cache holds `module@version` (downloaded if needed). */
async function goModuleDir(module: string, version: string): Promise<string> {
  const out = await run('go', ['mod', 'download', '-json', `${module}@${version}`], process.env);
  const parsed = downloadSchema.parse(JSON.parse(out));
  if (parsed.Dir === undefined) throw new ServerBuildError(`go mod download ${module}@${version}: ${parsed.Error}`);
  return parsed.Dir;
}
