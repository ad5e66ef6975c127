/**
 * A long process under the real default continue-as-new settings (Jipper's 8,000 events, and whatever the server
 * suggests sooner): 2,000 sequential jobs, the last one failing, so the run continues as new on the way forward and
 * again while unwinding, carrying its revert stack. Every completed job is reverted exactly once, newest first, and no
 * run of the chain comes near Temporal's 10,240-event warning.
 */
import type { WorkflowExecutionDescription, WorkflowHandle } from '@temporalio/client';
import { Client, Connection } from '@temporalio/client';
import { startProcess, waitForReport } from '../../src/client';
import { recordFigure } from '../support/figures';
import type { JournalEntry } from '../support/journal-jobs';
import { journalLibrary } from '../support/journal-jobs';
import type { TestWorker } from '../support/worker';
import { serverAddress, startTestWorker } from '../support/worker';

const STEPS = 2_000;
const HISTORY_WARNING_EVENTS = 10_240;
const journal: JournalEntry[] = [];
let tw: TestWorker;

beforeAll(async () => {
  tw = await startTestWorker([journalLibrary(journal)], 'long-process');
});
afterAll(async () => {
  await tw?.shutdown();
});

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;

interface RunFigures {
  runId: string;
  events: number;
  historyBytes: number;
  runs: number;
  reverts: number;
}

test(`${STEPS} steps, failing at the last: continues as new forward and while unwinding, and unwinds fully`, async () => {
  const ids = Array.from({ length: STEPS }, (_, i) => `s${i}`);
  const started = Date.now();
  const handle = await startProcess(
    tw.client,
    {
      name: 'long',
      steps: ids.map((id, i) => ({ id, job: 'task', args: i === STEPS - 1 ? { outcome: 'fail-nonretryable' } : {} })),
    },
    { taskQueue: tw.taskQueue, registry: tw.registry }
  );
  const first: WorkflowExecutionDescription = await handle.describe();
  const report = await waitForReport(handle);
  const totalMs = Date.now() - started;

  expect(report.status).toBe('reverted');
  expect(report.failedStep).toBe(`s${STEPS - 1}`);
  const expected = ids.slice(0, -1).reverse();
  expect(report.revertOrder).toEqual(expected);
  const reverts = journal
    .filter((e) => e.kind === 'revert' && e.key.startsWith(`${report.processId}/`))
    .map((e) => e.stepId);
  expect(reverts).toEqual(expected);
  const runs = journal.filter((e) => e.kind === 'run' && e.key.startsWith(`${report.processId}/`)).map((e) => e.stepId);
  expect(runs).toEqual(ids);
  expect(report.jobs.filter((j) => j.status === 'reverted')).toHaveLength(STEPS - 1);

  // Walk the chain of runs: each one's length, and how many of the reverts it ran.
  // History pages of runs this long exceed gRPC's default 4 MB message limit.
  const connection = await Connection.connect({
    address: serverAddress(),
    channelArgs: { 'grpc.max_receive_message_length': 256 * 1024 * 1024 },
  });
  const client = new Client({ connection });
  const chain: RunFigures[] = [];
  for (let runId: string | undefined = first.runId; runId;) {
    const history: History = await client.workflow.getHandle(handle.workflowId, runId).fetchHistory();
    const events = history.events ?? [];
    const last = events.at(-1);
    chain.push({
      runId,
      events: events.length,
      historyBytes: Buffer.byteLength(JSON.stringify(history)),
      runs: events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'task.run').length,
      reverts: events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'task.revert')
        .length,
    });
    runId = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  await connection.close();
  expect(chain.length).toBe((report.continuedAsNew ?? 0) + 1);
  expect(chain.length).toBeGreaterThanOrEqual(3);
  // The unwinding itself crossed a continue-as-new: the revert stack was carried.
  expect(chain.filter((run) => run.reverts > 0).length).toBeGreaterThanOrEqual(2);
  for (const run of chain) expect(run.events).toBeLessThan(HISTORY_WARNING_EVENTS);
  expect(chain.reduce((n, run) => n + run.runs, 0)).toBe(STEPS);
  expect(chain.reduce((n, run) => n + run.reverts, 0)).toBe(STEPS - 1);

  recordFigure('long process', {
    steps: STEPS,
    totalMs,
    runs: chain.length,
    eventsPerRun: chain.map((r) => r.events),
    maxEventsPerRun: Math.max(...chain.map((r) => r.events)),
    maxHistoryMb: Math.max(...chain.map((r) => r.historyBytes)) / 1e6,
    totalHistoryMb: chain.reduce((n, r) => n + r.historyBytes, 0) / 1e6,
    totalEvents: chain.reduce((n, r) => n + r.events, 0),
  });
});
