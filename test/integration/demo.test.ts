/**
 * `npm start -- --once`: the demo runs the example process twice on a real server — once succeeding, once unwinding —
 * prints both reports with a Web UI link each, and exits 0. Run here against the test server (TEMPORAL_ADDRESS), with a
 * sandbox and task queue of its own.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { inspectSandbox } from '../../src/examples/volume/volume-jobs';
import { testConnection } from '../support/server';

const run = promisify(execFile);
let sandbox: string;

beforeAll(async () => {
  sandbox = await mkdtemp(join(tmpdir(), 'jipper-demo-'));
});
afterAll(async () => {
  await rm(sandbox, { recursive: true, force: true });
});

/** `npm start -- --once [extra]` with a sandbox and task queue of its own; its stdout. */
async function runDemo(...extra: string[]): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    [join(__dirname, '..', '..', 'dist', 'cli', 'demo.js'), '--once', ...extra],
    {
      env: {
        ...process.env,
        JIPPER_SANDBOX: sandbox,
        JIPPER_TASK_QUEUE: `demo-${randomUUID()}`,
        // The run's server has its Web UI on a port of its own: the demo links to it when told where.
        JIPPER_WEB_UI_URL: process.env.JIPPER_TEST_UI_URL ?? 'http://127.0.0.1:8233',
        NO_COLOR: '1',
      },
      timeout: 120_000,
    }
  );
  return stdout;
}

test('the demo prints a succeeded report and a reverted one, unwound newest first, and exits 0', async () => {
  const stdout = await runDemo();
  const [first, second] = stdout.split(/^=== /m).slice(1);
  expect(first).toMatch(/^1\. provision-volume: succeeds/);
  expect(first).toMatch(/status: succeeded/);
  expect(second).toMatch(/status: reverted {2}· {2}failed at step export/);
  expect(second).toMatch(/error: NameAlreadyExportedError: export name "demo-[a-z0-9]+" is already used by volume/);
  expect(second).toMatch(/reverted, newest first: (filesystem → quota|quota → filesystem) → allocate/);
  expect(
    stdout.match(/^Web UI: http:\/\/\S+\/namespaces\/default\/workflows\/demo-\S+\/user-metadata$/gm)
  ).toHaveLength(2);
  const effects = await inspectSandbox(sandbox);
  expect(effects.volumes).toHaveLength(1);
  expect(effects.catalog).toHaveLength(1);
});

test('with one setting (--encrypt) the demo runs encrypted: same reports, ciphertext in the history', async () => {
  const stdout = await runDemo('--encrypt');
  expect(stdout).toMatch(
    /payloads encrypted \(AES-256-GCM, key "[^"]+" of JIPPER_ENCRYPTION_KEYS_FILE \(.*demo-keys\.json\)\)/
  );
  const [first, second] = stdout.split(/^=== /m).slice(1);
  expect(first).toMatch(/status: succeeded/);
  expect(second).toMatch(/status: reverted {2}· {2}failed at step export/);
  const ids = [...stdout.matchAll(/\/workflows\/(demo-[a-z0-9]+-(?:succeeds|unwinds))\//g)].map((m) => m[1] as string);
  expect(ids).toHaveLength(2);
  const conn = await testConnection();
  try {
    for (const id of ids) {
      const [started] = (await conn.client.workflow.getHandle(id).fetchHistory()).events ?? [];
      const input = started?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
      expect(Buffer.from(input?.metadata?.encoding ?? []).toString()).toBe('binary/encrypted');
      expect(Buffer.from(input?.data ?? []).toString('latin1')).not.toContain('provision-volume');
    }
  } finally {
    await conn.close();
  }
});
