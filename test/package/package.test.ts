/**
 * Jipper in a team's own project, from the tarball: `npm pack`, install it into a fresh project outside this
 * repository, `jipper init`, type-check the scaffold, run a worker and two processes from the scaffolded YAML against
 * a dev server on a port this test chose (one succeeds, one is reverted), see and stop that server with `jipper dev
 * status` / `jipper dev stop`, and run the scaffolded tests — failure matrix included — green.
 *
 * Nothing of this repository is on the module path of the project: it has its own node_modules, PATH is stripped of
 * this repository's folders, NODE_PATH is unset. Only the Temporal CLI binary is shared (TEMPORAL_CLI_PATH), so the
 * project does not download it again; the npm cache is the machine's, so installs reuse it.
 */
import type { ChildProcess } from 'node:child_process';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { probeTemporal } from '../../src/config/connect';
import { freePort } from '../../src/dev/ports';
import { findOrInstallTemporalCli } from '../../src/dev/temporal-cli';

const REPO = resolve(__dirname, '..', '..');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

let work: string;
let app: string;
let env: NodeJS.ProcessEnv;
let worker: ChildProcess | undefined;
const timings: Record<string, number> = {};

/** Runs a command in the project; resolves with its exit code and output (never rejects on a non-zero exit). */
function sh(command: string, args: string[], options: { timeoutMs?: number } = {}): Promise<Result> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      command,
      args,
      { cwd: app, env, timeout: options.timeoutMs ?? 5 * 60_000, maxBuffer: 64 * 1024 * 1024, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(new Error(`${command} ${args.join(' ')}: ${error.message}\n${stdout}\n${stderr}`));
          return;
        }
        resolvePromise({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
      }
    );
  });
}

/** Runs a command and fails the test (with its output) unless it exits 0. */
async function ok(command: string, args: string[], options: { timeoutMs?: number } = {}): Promise<Result> {
  const started = Date.now();
  const result = await sh(command, args, options);
  timings[`${command} ${args.slice(0, 2).join(' ')}`] = Date.now() - started;
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
  }
  return result;
}

beforeAll(async () => {
  const cli = await findOrInstallTemporalCli();
  work = mkdtempSync(join(tmpdir(), 'jipper-package-'));
  app = join(work, 'team-app');
  expect(realpathSync(work).startsWith(realpathSync(REPO))).toBe(false);
  const path = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => dir !== '' && !resolve(dir).startsWith(REPO))
    .join(delimiter);
  env = {
    PATH: path,
    HOME: process.env.HOME,
    TMPDIR: process.env.TMPDIR,
    // The machine's npm cache (and registry settings), so the project's installs reuse what is already downloaded.
    npm_config_cache: process.env.npm_config_cache,
    npm_config_registry: process.env.npm_config_registry,
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    TEMPORAL_CLI_PATH: cli.path,
    NO_COLOR: '1',
    CI: process.env.CI,
  };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
});

/** Stops the worker (SIGTERM: it shuts down) and waits until it is gone. */
async function stopWorker(): Promise<void> {
  const running = worker;
  worker = undefined;
  if (!running || running.exitCode !== null || running.signalCode !== null) return;
  const exited = new Promise((r) => running.once('exit', r));
  running.kill('SIGTERM');
  const timer = setTimeout(() => running.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

afterAll(async () => {
  await stopWorker();
  if (app && existsSync(join(app, 'node_modules', '.bin', 'jipper'))) {
    await sh('npx', ['jipper', 'dev', 'stop', '--all']).catch(() => undefined);
  }
  if (work) rmSync(work, { recursive: true, force: true });
  console.log(`[package test] timings (ms): ${JSON.stringify(timings)}`);
});

test('a team installs the tarball, scaffolds, runs a process both ways, and its scaffolded tests pass', async () => {
  // 1. The package: a tarball with what a user needs and nothing dev-only.
  const packed = await new Promise<string>((resolvePack, reject) => {
    execFile(
      'npm',
      ['pack', '--ignore-scripts', '--json', '--pack-destination', work],
      { cwd: REPO, env: { ...process.env, npm_config_update_notifier: 'false' } },
      (error, stdout) => (error ? reject(new Error(`npm pack: ${error.message}`)) : resolvePack(stdout))
    );
  });
  const [pack] = JSON.parse(packed) as { filename: string; files: { path: string }[] }[];
  if (!pack) throw new Error('npm pack printed nothing');
  const files = pack.files.map((f) => f.path);
  expect(files).toEqual(expect.arrayContaining(['package.json', 'dist/cli/main.js', 'dist/testing/index.d.ts']));
  expect(files).toContain('dist/workflow-bundle.js');
  expect(files).toContain('templates/init/src/jobs.ts');
  const devOnly = files.filter((f) =>
    /^(src|test|bench|scripts|examples|docs)\/|\.map$|^dist\/cli\/demo|^dist\/bench/.test(f)
  );
  expect(devOnly).toEqual([]);

  // 2. A fresh project outside the repository installs it.
  mkdirSync(app, { recursive: true });
  await ok('npm', ['init', '-y']);
  await ok('npm', ['install', '--prefer-offline', join(work, pack.filename)], { timeoutMs: 10 * 60_000 });
  const resolved = (await ok('node', ['-p', "require.resolve('jipper/testing')"])).stdout.trim();
  expect(resolved).toBe(join(realpathSync(app), 'node_modules', 'jipper', 'dist', 'testing', 'index.js'));

  // 3. jipper init scaffolds, never overwriting; package.json gains the scripts.
  const init = await ok('npx', ['jipper', 'init']);
  for (const file of [
    'jipper.config.ts',
    'src/jobs.ts',
    'processes/provision-workspace.yaml',
    'test/provision-workspace.test.ts',
  ]) {
    expect(init.stdout).toContain(`created ${file}`);
  }
  expect(init.stdout).toMatch(/Next:\n {2}npm install\n {2}npm run worker .*\n {2}npm start .*\n {2}npm test /);
  const again = await ok('npx', ['jipper', 'init']);
  expect(again.stdout).toContain('kept src/jobs.ts (it exists)');
  const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  expect(pkg.scripts.worker).toBe('jipper worker');
  expect(pkg.scripts.test).toMatch(/^npm run typecheck && node --import jipper\/register --test/);
  expect(Object.keys(pkg.devDependencies)).toEqual(expect.arrayContaining(['typescript', '@types/node']));

  // 4. Its TypeScript type-checks against the package's own types (each entry point's), with what init added.
  await ok('npm', ['install', '--prefer-offline'], { timeoutMs: 10 * 60_000 });
  await ok('npm', ['run', 'typecheck']);

  // 5. The config file says where each setting comes from; flags override it.
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const config = await ok('npx', ['jipper', 'config', '--address', address]);
  expect(config.stdout).toMatch(new RegExp(`address +${address.replace(/\./g, '\\.')} +--address`));
  expect(config.stdout).toMatch(/libraries +\.\/src\/jobs\.ts +jipper\.config\.ts/);

  // 6. A worker on a port of our choosing: nothing listens there, so it starts the embedded dev server.
  // The installed bin itself (not through npx), so the signal that stops it reaches it.
  worker = spawn(join(app, 'node_modules', '.bin', 'jipper'), ['worker', '--address', address], {
    cwd: app,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let workerOutput = '';
  worker.stdout?.on('data', (chunk: Buffer) => (workerOutput += chunk.toString()));
  worker.stderr?.on('data', (chunk: Buffer) => (workerOutput += chunk.toString()));
  const ready = Date.now();
  while (!workerOutput.includes('worker on task queue "workspaces"')) {
    if (worker.exitCode !== null || Date.now() - ready > 120_000)
      throw new Error(`the worker did not start:\n${workerOutput}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  timings.workerReady = Date.now() - ready;
  const uiUrl = `http://127.0.0.1:${port + 1000}`;
  expect(workerOutput).toContain(`Temporal dev server: ready at ${address}, Web UI ${uiUrl}`);

  // 7. The scaffolded process, from its YAML: it succeeds; with an unknown channel it is reverted.
  const start = (extra: string[]) =>
    sh('npx', [
      'jipper',
      'start',
      'processes/provision-workspace.yaml',
      '--wait',
      '--json',
      '--address',
      address,
      ...extra,
    ]);
  const succeeded = await start([]);
  expect(succeeded.code).toBe(0);
  const first = JSON.parse(succeeded.stdout) as { webUi: string; report: { status: string; processId: string } };
  expect(first.report.status).toBe('succeeded');
  expect(first.webUi.startsWith(`${uiUrl}/namespaces/default/workflows/${first.report.processId}/`)).toBe(true);
  expect(readFileSync(join(app, 'data', 'workspaces', 'team-a', 'owner'), 'utf8')).toBe(
    `${first.report.processId}/workspace`
  );

  const failed = await start(['--set', 'workspace=team-b', '--set', 'channel=nowhere']);
  expect(failed.code).toBe(1);
  const second = JSON.parse(failed.stdout) as {
    report: { status: string; revertOrder: string[]; error: { type: string } };
  };
  expect(second.report).toMatchObject({
    status: 'reverted',
    revertOrder: ['access', 'workspace'],
    error: { type: 'UnknownChannelError' },
  });
  expect(existsSync(join(app, 'data', 'workspaces', 'team-b'))).toBe(false);
  expect(existsSync(join(app, 'data', 'grants', 'team-b--alice.json'))).toBe(false);

  // 8. The server is the project's: `jipper dev status` shows it, with its state in the project; `dev stop` ends it.
  const status = await ok('npx', ['jipper', 'dev', 'status', '--address', address]);
  expect(status.stdout).toContain(`${address}  running`);
  expect(status.stdout).toContain(`Web UI:    ${uiUrl}`);
  expect(status.stdout).toContain(join(realpathSync(app), '.jipper', `dev-server-${port}.db`));
  await stopWorker();
  const stopped = await ok('npx', ['jipper', 'dev', 'stop', '--address', address]);
  expect(stopped.stdout).toMatch(
    new RegExp(`stopped the dev server at ${address.replace(/\./g, '\\.')} \\(pid \\d+\\)`)
  );
  await expect(probeTemporal({ address })).resolves.toMatchObject({ kind: 'closed' });
  expect((await sh('npx', ['jipper', 'dev', 'status', '--address', address])).code).toBe(1);

  // 9. The scaffolded tests, failure matrix included, pass (Node's test runner, TypeScript through jipper/register).
  const tests = await sh('npm', ['test'], { timeoutMs: 10 * 60_000 });
  if (tests.code !== 0) throw new Error(`npm test failed:\n${tests.stdout}\n${tests.stderr}`);
  const passed = Number(/^# pass (\d+)$/m.exec(tests.stdout)?.[1]);
  expect(/^# fail 0$/m.test(tests.stdout)).toBe(true);
  expect(passed).toBeGreaterThanOrEqual(10);
  expect(tests.stdout).toMatch(
    /ok \d+ - run of "announce" \(announce\) fails → reverted \(reverts access, workspace\)/
  );
  expect(tests.stdout).toMatch(
    /ok \d+ - cancel while "access" \(grant-access\) runs → cancelled \(reverts workspace\)/
  );
  expect(tests.stdout).toMatch(
    /ok \d+ - revert of "workspace" \(create-workspace\) fails after "announce" fails → revert_failed/
  );
});
