/**
 * Local jobs (`local: true`) across worker crashes. The worker is a separate process running the ledger library
 * (test/support/ledger-jobs.cjs), SIGKILLed while a run of local jobs is going, and again while their reverts are.
 * Temporal records local activities when the workflow task completes, so a new worker re-runs every local job since
 * the last completed task; each job's stable idempotency key makes that re-run a no-op, and the ledger (one row file
 * per key, one log line per attempt) shows every effect applied — or undone — exactly once, with nothing lost.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { startProcess, waitForReport } from '../../src/client';
import { JobRegistry } from '../../src/runtime/registry';
import type { ProcessDefinition } from '../../src/schema/definition';
import { recordFigure } from '../support/figures';
import { waitUntil } from '../support/observe';
import { testConnection } from '../support/server';
import type { TestConnection } from '../support/server';
import type { WorkerProcess } from '../support/worker-process';
import { spawnWorker } from '../support/worker-process';

const LIBRARY = resolve(__dirname, '..', 'support', 'ledger-jobs.cjs');

let conn: TestConnection;
let client: Client;
let dir: string;
let sandbox: string;
let taskQueue: string;
let registry: JobRegistry;
let worker: WorkerProcess;

const spawn = () => spawnWorker({ taskQueue, sandbox, env: { JIPPER_LIBRARIES: LIBRARY } });

beforeAll(async () => {
  conn = await testConnection();
  client = conn.client;
  dir = await mkdtemp(join(tmpdir(), 'jipper-local-jobs-'));
  sandbox = join(dir, 'sandbox');
  await mkdir(join(sandbox, 'hold'), { recursive: true });
  taskQueue = `local-jobs-${randomUUID()}`;
  // The same library the worker process loads (plain CommonJS on the built package), for checking definitions.
  const { library } = createRequire(__filename)(LIBRARY) as {
    library: ConstructorParameters<typeof JobRegistry>[0][0];
  };
  registry = new JobRegistry([library]);
  worker = await spawn();
});

afterAll(async () => {
  await worker?.kill();
  await conn?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function rows(count: number, refuseLast = false): ProcessDefinition {
  return {
    name: 'ledger-rows',
    steps: Array.from({ length: count }, (_, i) => ({
      id: `s${i + 1}`,
      job: 'ledger-row',
      args: { row: `row ${i + 1}`, ...(refuseLast && i === count - 1 ? { refuse: true } : {}) },
    })),
  };
}

/** Attempt lines of one process: `run <key> <attempt>` / `revert <key> <attempt>`. */
async function attempts(processId: string): Promise<string[]> {
  const path = join(sandbox, 'attempts.log');
  if (!existsSync(path)) return [];
  return (await readFile(path, 'utf8')).split('\n').filter((line) => line.includes(` ${processId}/`));
}

async function rowFiles(processId: string): Promise<Record<string, string>> {
  const files = existsSync(join(sandbox, 'rows')) ? await readdir(join(sandbox, 'rows')) : [];
  const mine = files.filter((f) => f.startsWith(`${processId}_`)).sort();
  const entries = await Promise.all(mine.map(async (f) => [f, await readFile(join(sandbox, 'rows', f), 'utf8')]));
  return Object.fromEntries(entries) as Record<string, string>;
}

/** Holds `hold` until `line` is in the ledger, SIGKILLs the worker, releases the hold and starts a new worker. */
async function crashAt(processId: string, hold: string, line: string): Promise<number> {
  await waitUntil(async () => (await attempts(processId)).some((l) => l.startsWith(line)), line, 30_000, 20);
  const killedAt = Date.now();
  await worker.kill('SIGKILL');
  await rm(join(sandbox, 'hold', hold));
  worker = await spawn();
  return killedAt;
}

async function eventTypes(processId: string): Promise<string[]> {
  const history = await client.workflow.getHandle(processId).fetchHistory();
  return (history.events ?? []).map((e) => temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? '');
}

const count = (list: string[], match: (s: string) => boolean) => list.filter(match).length;

/** Local activities the run recorded (one marker each); the workflow's patch markers are not counted. */
async function localActivityMarkers(processId: string): Promise<number> {
  const history = await client.workflow.getHandle(processId).fetchHistory();
  return (history.events ?? []).filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')
    .length;
}

/** The run's own attempt lines, in the order the ledger got them: `s3 1` for attempt 1 of step s3. */
async function runLines(processId: string): Promise<string[]> {
  return (await attempts(processId)).filter((l) => l.startsWith('run ')).map((l) => l.replace(`run ${processId}/`, ''));
}

test('a run of local jobs is one local activity: each job runs once, in order, and is reported as its own', async () => {
  const id = `local-chain-${randomUUID()}`;
  const handle = await startProcess(client, rows(10), { taskQueue, registry, id });
  const report = await waitForReport(handle);

  expect(report.status).toBe('succeeded');
  expect(await runLines(id)).toEqual(Array.from({ length: 10 }, (_, i) => `s${i + 1} 1`));
  expect(Object.keys(await rowFiles(id))).toHaveLength(10);
  expect(report.jobs.map((j) => [j.stepId, j.status, j.attempts, j.result])).toEqual(
    Array.from({ length: 10 }, (_, i) => [`s${i + 1}`, 'succeeded', 1, { row: `row ${i + 1}` }])
  );
  // One marker for the ten jobs, and none for the worker's default hooks: the run brought them back.
  expect(await localActivityMarkers(id)).toBe(1);
  const events = await eventTypes(id);
  expect(count(events, (e) => e === 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED')).toBe(1);
});

test('a job whose first attempt fails in a run goes on alone from attempt 2; the rest of the run follows it', async () => {
  const id = `local-chain-retry-${randomUUID()}`;
  const definition = rows(5);
  Object.assign(definition.steps[2] as { args: Record<string, unknown> }, { args: { row: 'row 3', failAttempts: 1 } });
  const report = await waitForReport(await startProcess(client, definition, { taskQueue, registry, id }));

  expect(report.status).toBe('succeeded');
  expect(await runLines(id)).toEqual(['s1 1', 's2 1', 's3 1', 's3 2', 's4 1', 's5 1']);
  expect(report.jobs.map((j) => j.attempts)).toEqual([1, 1, 2, 1, 1]);
  expect(Object.keys(await rowFiles(id))).toHaveLength(5);
  // The run s1-s3, s3's second attempt on its own, then the run s4-s5.
  expect(await localActivityMarkers(id)).toBe(3);
});

test('a job of a run that fails its last allowed attempt unwinds the run, newest first', async () => {
  const id = `local-chain-spent-${randomUUID()}`;
  const definition = rows(4);
  Object.assign(definition.steps[2] as { args: Record<string, unknown> }, { args: { row: 'row 3', failAttempts: 2 } });
  const report = await waitForReport(await startProcess(client, definition, { taskQueue, registry, id }));

  expect(report.status).toBe('reverted');
  expect(report.failedStep).toBe('s3');
  expect(report.error?.type).toBe('RowBusy');
  expect(report.jobs.find((j) => j.stepId === 's3')?.attempts).toBe(2);
  expect(report.revertOrder).toEqual(['s2', 's1']);
  expect(await rowFiles(id)).toEqual({});
  const lines = (await attempts(id)).map((l) => l.replace(`${id}/`, ''));
  expect(lines).toEqual(['run s1 1', 'run s2 1', 'run s3 1', 'run s3 2', 'revert s2/revert 1', 'revert s1/revert 1']);
});

test('a job of a run that passes its timeout is retried on its own, and the run goes on', async () => {
  const id = `local-chain-timeout-${randomUUID()}`;
  const definition = rows(3);
  Object.assign(definition.steps[1] as Record<string, unknown>, { timeout: '1s' });
  await writeFile(join(sandbox, 'hold', 's2'), '');
  const handle = await startProcess(client, definition, { taskQueue, registry, id });
  // Attempt 1 of s2 holds past its 1s timeout inside the run; attempt 2, on its own, is let go.
  await waitUntil(async () => (await runLines(id)).includes('s2 2'), 's2 attempt 2', 30_000, 20);
  await rm(join(sandbox, 'hold', 's2'));
  const report = await waitForReport(handle);

  expect(report.status).toBe('succeeded');
  expect(await runLines(id)).toEqual(['s1 1', 's2 1', 's2 2', 's3 1']);
  expect(report.jobs.map((j) => j.attempts)).toEqual([1, 2, 1]);
  expect(Object.keys(await rowFiles(id))).toHaveLength(3);
});

test('a worker killed in a run of local jobs: a new worker re-runs them, every row is written once', async () => {
  const id = `local-run-${randomUUID()}`;
  await writeFile(join(sandbox, 'hold', 's6'), '');
  const handle = await startProcess(client, rows(10), { taskQueue, registry, id });
  const killedAt = await crashAt(id, 's6', `run ${id}/s6 1`);
  const report = await waitForReport(handle);

  expect(report.status).toBe('succeeded');
  const expected = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`${id}_s${i + 1}`, `row ${i + 1}`]));
  expect(await rowFiles(id)).toEqual(expected);
  const lines = await attempts(id);
  // The job in flight when the worker died ran again on the new worker; no step was skipped.
  expect(count(lines, (l) => l.startsWith(`run ${id}/s6 `))).toBeGreaterThanOrEqual(2);
  for (let i = 1; i <= 10; i += 1) expect(count(lines, (l) => l.startsWith(`run ${id}/s${i} `))).toBeGreaterThan(0);
  // Local jobs leave markers, not activity tasks: the ten as one run, recorded once, by the worker that finished it.
  const events = await eventTypes(id);
  expect(count(events, (e) => e.includes('ACTIVITY_TASK_SCHEDULED'))).toBe(0);
  expect(await localActivityMarkers(id)).toBe(1);
  recordFigure('local-jobs crash mid-run', {
    recoveryMs: Date.parse(report.endedAt ?? '') - killedAt,
    runAttempts: lines.length,
    events: events.length,
    workflowTasks: count(events, (e) => e === 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED'),
  });
});

test('a worker killed in the reverts of local jobs: a new worker finishes the unwinding, every row is removed', async () => {
  const id = `local-revert-${randomUUID()}`;
  await writeFile(join(sandbox, 'hold', 's3.revert'), '');
  const handle = await startProcess(client, rows(6, true), { taskQueue, registry, id });
  await crashAt(id, 's3.revert', `revert ${id}/s3/revert 1`);
  const report = await waitForReport(handle);

  expect(report.status).toBe('reverted');
  expect(report.failedStep).toBe('s6');
  expect(report.error?.type).toBe('RowRefused');
  expect(report.revertOrder).toEqual(['s5', 's4', 's3', 's2', 's1']);
  expect(await rowFiles(id)).toEqual({});
  const lines = await attempts(id);
  for (let i = 1; i <= 5; i += 1) {
    expect(count(lines, (l) => l.startsWith(`revert ${id}/s${i}/revert `))).toBeGreaterThan(0);
  }
  expect(count(lines, (l) => l.startsWith(`revert ${id}/s3/revert `))).toBeGreaterThanOrEqual(2);
  expect(count(lines, (l) => l.startsWith(`revert ${id}/s6/`))).toBe(0);
});
