/**
 * Cancellation at every point of a process: before its first job, mid-job, mid-parallel-group, mid-revert, and while
 * a long process unwinds across continue-as-new. The run always ends with every completed job reverted, exactly once,
 * and a report that says so; a revert in progress is never cut short.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import type { ProcessDefinition } from '../../src/schema/definition';
import type { ProcessReport } from '../../src/shared/report';
import { startProcess, waitForReport } from '../../src/client';
import type { JournalEntry } from '../support/journal-jobs';
import { journalLibrary } from '../support/journal-jobs';
import { waitForReportWhere } from '../support/observe';
import { createJipperWorker } from '../../src/worker/worker';
import type { TestWorker } from '../support/worker';
import { serverAddress, startTestWorker } from '../support/worker';

const journal: JournalEntry[] = [];
let tw: TestWorker;

beforeAll(async () => {
  tw = await startTestWorker([journalLibrary(journal)], 'cancellation');
});
afterAll(async () => {
  await tw?.shutdown();
});

const task = (id: string, args: Record<string, unknown> = {}) => ({ id, job: 'task', args: { value: id, ...args } });

function entriesOf(report: ProcessReport, kind: JournalEntry['kind']): string[] {
  return journal.filter((e) => e.key.startsWith(`${report.processId}/`) && e.kind === kind).map((e) => e.stepId);
}
const statuses = (report: ProcessReport) => Object.fromEntries(report.jobs.map((j) => [j.stepId, j.status]));

async function start(def: ProcessDefinition): Promise<WorkflowHandle> {
  return startProcess(tw.client, def, { taskQueue: tw.taskQueue, registry: tw.registry });
}

/** Cancels, then checks the workflow ended cancelled and returns its final report. */
async function cancelled(handle: WorkflowHandle): Promise<ProcessReport> {
  await handle.cancel();
  const err: unknown = await handle.result().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
  const report = await waitForReport(handle);
  expect(report.status).toBe('cancelled');
  expect(report.endedAt).toBeDefined();
  return report;
}

const waitFor = (handle: WorkflowHandle, check: (r: ProcessReport) => boolean, what: string) =>
  waitForReportWhere(tw.client, handle.workflowId, check, what, 30_000);

test('before the first job: nothing runs, every job is not_run, the run ends cancelled with its report', async () => {
  // No worker polls this queue until the cancellation has been requested: the first workflow task sees both.
  const taskQueue = `${tw.taskQueue}-late`;
  const handle = await startProcess(tw.client, { name: 'cancel-early', steps: [task('a'), task('b')] }, { taskQueue });
  await handle.cancel();
  const connection = await NativeConnection.connect({ address: serverAddress() });
  const { worker } = await createJipperWorker({ connection, taskQueue, libraries: [journalLibrary(journal)] });
  try {
    const report = await worker.runUntil(cancelled(handle));
    expect(statuses(report)).toEqual({ a: 'not_run', b: 'not_run' });
    expect(report.error?.type).toBe('cancelled');
    expect(entriesOf(report, 'run')).toEqual([]);
  } finally {
    await connection.close();
  }
});

test('mid-job: the running job is cancelled through its heartbeat, completed jobs are reverted', async () => {
  const handle = await start({
    name: 'cancel-mid-job',
    steps: [task('a'), task('b'), task('c', { durationMs: 20_000 }), task('d')],
  });
  await waitFor(handle, (r) => r.jobs[2]?.status === 'running', 'step c to run');
  const report = await cancelled(handle);
  expect(statuses(report)).toEqual({ a: 'reverted', b: 'reverted', c: 'failed', d: 'not_run' });
  expect(report.jobs[2]?.error?.type).toBe('cancelled');
  expect(entriesOf(report, 'revert')).toEqual(['b', 'a']);
});

test('mid-parallel-group: running members are cancelled, finished members and earlier steps are reverted', async () => {
  const handle = await start({
    name: 'cancel-mid-group',
    steps: [
      task('a'),
      { id: 'group', parallel: [task('b'), task('c', { durationMs: 20_000 }), task('d', { durationMs: 20_000 })] },
      task('e'),
    ],
  });
  await waitFor(
    handle,
    (r) => r.jobs[1]?.status === 'succeeded' && r.jobs[2]?.status === 'running' && r.jobs[3]?.status === 'running',
    'b to finish while c and d run'
  );
  const report = await cancelled(handle);
  expect(statuses(report)).toEqual({ a: 'reverted', b: 'reverted', c: 'failed', d: 'failed', e: 'not_run' });
  expect(entriesOf(report, 'revert')).toEqual(['b', 'a']);
});

test('mid-revert: a second cancellation does not cut a revert short; each revert runs once, to completion', async () => {
  const handle = await start({
    name: 'cancel-mid-revert',
    steps: [
      task('a', { revertDurationMs: 1_500 }),
      task('b', { revertDurationMs: 1_500 }),
      task('c', { durationMs: 20_000 }),
    ],
  });
  await waitFor(handle, (r) => r.jobs[2]?.status === 'running', 'step c to run');
  await handle.cancel();
  await waitFor(handle, (r) => r.jobs[1]?.revert?.status === 'running', 'the revert of b to run');
  const report = await cancelled(handle);
  expect(statuses(report)).toEqual({ a: 'reverted', b: 'reverted', c: 'failed' });
  expect(report.jobs.slice(0, 2).map((j) => j.revert)).toEqual([
    expect.objectContaining({ status: 'reverted', attempts: 1 }),
    expect.objectContaining({ status: 'reverted', attempts: 1 }),
  ]);
  expect(entriesOf(report, 'revert')).toEqual(['b', 'a']);
});

test('a cancellation while a failure is being unwound changes nothing: every revert completes once, the run ends reverted', async () => {
  const handle = await start({
    name: 'cancel-while-unwinding',
    steps: [
      task('a', { revertDurationMs: 1_500 }),
      task('b', { revertDurationMs: 1_500 }),
      task('c'),
      task('d', { outcome: 'fail-nonretryable' }),
    ],
  });
  await waitFor(handle, (r) => r.jobs[1]?.revert?.status === 'running', 'the revert of b to run');
  await handle.cancel();
  const report = await waitForReport(handle);
  expect(report).toMatchObject({ status: 'reverted', failedStep: 'd', error: { type: 'TaskRefused' } });
  expect(statuses(report)).toEqual({ a: 'reverted', b: 'reverted', c: 'reverted', d: 'failed' });
  expect(report.jobs.slice(0, 3).map((j) => [j.revert?.status, j.revert?.attempts])).toEqual([
    ['reverted', 1],
    ['reverted', 1],
    ['reverted', 1],
  ]);
  expect(entriesOf(report, 'revert')).toEqual(['c', 'b', 'a']);
});

test('a cancelled long process unwinds fully across continue-as-new', async () => {
  const ids = Array.from({ length: 30 }, (_, i) => `s${i}`);
  const handle = await start({
    name: 'cancel-long',
    options: { continueAsNewAfterEvents: 100 },
    steps: [...ids.map((id) => task(id)), task('slow', { durationMs: 20_000 })],
  });
  await waitFor(handle, (r) => r.jobs.at(-1)?.status === 'running', 'the last step to run');
  const report = await cancelled(handle);
  expect(report.continuedAsNew).toBeGreaterThanOrEqual(2);
  expect(entriesOf(report, 'revert')).toEqual([...ids].reverse());
  expect(report.jobs.filter((j) => j.status === 'reverted')).toHaveLength(ids.length);
});
