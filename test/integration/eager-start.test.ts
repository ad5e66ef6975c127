/**
 * Eager workflow start (`eager: true` on startProcess): with a client on the worker's own connection and a server that
 * allows it (Jipper's dev and test servers do: `JIPPER_DYNAMIC_CONFIG`), the server hands the process's first workflow
 * task back in the start's reply — it says so (`eagerlyStarted`) — and the process runs as any other. Without it, the
 * start is an ordinary one.
 */
import { startProcess, waitForReport } from '../../src/client';
import type { JournalEntry } from '../support/journal-jobs';
import { journalLibrary } from '../support/journal-jobs';
import type { TestWorker } from '../support/worker';
import { startTestWorker } from '../support/worker';

const journal: JournalEntry[] = [];
let w: TestWorker;

beforeAll(async () => {
  w = await startTestWorker([journalLibrary(journal)], 'eager');
});

afterAll(async () => {
  await w?.shutdown();
});

const definition = {
  name: 'eager',
  steps: [
    { id: 'a', job: 'one-way', args: { note: 'first' } },
    { id: 'b', job: 'one-way', args: { note: 'second' } },
  ],
};

test.each([
  { eager: true, expected: true },
  { eager: false, expected: false },
])('eager: $eager — the server starts it eagerly: $expected; every job runs', async ({ eager, expected }) => {
  const handle = await startProcess(w.client, definition, { taskQueue: w.taskQueue, registry: w.registry, eager });
  expect(handle.eagerlyStarted).toBe(expected);
  const report = await waitForReport(handle);
  expect(report.status).toBe('succeeded');
  const runs = journal.filter((e) => e.key.startsWith(`${handle.workflowId}/`)).map((e) => e.stepId);
  expect(runs).toEqual(['a', 'b']);
});
