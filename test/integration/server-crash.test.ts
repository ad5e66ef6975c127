/**
 * Server crash: a Temporal dev server of the test's own (SQLite file in a temp dir, free port) is SIGKILLed while a
 * job runs, then started again on the same file and port. The process — its history, its pending activity, its revert
 * stack — survives on disk; the worker (a separate process) reconnects, and the process completes with a report that
 * matches the effects in the sandbox.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { volumeLibrary } from '../../src/examples/volume/volume-jobs';
import { JobRegistry } from '../../src/runtime/registry';
import { startProcess, waitForReport } from '../../src/client';
import { recordFigure } from '../support/figures';
import { pendingActivity, waitUntil } from '../support/observe';
import type { PrivateServer } from '../support/private-server';
import { startPrivateServer } from '../support/private-server';
import type { Provisioning } from '../support/volume-effects';
import { effectsOf, expectedEffects, provisioning } from '../support/volume-effects';
import type { WorkerProcess } from '../support/worker-process';
import { spawnWorker } from '../support/worker-process';

let dir: string;
let server: PrivateServer;
let worker: WorkerProcess;
let connection: Connection;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jipper-server-crash-'));
  server = await startPrivateServer(dir);
});

afterAll(async () => {
  await worker?.kill();
  await connection?.close();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

let client: Client;
let sandbox: string;
let taskQueue: string;
let registry: JobRegistry;

/**
 * Starts the process, SIGKILLs the server once `activityId` has heartbeated `minHeartbeat`, keeps it down for 2 s,
 * restarts it on the same db file and port, and waits for the report.
 */
async function crashServerDuring(spec: Provisioning, activityId: string, minHeartbeat: number) {
  const handle = await startProcess(client, provisioning(spec), { taskQueue, registry });
  const { runId } = await handle.describe();
  await waitUntil(async () => {
    const pending = await pendingActivity(handle, activityId);
    return typeof pending?.heartbeat === 'number' && pending.heartbeat >= minHeartbeat;
  }, `${activityId} to make progress`);
  const pidBefore = server.pid();
  const killedAt = Date.now();
  await server.crash();
  await new Promise((r) => setTimeout(r, 2_000));
  await server.restart();
  const downMs = Date.now() - killedAt;
  const report = await waitForReport(handle);
  expect(server.pid()).not.toBe(pidBefore);
  expect(report.runId).toBe(runId);
  expect(worker.alive()).toBe(true);
  return { report, downMs, killToReportMs: Date.now() - killedAt };
}

beforeAll(async () => {
  sandbox = join(dir, 'sandbox');
  taskQueue = `server-crash-${randomUUID()}`;
  worker = await spawnWorker({ taskQueue, sandbox, address: server.address });
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection });
  registry = new JobRegistry([volumeLibrary({ root: sandbox })]);
});

test('a server killed mid-job and restarted on the same db: the process completes, report and effects agree', async () => {
  const spec: Provisioning = {
    volume: 'server-crash-fill',
    sizeMb: 16,
    allocArgs: { zeroFill: true, ioLimitMbPerSec: 4 },
    allocOptions: { timeout: '2m', heartbeatTimeout: '3s' },
  };
  const { report, ...times } = await crashServerDuring(spec, 'alloc.run', 4);

  expect(report.status).toBe('succeeded');
  expect(report.jobs.every((j) => j.status === 'succeeded')).toBe(true);
  expect(await effectsOf(sandbox, report, spec)).toEqual({
    alloc: 1,
    fs: 1,
    quota: 1,
    export: 1,
    register: 1,
    audit: 1,
  });
  expect(await effectsOf(sandbox, report, spec)).toEqual(expectedEffects(report));
  recordFigure('server-crash mid-job', { ...times, allocAttempts: report.jobs[0]?.attempts });
});

test('a server killed mid-revert and restarted: the unwinding finishes, every effect undone once', async () => {
  const spec: Provisioning = {
    volume: 'server-crash-wipe',
    sizeMb: 16,
    failAt: 'last',
    allocArgs: { wipeOnRelease: true, ioLimitMbPerSec: 4 },
    allocOptions: { revert: { timeout: '2m', heartbeatTimeout: '3s' } },
  };
  const { report, ...times } = await crashServerDuring(spec, 'alloc.revert.1', 4);

  expect(report.status).toBe('reverted');
  expect(report.failedStep).toBe('spare');
  expect(report.jobs.find((j) => j.stepId === 'alloc')?.revert?.status).toBe('reverted');
  expect(await effectsOf(sandbox, report, spec)).toEqual({
    alloc: 0,
    fs: 0,
    quota: 0,
    export: 0,
    register: 0,
    audit: 1,
  });
  expect(await effectsOf(sandbox, report, spec)).toEqual(expectedEffects(report));
  recordFigure('server-crash mid-revert', { ...times, revertAttempts: report.jobs[0]?.revert?.attempts });
});
