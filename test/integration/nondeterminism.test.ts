/**
 * A workflow change that breaks running histories fails loudly, and is recoverable:
 *
 * - live: a process started by the released code is picked up, mid-run, by a worker running the changed code; its
 *   workflow task fails with a determinism violation and keeps being retried. The process does not end (Jipper does
 *   not set `workflowFailureErrorTypes`: failing it would leave its completed jobs unreverted), and the stuck task is
 *   visible from the server ({@link findStuckWorkflowTask}). Once the released code is back, the process resumes where
 *   it was and succeeds.
 * - replay: that run's history replays against the released code, and fails with DeterminismViolationError against
 *   the changed code.
 */
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { JobRegistry } from '../../src/runtime/registry';
import { startProcess, waitForReport } from '../../src/client';
import { findStuckWorkflowTask } from '../../src/client/stuck-task';
import { workflowsPath } from '../../src/worker/worker';
import { recordFigure } from '../support/figures';
import type { JournalEntry } from '../support/journal-jobs';
import { journalLibrary } from '../support/journal-jobs';
import { waitUntil } from '../support/observe';
import { testConnection } from '../support/server';
import { serverAddress } from '../support/worker';

const journal: JournalEntry[] = [];
const library = journalLibrary(journal);
const taskQueue = `nondeterminism-${randomUUID()}`;
let connection: NativeConnection;
let activityWorker: Worker;
let activitiesRunning: Promise<void>;
let released: string;
let drifted: string;

beforeAll(async () => {
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // Another test file in this jest worker installed it already.
  }
  connection = await NativeConnection.connect({ address: serverAddress() });
  // Jobs run on a worker of their own, so workflow workers can come and go like deploys while a job runs.
  activityWorker = await Worker.create({ connection, taskQueue, activities: new JobRegistry([library]).activities() });
  activitiesRunning = activityWorker.run();
  const bundle = async (path: string) =>
    (await bundleWorkflowCode({ workflowsPath: path, logger: new DefaultLogger('ERROR') })).code;
  released = await bundle(workflowsPath());
  drifted = await bundle(require.resolve('../support/drifted-workflows'));
}, 120_000);

afterAll(async () => {
  activityWorker?.shutdown();
  await activitiesRunning;
  await connection?.close();
});

/**
 * A workflow worker that runs no jobs (only the plan, a local activity), with no cache: every task replays the whole
 * history, as after a deploy.
 */
function workflowWorker(code: string): Promise<Worker> {
  return Worker.create({
    connection,
    taskQueue,
    workflowBundle: { code },
    activities: new JobRegistry([library]).activities(),
    enableNonLocalActivities: false,
    maxCachedWorkflows: 0,
  });
}

test('a change that breaks a running history: the task fails visibly and retries; the released code resumes it', async () => {
  const { client, close } = await testConnection();
  const registry = new JobRegistry([library]);
  let handle: WorkflowHandle | undefined;

  const first = await workflowWorker(released);
  await first.runUntil(async () => {
    handle = await startProcess(
      client,
      {
        name: 'deploy-mid-run',
        steps: [
          { id: 'a', job: 'task', args: { durationMs: 2_000 } },
          { id: 'b', job: 'task' },
        ],
      },
      { taskQueue, registry }
    );
    await waitUntil(async () => journal.some((e) => e.key === `${handle?.workflowId}/a`), 'step a to start');
  });
  if (!handle) throw new Error('not started');
  const processId = handle.workflowId;

  // The bad deploy: step a completes while only the changed code runs workflows.
  const bad = await workflowWorker(drifted);
  const stuck = await bad.runUntil(
    waitUntil(
      async () => {
        const found = await findStuckWorkflowTask(client, processId);
        return found !== undefined && found.attempt >= 2 && found;
      },
      'the workflow task to fail repeatedly',
      60_000
    )
  );
  expect(stuck.message).toMatch(/nondetermin/i);
  const description = await handle.describe();
  expect(description.status.name).toBe('RUNNING');
  const failures = (await handle.fetchHistory()).events?.filter((e) => e.workflowTaskFailedEventAttributes) ?? [];
  expect(failures.length).toBeGreaterThanOrEqual(1);
  expect(failures[0]?.workflowTaskFailedEventAttributes?.cause).toBe(
    temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR
  );
  expect(journal.filter((e) => e.key === `${processId}/b`)).toEqual([]);

  // Roll back: the released code replays the history and carries on from where the process was.
  const fixed = await workflowWorker(released);
  const report = await fixed.runUntil(waitForReport(handle));
  expect(report.status).toBe('succeeded');
  expect(journal.filter((e) => e.key.startsWith(`${processId}/`)).map((e) => `${e.kind} ${e.stepId}`)).toEqual([
    'run a',
    'run b',
  ]);
  expect(await findStuckWorkflowTask(client, processId)).toBeUndefined();
  recordFigure('non-determinism', { stuckAttemptsSeen: stuck.attempt, message: stuck.message.slice(0, 120) });

  // Replay: the same history passes with the released code and is a determinism violation for the changed code.
  const history = await handle.fetchHistory();
  await expect(
    Worker.runReplayHistory({ workflowBundle: { code: released } }, history, processId)
  ).resolves.toBeUndefined();
  await expect(
    Worker.runReplayHistory({ workflowBundle: { code: drifted } }, history, processId)
  ).rejects.toMatchObject({
    name: 'DeterminismViolationError',
  });
  await close();
});
