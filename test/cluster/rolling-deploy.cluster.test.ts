/**
 * A rolling deploy with Worker Deployment versioning, done the way docs/design.md tells an operator to: workers of
 * build v1 run and v1 is the deployment's current version; a process starts and is held mid-way (its first job waits
 * for a file); workers of build v2 — whose `stamp` job behaves differently — start beside v1, and v2 is made current
 * with the Temporal CLI; a new process starts. Then the held process goes on: its `stamp` job must run v1's code on a
 * v1 worker (the process is pinned to v1), while the new process ran v2's code on a v2 worker. Each process's
 * deployment version and pinned behaviour are read back from the server too.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { startProcess, waitForReport } from '../../src/client';
import { findOrInstallTemporalCli } from '../../src/dev/temporal-cli';
import { clusterSettings } from '../../src/dev/cluster/settings';
import type { ProcessDefinition } from '../../src/schema/definition';
import { testConnection } from '../support/server';
import type { TestConnection } from '../support/server';
import type { WorkerProcess } from '../support/worker-process';
import { spawnWorker } from '../support/worker-process';
import { workSplit } from './support';

const root = join(__dirname, '..', '..');
const settings = clusterSettings();
const deploymentName = `jipper-deploy-${randomUUID().slice(0, 8)}`;
const taskQueue = `rolling-deploy-${randomUUID()}`;
const dir = join(root, '.jipper', 'tmp', deploymentName);
let conn: TestConnection;
let temporal: string;
const workers: WorkerProcess[] = [];

/**
 * A job library as a team would ship it, built `v1` or `v2`: `wait-for-file` holds a process until a file exists;
 * `stamp` greets — v1 in lower case, v2 in upper case — and says which build ran it.
 */
function librarySource(build: 'v1' | 'v2'): string {
  const greeting = build === 'v1' ? '`hello ${label}`' : '`HELLO ${label.toUpperCase()}`';
  return `
const { existsSync } = require('node:fs');
const { z } = require(${JSON.stringify(require.resolve('zod'))});
const { defineJob, defineLibrary } = require(${JSON.stringify(join(root, 'dist', 'index.js'))});
const waitForFile = defineJob({
  name: 'wait-for-file',
  input: z.object({ path: z.string() }),
  options: { timeout: '10m', heartbeatTimeout: '30s' },
  async run({ path }, ctx) {
    while (!existsSync(path)) { ctx.heartbeat(); await ctx.sleep(200); }
    return { build: '${build}' };
  },
});
const stamp = defineJob({
  name: 'stamp',
  input: z.object({ label: z.string() }),
  async run({ label }) { return { build: '${build}', greeting: ${greeting} }; },
});
module.exports = { library: defineLibrary('deploy-demo', [waitForFile, stamp]) };
`;
}

function definition(label: string, gate: string): ProcessDefinition {
  return {
    name: 'deploy-demo',
    steps: [
      { id: 'gate', job: 'wait-for-file', args: { path: gate } },
      { id: 'stamp', job: 'stamp', args: { label } },
    ],
  };
}

async function deployWorker(build: 'v1' | 'v2'): Promise<WorkerProcess> {
  const worker = await spawnWorker({
    taskQueue,
    sandbox: join(dir, 'sandbox'),
    env: {
      JIPPER_LIBRARIES: join(dir, `library-${build}.js`),
      JIPPER_DEPLOYMENT_NAME: deploymentName,
      JIPPER_BUILD_ID: build,
    },
  });
  workers.push(worker);
  return worker;
}

/** `temporal worker deployment set-current-version`, retried until the server knows the version (its pollers). */
async function setCurrentVersion(build: string): Promise<void> {
  const args = ['worker', 'deployment', 'set-current-version', '--deployment-name', deploymentName];
  args.push('--build-id', build, '--yes', '--address', settings.address);
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await promisify(execFile)(temporal, args, { timeout: 30_000 });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await delay(1_000);
    }
  }
}

async function versionOf(processId: string): Promise<{ behavior: unknown; version: unknown }> {
  const { raw } = await conn.client.workflow.getHandle(processId).describe();
  const info = raw.workflowExecutionInfo?.versioningInfo;
  return { behavior: info?.behavior, version: info?.deploymentVersion?.buildId };
}

beforeAll(async () => {
  conn = await testConnection();
  temporal = (await findOrInstallTemporalCli({ log: () => undefined })).path;
  await mkdir(join(dir, 'sandbox'), { recursive: true });
  await writeFile(join(dir, 'library-v1.js'), librarySource('v1'));
  await writeFile(join(dir, 'library-v2.js'), librarySource('v2'));
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill('SIGTERM')));
  await conn?.close();
  await rm(dir, { recursive: true, force: true });
});

test('processes started on v1 finish on v1 workers with v1 code; processes started after v2 is current run v2', async () => {
  const v1 = await deployWorker('v1');
  await setCurrentVersion('v1');

  const heldGate = join(dir, 'release-held');
  const held = await startProcess(conn.client, definition('held', heldGate), {
    taskQueue,
    id: `${deploymentName}-held`,
  });
  // Wait until the held process is inside its first job, on a v1 worker.
  for (const deadline = Date.now() + 60_000; ;) {
    const { raw } = await held.describe();
    if ((raw.pendingActivities ?? []).some((a) => a.lastStartedTime)) break;
    if (Date.now() > deadline) throw new Error('the held process never started its first job');
    await delay(200);
  }

  const v2 = await deployWorker('v2');
  await setCurrentVersion('v2');
  const freshGate = join(dir, 'release-fresh');
  await writeFile(freshGate, '');
  const fresh = await startProcess(conn.client, definition('fresh', freshGate), {
    taskQueue,
    id: `${deploymentName}-fresh`,
  });
  const freshReport = await waitForReport(fresh);

  await writeFile(heldGate, '');
  const heldReport = await waitForReport(held);

  const result = (report: typeof heldReport, step: string) => report.jobs.find((j) => j.stepId === step)?.result;
  expect(heldReport.status).toBe('succeeded');
  expect(result(heldReport, 'stamp')).toEqual({ build: 'v1', greeting: 'hello held' });
  expect(freshReport.status).toBe('succeeded');
  expect(result(freshReport, 'stamp')).toEqual({ build: 'v2', greeting: 'HELLO FRESH' });

  const split = async (id: string) => workSplit(conn.client, [id]);
  const heldSplit = await split(held.workflowId);
  const freshSplit = await split(fresh.workflowId);
  expect(Object.keys(heldSplit.activities).map(Number)).toEqual([v1.pid]);
  expect(Object.keys(heldSplit.workflowTasks).map(Number)).toEqual([v1.pid]);
  expect(Object.keys(freshSplit.activities).map(Number)).toEqual([v2.pid]);
  expect(Object.keys(freshSplit.workflowTasks).map(Number)).toEqual([v2.pid]);

  expect(await versionOf(held.workflowId)).toEqual({ behavior: 1, version: 'v1' });
  expect(await versionOf(fresh.workflowId)).toEqual({ behavior: 1, version: 'v2' });
});
