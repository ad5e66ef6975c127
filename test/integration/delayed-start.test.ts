/**
 * Delayed starts on Temporal's start delay, against the real server: until its time a process is `waiting` (its
 * search attribute, its report, a watcher), no job runs, and a second start with its id is refused; cancelled before
 * its time it ends `cancelled` at once with nothing to unwind (Temporal cuts the delay short for a cancellation, so
 * the workflow still writes its report); otherwise it begins when the delay is over. A start time in the past starts
 * nothing.
 */
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { ProcessAlreadyStartedError } from '../../src/client';
import { getReport, startProcess, waitForReport, watchProcess } from '../../src/client';
import type { ProcessReport } from '../../src/shared/report';
import { PROCESS_STATUS_KEY } from '../../src/shared/search-attributes';
import type { JournalEntry } from '../support/journal-jobs';
import { journalLibrary } from '../support/journal-jobs';
import { waitUntil } from '../support/observe';
import type { TestWorker } from '../support/worker';
import { startTestWorker } from '../support/worker';

const journal: JournalEntry[] = [];
let tw: TestWorker;

beforeAll(async () => {
  tw = await startTestWorker([journalLibrary(journal)], 'delayed-start');
});
afterAll(async () => {
  await tw?.shutdown();
});

const unique = (name: string) => `${name}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;
const task = (id: string) => ({ id, job: 'task', args: { value: id } });
const def = { name: 'later', steps: [task('a'), { parallel: [task('b'), task('c')] }] };
const journalOf = (id: string) => journal.filter((e) => e.key.startsWith(`${id}/`)).map((e) => `${e.stepId}:${e.kind}`);
const statusAttribute = async (id: string) =>
  (await tw.client.workflow.getHandle(id).describe()).typedSearchAttributes.get(PROCESS_STATUS_KEY);

test('waiting until its time: nothing runs, it shows as waiting, and its id is taken', async () => {
  const id = unique('later-wait');
  const requested = Date.now();
  await startProcess(tw.client, def, { taskQueue: tw.taskQueue, registry: tw.registry, id, startDelay: '1h' });
  expect(await statusAttribute(id)).toBe('waiting');
  const report = await getReport(tw.client, id);
  expect(report).toMatchObject({ processId: id, name: 'later', status: 'waiting', needsAttention: [] });
  expect(report.jobs.map((j) => `${j.group ?? ''}/${j.stepId}:${j.status}`)).toEqual([
    '/a:pending',
    'parallel/b:pending',
    'parallel/c:pending',
  ]);
  const startsAt = Date.parse(report.startsAt ?? '');
  expect(startsAt).toBeGreaterThanOrEqual(requested + 3_600_000 - 1_000);
  expect(startsAt).toBeLessThanOrEqual(Date.now() + 3_600_000 + 1_000);
  // Visible to `jipper list --status waiting` (visibility is eventually consistent).
  await waitUntil(async () => {
    for await (const info of tw.client.workflow.list({ query: `WorkflowId = '${id}' AND JipperStatus = 'waiting'` }))
      return info.workflowId === id;
    return false;
  }, 'the waiting run in the visibility list');
  const refused = (await startProcess(tw.client, def, { taskQueue: tw.taskQueue, id, rerun: true }).catch(
    (e: unknown) => e
  )) as ProcessAlreadyStartedError;
  expect(refused.existing).toMatchObject({ status: 'waiting', live: true });
  expect(journalOf(id)).toEqual([]);
  await tw.client.workflow.getHandle(id).terminate('test over');
});

test('cancelled before its time: it ends cancelled at once, every job not_run, nothing ran or was reverted', async () => {
  const id = unique('later-cancel');
  const handle = await startProcess(tw.client, def, { taskQueue: tw.taskQueue, id, startDelay: '2h' });
  const cancelledAt = Date.now();
  await handle.cancel();
  const report = await waitForReport(handle);
  expect(Date.now() - cancelledAt).toBeLessThan(60_000); // not two hours
  expect(report).toMatchObject({ status: 'cancelled', revertOrder: [], needsAttention: [] });
  expect(report.error?.type).toBe('cancelled');
  expect(report.jobs.map((j) => j.status)).toEqual(['not_run', 'not_run', 'not_run']);
  expect(journalOf(id)).toEqual([]);
  const history = await handle.fetchHistory();
  expect(history.events?.some((e) => e.activityTaskScheduledEventAttributes)).toBe(false);
  expect(await statusAttribute(id)).toBe('cancelled');
});

test('it begins when the delay is over, and a watcher sees it wait, then run', async () => {
  const id = unique('later-run');
  const requested = Date.now();
  const handle = (await startProcess(tw.client, def, {
    taskQueue: tw.taskQueue,
    registry: tw.registry,
    id,
    startAt: new Date(requested + 3_000),
  })) as WorkflowHandleWithFirstExecutionRunId;
  const seen: ProcessReport['status'][] = [];
  const report = await watchProcess(tw.client, handle, {
    onReport: (r) => {
      if (seen.at(-1) !== r.status) seen.push(r.status);
    },
  });
  expect(seen[0]).toBe('waiting');
  expect(seen.at(-1)).toBe('succeeded');
  expect(report.status).toBe('succeeded');
  const first = Date.parse(report.jobs[0]?.startedAt ?? '');
  expect(first).toBeGreaterThanOrEqual(requested + 3_000 - 100);
  expect(journalOf(id)[0]).toBe('a:run');
  expect(journalOf(id).sort()).toEqual(['a:run', 'b:run', 'c:run']);
  expect(await statusAttribute(id)).toBe('succeeded');
});

test('the start tolerance counts from the delayed start, not from the request', async () => {
  const id = unique('later-tolerance');
  const report = await waitForReport(
    await startProcess(
      tw.client,
      { ...def, name: 'later-tolerance', options: { startWithin: '2s' } },
      { taskQueue: tw.taskQueue, registry: tw.registry, id, startDelay: '4s' }
    )
  );
  // Begun 4 s after the request, its first job started well within 2 s of that.
  expect(report.status).toBe('succeeded');
  expect(journalOf(id)[0]).toBe('a:run');
});

test('a start time in the past is refused and starts nothing', async () => {
  const id = unique('later-past');
  const err = await startProcess(tw.client, def, {
    taskQueue: tw.taskQueue,
    id,
    startAt: new Date(Date.now() - 60_000),
  }).catch((e: unknown) => e);
  expect(err).toMatchObject({ name: 'StartTimeError', message: expect.stringMatching(/is in the past/) as unknown });
  await expect(tw.client.workflow.getHandle(id).describe()).rejects.toMatchObject({ name: 'WorkflowNotFoundError' });
});
