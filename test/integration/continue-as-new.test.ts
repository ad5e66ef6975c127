/**
 * When a long process continues as new: at `continueAsNewAfterEvents` (default 8,000) or 8 MB of history, not at
 * Temporal's suggestion. A dev server of this file's own suggests continuing from 30 events on (the default is 4,096),
 * so a short process sees the suggestion: with the default settings it stays in one history; with its own threshold it
 * continues as new there. Checked on the histories, not only on the report.
 */
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { startProcess, waitForReport } from '../../src/client';
import { JobRegistry } from '../../src/runtime/registry';
import type { ProcessDefinition } from '../../src/schema/definition';
import { startTestWorker } from '../../src/testing/worker';
import type { TestServer } from '../../src/testing/server';
import { startTestServer } from '../../src/testing/server';
import type { JournalEntry } from '../support/journal-jobs';
import { journalLibrary } from '../support/journal-jobs';

const journal: JournalEntry[] = [];
const registry = new JobRegistry([journalLibrary(journal, new Set())]);
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ address: false, dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 30 } });
});
afterAll(async () => {
  await server?.teardown();
});

const steps = (n: number): ProcessDefinition['steps'] =>
  Array.from({ length: n }, (_, i) => ({ id: `s${i}`, job: 'task', args: { value: i } }));

/** Whether the server suggested continuing as new in any workflow task of the run, and how its history ended. */
async function runHistory(handle: WorkflowHandle): Promise<{ suggested: boolean; last: string; events: number }> {
  const history = await handle.fetchHistory();
  const events = history.events ?? [];
  return {
    suggested: events.some((e) => e.workflowTaskStartedEventAttributes?.suggestContinueAsNew === true),
    last: Object.keys(events.at(-1) ?? {}).find((key) => key.endsWith('EventAttributes')) ?? '',
    events: events.length,
  };
}

test('with the default settings a process does not continue as new at the server suggestion', async () => {
  const taskQueue = `can-${randomUUID()}`;
  const worker = await startTestWorker([journalLibrary(journal, new Set())], { address: server.address, taskQueue });
  try {
    const handle = await startProcess(server.client, { name: 'twenty', steps: steps(20) }, { taskQueue, registry });
    const report = await waitForReport(handle);
    expect(report.status).toBe('succeeded');
    expect(report.continuedAsNew).toBeUndefined();
    // One history from start to end, though the server suggested continuing as new well before its end.
    const run = await runHistory(server.client.workflow.getHandle(handle.workflowId, report.runId));
    expect(run.suggested).toBe(true);
    expect(run.events).toBeGreaterThan(100);
    expect(run.last).toBe('workflowExecutionCompletedEventAttributes');
    const ran = journal.filter((e) => e.kind === 'run' && e.key.startsWith(`${handle.workflowId}/`));
    expect(ran.map((e) => e.stepId)).toEqual(steps(20).map((s) => s.id));
  } finally {
    await worker.shutdown();
  }
});

test('a process with its own threshold continues as new there, and carries its results', async () => {
  const taskQueue = `can-${randomUUID()}`;
  const worker = await startTestWorker([journalLibrary(journal, new Set())], { address: server.address, taskQueue });
  try {
    const definition: ProcessDefinition = {
      name: 'twenty-short-runs',
      options: { continueAsNewAfterEvents: 100 },
      steps: steps(20),
    };
    const handle = await startProcess(server.client, definition, { taskQueue, registry });
    const report = await waitForReport(handle);
    expect(report.status).toBe('succeeded');
    expect(report.continuedAsNew).toBe(1);
    const first = await runHistory(server.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId));
    expect(first.last).toBe('workflowExecutionContinuedAsNewEventAttributes');
    expect(first.events).toBeGreaterThanOrEqual(100);
    expect(report.jobs.map((j) => j.result)).toEqual(steps(20).map((s, i) => ({ step: s.id, value: i })));
  } finally {
    await worker.shutdown();
  }
});
