/**
 * Worker crashes: the worker is a separate process (`node dist/worker/main.js`), SIGKILLed while a job runs and while
 * a revert runs. A new worker picks the process up; it completes (or finishes unwinding), every effect on disk is
 * applied exactly once (or undone exactly once), the long job resumes from its last heartbeat, and it is retried after
 * its heartbeat timeout — not its far longer start-to-close timeout.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { inspectSandbox, volumeLibrary } from '../../src/examples/volume/volume-jobs';
import { JobRegistry } from '../../src/runtime/registry';
import { startProcess, waitForReport } from '../../src/client';
import { recordFigure } from '../support/figures';
import { pendingActivity, waitUntil } from '../support/observe';
import { testConnection } from '../support/server';
import type { TestConnection } from '../support/server';
import type { WorkerProcess } from '../support/worker-process';
import { spawnWorker } from '../support/worker-process';
import type { Provisioning } from '../support/volume-effects';
import { TAKEN_EXPORT, effectsOf, expectedEffects, provisioning, takenExportConf } from '../support/volume-effects';

/** Start-to-close timeout of the long job: a recovery that waited for it would take this long. */
const START_TO_CLOSE_MS = 120_000;
const HEARTBEAT_TIMEOUT_MS = 2_000;

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
  dir = await mkdtemp(join(tmpdir(), 'jipper-worker-crash-'));
  sandbox = join(dir, 'sandbox');
  await mkdir(join(sandbox, 'exports'), { recursive: true });
  await writeFile(join(sandbox, 'exports', `${TAKEN_EXPORT}.conf`), takenExportConf());
  taskQueue = `worker-crash-${randomUUID()}`;
  registry = new JobRegistry([volumeLibrary({ root: sandbox })]);
  worker = await spawnWorker({ taskQueue, sandbox });
});

afterAll(async () => {
  await worker?.kill();
  await conn?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/**
 * SIGKILLs the worker once the activity has heartbeated at least `minHeartbeat`, starts a new worker at once, and
 * returns how long Temporal took to start the next attempt on the new worker.
 */
async function crashDuring(processId: string, activityId: string, minHeartbeat: number): Promise<number> {
  const handle = client.workflow.getHandle(processId);
  await waitUntil(async () => {
    const pending = await pendingActivity(handle, activityId);
    return typeof pending?.heartbeat === 'number' && pending.heartbeat >= minHeartbeat;
  }, `${activityId} to heartbeat ${minHeartbeat}`);
  const killedAt = Date.now();
  await worker.kill('SIGKILL');
  worker = await spawnWorker({ taskQueue, sandbox });
  await waitUntil(async () => {
    const pending = await pendingActivity(handle, activityId);
    return pending !== undefined && pending.attempt >= 2 && pending.state === 'STARTED';
  }, `${activityId} to be retried on the new worker`);
  return Date.now() - killedAt;
}

async function start(spec: Provisioning) {
  return startProcess(client, provisioning(spec), { taskQueue, registry });
}

test('a worker killed mid-job: a new worker resumes the job from its heartbeat; every effect is applied once', async () => {
  const spec: Provisioning = {
    volume: 'crash-fill',
    sizeMb: 24,
    allocArgs: { zeroFill: true, ioLimitMbPerSec: 6 },
    allocOptions: { timeout: `${START_TO_CLOSE_MS / 1000}s`, heartbeatTimeout: `${HEARTBEAT_TIMEOUT_MS / 1000}s` },
  };
  const handle = await start(spec);
  const recoveryMs = await crashDuring(handle.workflowId, 'alloc.run', 6);
  const report = await waitForReport(handle);

  expect(report.status).toBe('succeeded');
  const alloc = report.jobs.find((j) => j.stepId === 'alloc');
  expect(alloc?.attempts).toBeGreaterThanOrEqual(2);
  const resumedAt = Number(/zero-fill resumed at (\d+) MB/.exec(alloc?.detail ?? '')?.[1] ?? 0);
  expect(resumedAt).toBeGreaterThan(0);
  expect(await effectsOf(sandbox, report, spec)).toEqual({
    alloc: 1,
    fs: 1,
    quota: 1,
    export: 1,
    register: 1,
    audit: 1,
  });
  expect(await effectsOf(sandbox, report, spec)).toEqual(expectedEffects(report));
  // The heartbeat timeout, not the start-to-close timeout, decided when the lost attempt was retried.
  expect(recoveryMs).toBeLessThan(START_TO_CLOSE_MS / 8);
  recordFigure('worker-crash mid-job', {
    recoveryMs,
    resumedAtMb: resumedAt,
    sizeMb: spec.sizeMb,
    attempts: alloc?.attempts,
  });
});

test('a worker killed mid-revert: the revert resumes on a new worker and every revert completes, once', async () => {
  const bystanderSpec: Provisioning = { volume: 'bystander' };
  const bystander = await waitForReport(await start(bystanderSpec));
  expect(bystander.status).toBe('succeeded');

  const spec: Provisioning = {
    volume: 'crash-wipe',
    sizeMb: 24,
    failAt: 'last',
    allocArgs: { wipeOnRelease: true, ioLimitMbPerSec: 6 },
    allocOptions: {
      revert: { timeout: `${START_TO_CLOSE_MS / 1000}s`, heartbeatTimeout: `${HEARTBEAT_TIMEOUT_MS / 1000}s` },
    },
  };
  const handle = await start(spec);
  const recoveryMs = await crashDuring(handle.workflowId, 'alloc.revert.1', 6);
  const report = await waitForReport(handle);

  expect(report.status).toBe('reverted');
  expect(report.failedStep).toBe('spare');
  expect(report.error?.type).toBe('CapacityExceededError');
  expect(report.revertOrder).toEqual(['register', 'export', expect.any(String), expect.any(String), 'alloc']);
  const alloc = report.jobs.find((j) => j.stepId === 'alloc');
  expect(alloc).toMatchObject({ status: 'reverted', revert: { status: 'reverted' } });
  expect(alloc?.revert?.attempts).toBeGreaterThanOrEqual(2);
  expect(alloc?.revert?.detail).toMatch(/wipe resumed at [1-9]\d* MB/);
  // Everything undone but the audit line (append-only, no revert), which stands exactly once.
  expect(await effectsOf(sandbox, report, spec)).toEqual({
    alloc: 0,
    fs: 0,
    quota: 0,
    export: 0,
    register: 0,
    audit: 1,
  });
  expect(await effectsOf(sandbox, report, spec)).toEqual(expectedEffects(report));
  // The bystander's effects were not touched by the other process's reverts.
  expect(await effectsOf(sandbox, bystander, bystanderSpec)).toEqual({
    alloc: 1,
    fs: 1,
    quota: 1,
    export: 1,
    register: 1,
    audit: 1,
  });
  const state = await inspectSandbox(sandbox);
  expect(state.volumes).toEqual(['bystander', 'crash-fill']);
  expect(state.exports).toContain(TAKEN_EXPORT);
  expect(recoveryMs).toBeLessThan(START_TO_CLOSE_MS / 8);
  recordFigure('worker-crash mid-revert', {
    recoveryMs,
    attempts: alloc?.revert?.attempts,
    detail: alloc?.revert?.detail,
  });
});
