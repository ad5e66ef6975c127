import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { msToTs } from '@temporalio/common/lib/time';
import {
  DevServerPortInUseError,
  DevServerStartError,
  readDevServerStates,
  startDevServer,
  stopDevServerProcess,
} from '../../src/dev/dev-server';
import { ensureServer } from '../../src/dev/ensure-server';
import { loadConfig } from '../../src/config/config';
import { JIPPER_SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes';
import type { TestConnection } from '../support/server';
import { listenPlainTcp, testConnection } from '../support/server';
import { splitAddress, probeTemporal } from '../../src/config/connect';
import { ensureSearchAttributes } from '../../src/config/search-attributes';
import { freePort } from '../../src/dev/ports';
import { CLI_PATH, requireBuiltCli } from '../support/cli';

/** The indexed value type each of Jipper's attributes is registered with (Keyword; `JipperWaitingFor` a KeywordList). */
const typeOf = (key: (typeof JIPPER_SEARCH_ATTRIBUTES)[number]) => encodeSearchAttributeIndexedValueType(key.type);

/** The pid is a live process: it exists and is not a zombie (dead, waiting for its parent to reap it). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return !existsSync('/proc'); // Gone since, or no /proc (macOS): the kill above said it lived.
  }
}

describe('startDevServer', () => {
  let scratch: string;
  beforeAll(() => (scratch = mkdtempSync(join(tmpdir(), 'jipper-dev-server-'))));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('refuses a port held by something that is not Temporal, in one line', async () => {
    const { port, close } = await listenPlainTcp();
    try {
      const attempt = startDevServer({ port, uiPort: false });
      await expect(attempt).rejects.toBeInstanceOf(DevServerPortInUseError);
      await expect(attempt).rejects.toThrow(
        `port ${port} is in use by something that is not a Temporal server; choose another --address or free the port`
      );
    } finally {
      await close();
    }
  });

  it('reuses the Temporal server already on the port; stop() leaves it running', async () => {
    const { host, port } = splitAddress(process.env.TEMPORAL_ADDRESS ?? '');
    const server = await startDevServer({ ip: host, port });
    expect(server).toMatchObject({ address: `${host}:${port}`, reused: true, pid: undefined });
    await server.stop();
    await expect(probeTemporal({ address: server.address })).resolves.toEqual({ kind: 'temporal' });
  });

  it('starts its own server with a database file, and stop() ends the process', async () => {
    const dbFilename = join(scratch, 'state', 'dev.db');
    const server = await startDevServer({ port: await freePort(), uiPort: false, dbFilename, projectRoot: scratch });
    try {
      expect(server.reused).toBe(false);
      expect(server.uiUrl).toBeUndefined();
      expect(isRunning(server.pid ?? -1)).toBe(true);
      expect(existsSync(dbFilename)).toBe(true);
      await expect(probeTemporal({ address: server.address })).resolves.toEqual({ kind: 'temporal' });
    } finally {
      await server.stop();
    }
    expect(isRunning(server.pid ?? -1)).toBe(false);
    await expect(probeTemporal({ address: server.address })).resolves.toMatchObject({ kind: 'closed' });
  });

  it('reports a server that cannot start with its last log line', async () => {
    const { port: uiPort, close } = await listenPlainTcp();
    try {
      const attempt = startDevServer({ port: await freePort(), uiPort, projectRoot: scratch, startTimeoutMs: 30_000 });
      await expect(attempt).rejects.toBeInstanceOf(DevServerStartError);
      await expect(attempt).rejects.toThrow(/^temporal server start-dev exited with code \d+: .+/);
    } finally {
      await close();
    }
  });
});

describe('ensureServer on a loopback address where nothing listens', () => {
  let project: string;
  beforeAll(() => (project = mkdtempSync(join(tmpdir(), 'jipper-ensure-'))));
  afterAll(() => rmSync(project, { recursive: true, force: true }));

  it('starts the embedded dev server there, in the background, with its state in the project; stop ends it', async () => {
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const config = await loadConfig({ env: { TEMPORAL_ADDRESS: address }, cwd: project, configFile: false });
    const lines: string[] = [];
    const server = await ensureServer(config, (line) => lines.push(line));
    const [state] = readDevServerStates(project);
    try {
      expect(server).toMatchObject({ address, started: true });
      expect(state).toMatchObject({
        address,
        detached: true,
        dbFilename: join(project, '.jipper', `dev-server-${port}.db`),
      });
      expect(server.uiUrl).toBe(state?.uiUrl);
      expect(server.uiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(lines.join('\n')).toContain(`Web UI ${server.uiUrl}`);
      await expect(probeTemporal({ address })).resolves.toEqual({ kind: 'temporal' });
      // A second call finds it, with its Web UI from the state file.
      await expect(ensureServer(config)).resolves.toEqual({ address, uiUrl: server.uiUrl, started: false });
      expect(isRunning(state?.pid ?? -1)).toBe(true);
    } finally {
      if (state) await stopDevServerProcess(state);
    }
    expect(isRunning(state?.pid ?? -1)).toBe(false);
    expect(readDevServerStates(project)).toEqual([]);
    await expect(probeTemporal({ address })).resolves.toMatchObject({ kind: 'closed' });
  });

  it('does not start one where TLS is configured: the address must answer', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const config = await loadConfig({
      env: { TEMPORAL_ADDRESS: address, TEMPORAL_TLS: 'true' },
      cwd: project,
      configFile: false,
    });
    await expect(ensureServer(config)).rejects.toThrow(`no Temporal server answers at ${address} (TEMPORAL_ADDRESS)`);
    expect(readDevServerStates(project)).toEqual([]);
  });
});

describe('search attributes', () => {
  let conn: TestConnection;
  beforeAll(async () => (conn = await testConnection()));
  afterAll(() => conn.close());

  it("are registered on the run's server", async () => {
    const { customAttributes } = await conn.connection.operatorService.listSearchAttributes({
      namespace: conn.namespace,
    });
    for (const key of JIPPER_SEARCH_ATTRIBUTES) expect(customAttributes?.[key.name]).toBe(typeOf(key));
  });

  it('are added where missing, once, by ensureSearchAttributes', async () => {
    const namespace = `jipper-sa-${Date.now().toString(36)}`;
    await conn.connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs('1 day'),
    });
    await expect(ensureSearchAttributes(conn.connection, namespace)).resolves.toEqual({
      added: JIPPER_SEARCH_ATTRIBUTES.map((key) => key.name),
      checked: true,
    });
    await expect(ensureSearchAttributes(conn.connection, namespace)).resolves.toEqual({ added: [], checked: true });
    const { customAttributes } = await conn.connection.operatorService.listSearchAttributes({ namespace });
    for (const key of JIPPER_SEARCH_ATTRIBUTES) expect(customAttributes?.[key.name]).toBe(typeOf(key));
  });
});

describe('the built `jipper dev` command', () => {
  let project: string;
  beforeAll(() => {
    requireBuiltCli();
    project = mkdtempSync(join(tmpdir(), 'jipper-dev-cli-'));
    writeFileSync(join(project, 'package.json'), '{ "name": "dev-cli-project" }\n');
  });
  afterAll(() => rmSync(project, { recursive: true, force: true }));

  /** `jipper <args>` in the project directory, with the default address (no TEMPORAL_ADDRESS). */
  const jipperIn = (args: string[], timeoutMs = 60_000) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolveRun, reject) => {
      execFile(
        process.execPath,
        [CLI_PATH, ...args],
        {
          cwd: project,
          timeout: timeoutMs,
          killSignal: 'SIGKILL',
          env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            NO_COLOR: '1',
            ...(process.env.TEMPORAL_CLI_PATH ? { TEMPORAL_CLI_PATH: process.env.TEMPORAL_CLI_PATH } : {}),
          },
        },
        (error, stdout, stderr) => {
          if (error && typeof error.code !== 'number') reject(new Error(`${error.message}\n${stdout}\n${stderr}`));
          else resolveRun({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
        }
      );
    });

  it('`dev stop` finds the project’s server on another port; with a port named where none runs it lists them', async () => {
    const port = await freePort();
    const server = await startDevServer({
      port,
      uiPort: false,
      projectRoot: project,
      detached: true,
      ...(process.env.TEMPORAL_CLI_PATH ? { cliPath: process.env.TEMPORAL_CLI_PATH } : {}),
    });
    try {
      const elsewhere = await freePort();
      const named = await jipperIn(['dev', 'stop', '--port', String(elsewhere)]);
      expect(named.code).toBe(1);
      expect(named.stderr).toBe(
        `jipper: no dev server of this project at 127.0.0.1:${elsewhere}; it has 127.0.0.1:${port} (pid ${server.pid}): stop one with --port <port>, or all with --all\n`
      );
      expect(isRunning(server.pid ?? -1)).toBe(true);

      const stopped = await jipperIn(['dev', 'stop']);
      expect(stopped).toMatchObject({
        code: 0,
        stdout: `stopped the dev server at 127.0.0.1:${port} (pid ${server.pid})\n`,
      });
      expect(isRunning(server.pid ?? -1)).toBe(false);
      expect(readDevServerStates(project)).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('`dev --port N` with a Temporal server already there says so and exits, promising no Ctrl-C', async () => {
    const { port } = splitAddress(process.env.TEMPORAL_ADDRESS ?? '');
    const result = await jipperIn(['dev', '--port', String(port), '--headless']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Temporal server (already running): 127.0.0.1:${port}`);
    expect(result.stdout).toContain('it was not started by this project, so jipper dev leaves it alone.');
    expect(result.stdout).not.toContain('Press Ctrl-C');
    await expect(probeTemporal({ address: `127.0.0.1:${port}` })).resolves.toEqual({ kind: 'temporal' });
  });
});
