/**
 * Run once: a process id names one process. Against the real server, with a journal of every job run: a second
 * start with a used id is refused and says which run holds it and how it stands; a rerun starts a new run only after
 * a run that did not succeed; clients racing to start (or rerun) one id get one process, and its jobs run once.
 */
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { ProcessAlreadyStartedError } from '../../src/client';
import { startProcess, waitForReport } from '../../src/client';
import type { ProcessDefinition } from '../../src/schema/definition';
import type { JournalEntry } from '../support/journal-jobs';
import { journalLibrary } from '../support/journal-jobs';
import type { TestConnection } from '../support/server';
import { testConnection } from '../support/server';
import type { TestWorker } from '../support/worker';
import { startTestWorker } from '../support/worker';

const journal: JournalEntry[] = [];
let tw: TestWorker;
let other: TestConnection;

beforeAll(async () => {
  tw = await startTestWorker([journalLibrary(journal)], 'run-once');
  // A second client, on a connection of its own: two operators starting the same process.
  other = await testConnection();
});
afterAll(async () => {
  await tw?.shutdown();
  await other?.close();
});

const unique = (name: string) => `${name}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;
const task = (id: string, args: Record<string, unknown> = {}) => ({ id, job: 'task', args: { value: id, ...args } });
/** `<stepId>:<kind>` of every journal entry of this process, in the order they happened. */
const journalOf = (id: string) => journal.filter((e) => e.key.startsWith(`${id}/`)).map((e) => `${e.stepId}:${e.kind}`);

/** Starts `count` processes with one id at once, from both clients in turn; returns who started and who was refused. */
async function race(count: number, def: ProcessDefinition, id: string, options: { rerun?: boolean; params?: object }) {
  const clients = [tw.client, other.client];
  const settled = await Promise.allSettled(
    Array.from({ length: count }, (_, i) =>
      startProcess(clients[i % 2] as typeof tw.client, def, {
        taskQueue: tw.taskQueue,
        registry: tw.registry,
        id,
        ...options,
      } as Parameters<typeof startProcess>[2])
    )
  );
  const started = settled.flatMap((s) =>
    s.status === 'fulfilled' ? [s.value as WorkflowHandleWithFirstExecutionRunId] : []
  );
  const refused = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as ProcessAlreadyStartedError] : []));
  return { started, refused };
}

test('clients starting one id at once get one process; the others are told which run holds it', async () => {
  const id = unique('once-race');
  const def = { name: 'once-race', steps: [task('a', { durationMs: 200 }), task('b')] };
  const { started, refused } = await race(6, def, id, {});
  expect(started).toHaveLength(1);
  expect(refused).toHaveLength(5);
  const winner = started[0] as WorkflowHandleWithFirstExecutionRunId;
  for (const err of refused) {
    expect(err.name).toBe('ProcessAlreadyStartedError');
    expect(err.existing).toMatchObject({
      processId: id,
      runId: winner.firstExecutionRunId,
      process: 'once-race',
      live: true,
      status: 'running',
    });
    expect(err.message).toContain(
      `process id "${id}" is in use: once-race run ${winner.firstExecutionRunId} is running`
    );
  }
  expect((await waitForReport(winner)).status).toBe('succeeded');
  // One process: each job ran once, and the id has one run.
  expect(journalOf(id)).toEqual(['a:run', 'b:run']);
  expect((await tw.client.workflow.getHandle(id).describe()).runId).toBe(winner.firstExecutionRunId);
});

test('a process that succeeded keeps its id: a start is refused, a rerun too, and nothing runs again', async () => {
  const id = unique('once-done');
  const def = { name: 'once-done', steps: [task('a')] };
  const first = await startProcess(tw.client, def, { taskQueue: tw.taskQueue, registry: tw.registry, id });
  expect((await waitForReport(first)).status).toBe('succeeded');
  for (const rerun of [false, true]) {
    const err = (await startProcess(other.client, def, { taskQueue: tw.taskQueue, id, rerun }).catch(
      (e: unknown) => e
    )) as ProcessAlreadyStartedError;
    expect(err.name).toBe('ProcessAlreadyStartedError');
    expect(err.existing).toMatchObject({ status: 'succeeded', live: false, runId: first.firstExecutionRunId });
    expect(err.message).toMatch(/ended succeeded at .*; a process that succeeded is not run again/);
  }
  expect(journalOf(id)).toEqual(['a:run']);
});

test('after a run that did not succeed: refused without a rerun; racing reruns start exactly one new run', async () => {
  const id = unique('once-rerun');
  const def = {
    name: 'once-rerun',
    params: { outcome: 'fail-nonretryable' },
    steps: [task('a'), task('b', { outcome: { $param: 'outcome' } })],
  };
  const first = await startProcess(tw.client, def, { taskQueue: tw.taskQueue, registry: tw.registry, id });
  expect((await waitForReport(first)).status).toBe('reverted');

  const refused = (await startProcess(tw.client, def, { taskQueue: tw.taskQueue, id }).catch(
    (e: unknown) => e
  )) as ProcessAlreadyStartedError;
  expect(refused.existing).toMatchObject({ status: 'reverted', live: false });
  expect(refused.message).toContain('ask for a rerun (`rerun: true`) to start it again');
  expect(journalOf(id)).toEqual(['a:run', 'b:run', 'a:revert']);

  // The fix is in (b succeeds now): three reruns at once, one new run.
  const { started, refused: lost } = await race(3, def, id, { rerun: true, params: { outcome: 'succeed' } });
  expect(started).toHaveLength(1);
  expect(lost.map((e) => e.existing.runId)).toEqual([started[0]?.firstExecutionRunId, started[0]?.firstExecutionRunId]);
  const rerun = await waitForReport(started[0] as WorkflowHandleWithFirstExecutionRunId);
  expect(rerun).toMatchObject({ status: 'succeeded', processId: id });
  expect(rerun.runId).not.toBe(first.firstExecutionRunId);
  expect(journalOf(id)).toEqual(['a:run', 'b:run', 'a:revert', 'a:run', 'b:run']);
});
