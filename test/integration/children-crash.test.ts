/**
 * Worker crashes across a process tree: the worker is a separate process (`node dist/worker/main.js`), SIGKILLed while
 * a child process's long job runs, and while a child unwinds for its parent (its long revert running in the child's
 * unwind workflow). A new worker picks the tree up; the child completes (or is undone) and every effect on disk is
 * applied exactly once (or undone exactly once), found by the child's own idempotency keys.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { volumeLibrary } from '../../src/examples/volume/volume-jobs';
import { JobRegistry } from '../../src/runtime/registry';
import { startProcess, waitForReport } from '../../src/client';
import type { ProcessDefinition } from '../../src/schema/definition';
import type { ProcessReport } from '../../src/shared/report';
import { pendingActivity, waitUntil } from '../support/observe';
import { testConnection } from '../support/server';
import type { TestConnection } from '../support/server';
import type { WorkerProcess } from '../support/worker-process';
import { spawnWorker } from '../support/worker-process';
import type { Provisioning } from '../support/volume-effects';
import { TAKEN_EXPORT, effectsOf, longAlloc, provisioning, takenExportConf } from '../support/volume-effects';

let conn: TestConnection;
let client: Client;
let dir: string;
let sandbox: string;
let taskQueue: string;
let registry: JobRegistry;
let worker: WorkerProcess;

beforeAll(async () => {
  conn = await testConnection();
  client = conn.client;
  dir = await mkdtemp(join(tmpdir(), 'jipper-children-crash-'));
  sandbox = join(dir, 'sandbox');
  await mkdir(join(sandbox, 'exports'), { recursive: true });
  await writeFile(join(sandbox, 'exports', `${TAKEN_EXPORT}.conf`), takenExportConf());
  taskQueue = `children-crash-${randomUUID()}`;
  registry = new JobRegistry([volumeLibrary({ root: sandbox })]);
  worker = await spawnWorker({ taskQueue, sandbox });
});

afterAll(async () => {
  await worker?.kill();
  await conn?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** SIGKILLs the worker once `activityId` of workflow `id` has heartbeated `minHeartbeat`; a new worker takes over. */
async function crashDuring(id: string, activityId: string, minHeartbeat: number): Promise<void> {
  const handle = client.workflow.getHandle(id);
  await waitUntil(async () => {
    const pending = await pendingActivity(handle, activityId);
    return typeof pending?.heartbeat === 'number' && pending.heartbeat >= minHeartbeat;
  }, `${activityId} of ${id} to heartbeat ${minHeartbeat}`);
  await worker.kill('SIGKILL');
  worker = await spawnWorker({ taskQueue, sandbox });
}

/** A parent whose step `vol` runs the provisioning process as a child; `failAfter` adds a parent step that fails. */
function tree(spec: Provisioning, failAfter: boolean): ProcessDefinition {
  return {
    name: 'tenant',
    steps: [
      { id: 'vol', process: provisioning(spec) } as unknown as ProcessDefinition['steps'][number],
      ...(failAfter
        ? [{ id: 'spare', job: 'allocate-volume', args: { volume: `${spec.volume}-spare`, sizeMb: 1_000_000 } }]
        : []),
    ],
  };
}

const childOf = (report: ProcessReport): ProcessReport =>
  report.jobs.find((j) => j.stepId === 'vol')?.child?.report as ProcessReport;

test('a worker killed while a child runs: the child completes on a new worker, every effect applied once', async () => {
  const spec: Provisioning = { volume: 'kid-fill', sizeMb: 16, ...longAlloc(6, '2s') };
  const handle = await startProcess(client, tree(spec, false), { taskQueue, registry });
  await crashDuring(`${handle.workflowId}/vol`, 'alloc.run', 6);
  const report = await waitForReport(handle);
  expect(report.status).toBe('succeeded');
  const child = childOf(report);
  expect(child.processId).toBe(`${handle.workflowId}/vol`);
  expect(child.jobs.find((j) => j.stepId === 'alloc')?.attempts).toBeGreaterThanOrEqual(2);
  expect(await effectsOf(sandbox, child, spec)).toEqual({
    alloc: 1,
    fs: 1,
    quota: 1,
    export: 1,
    register: 1,
    audit: 1,
  });
});

test('a worker killed while a child unwinds for its parent: the unwind resumes, every revert runs once', async () => {
  const spec: Provisioning = { volume: 'kid-wipe', sizeMb: 16, ...longAlloc(6, '2s') };
  const handle = await startProcess(client, tree(spec, true), { taskQueue, registry });
  await crashDuring(`${handle.workflowId}/vol/revert`, 'alloc.revert.1', 6);
  const report = await waitForReport(handle);
  expect(report.status).toBe('reverted');
  expect(report.failedStep).toBe('spare');
  const child = childOf(report);
  expect(child.status).toBe('reverted');
  expect(child.revertOrder).toEqual(['register', 'export', expect.any(String), expect.any(String), 'alloc']);
  expect(child.jobs.find((j) => j.stepId === 'alloc')?.revert?.attempts).toBeGreaterThanOrEqual(2);
  // Everything undone but the audit line (append-only, no revert), which stands exactly once.
  expect(await effectsOf(sandbox, child, spec)).toEqual({
    alloc: 0,
    fs: 0,
    quota: 0,
    export: 0,
    register: 0,
    audit: 1,
  });
});
