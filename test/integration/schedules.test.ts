/**
 * Schedules on Temporal Schedules, against the real server (the embedded dev server supports them), with a journal
 * of every job run and revert: a schedule's run is an ordinary process (report, search attributes, a link to its
 * schedule, planned by its worker); applying a definition is idempotent and keeps an operator's pause; describe
 * shows next runs and recent runs with their status; a spec the server cannot read creates nothing; a backfill takes
 * exactly the past times in its range; a failed run pauses a schedule that asks for it; cancel-other unwinds the
 * running process before the next one starts.
 */
import { ScheduleNotFoundError } from '@temporalio/client';
import type { ScheduleSpecInput } from '../../src/schema/definition';
import {
  SCHEDULED_BY_KEY,
  applySchedule,
  backfillSchedule,
  createSchedule,
  describeSchedule,
  getReport,
  listSchedules,
  triggerSchedule,
  waitForReport,
} from '../../src/client';
import { PROCESS_NAME_KEY, PROCESS_STATUS_KEY } from '../../src/shared/search-attributes';
import type { JournalEntry } from '../support/journal-jobs';
import { journalLibrary } from '../support/journal-jobs';
import { waitUntil } from '../support/observe';
import type { TestWorker } from '../support/worker';
import { startTestWorker } from '../support/worker';

const journal: JournalEntry[] = [];
let tw: TestWorker;
const created: string[] = [];

beforeAll(async () => {
  tw = await startTestWorker([journalLibrary(journal)], 'schedules');
});
afterAll(async () => {
  for (const id of created)
    await tw.client.schedule
      .getHandle(id)
      .delete()
      .catch(() => undefined);
  await tw?.shutdown();
});

const unique = (name: string) => `${name}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;
const task = (id: string, args: Record<string, unknown> = {}) => ({ id, job: 'task', args: { value: id, ...args } });
const journalOf = (id: string) => journal.filter((e) => e.key.startsWith(`${id}/`)).map((e) => `${e.stepId}:${e.kind}`);
/** Never due while the tests run: runs come from trigger and backfill. */
const YEARLY = '0 3 1 1 *';

function definition(name: string, schedule: ScheduleSpecInput, steps: unknown[] = [task('a'), task('b')]) {
  created.push(schedule.id ?? name);
  return { name, params: { outcome: 'succeed' }, steps, schedule };
}

test('a scheduled run is an ordinary process: its report, search attributes, memo, and a link to its schedule', async () => {
  const id = unique('sched-run');
  const def = definition('sched-run', { id, cron: YEARLY, params: { outcome: 'succeed' } }, [
    task('a'),
    task('b', { outcome: { $param: 'outcome' } }),
  ]);
  await createSchedule(tw.client, def, { taskQueue: tw.taskQueue, registry: tw.registry });
  const processId = await triggerSchedule(tw.client, id);
  expect(processId).toMatch(new RegExp(`^${id}-\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$`));
  const handle = tw.client.workflow.getHandle(processId ?? '');
  const report = await waitForReport(handle);
  expect(report).toMatchObject({ processId, name: 'sched-run', status: 'succeeded' });
  expect(journalOf(processId ?? '')).toEqual(['a:run', 'b:run']);

  const description = await handle.describe();
  expect(description.typedSearchAttributes.get(PROCESS_NAME_KEY)).toBe('sched-run');
  expect(description.typedSearchAttributes.get(PROCESS_STATUS_KEY)).toBe('succeeded');
  expect(description.typedSearchAttributes.get(SCHEDULED_BY_KEY)).toBe(id);
  expect(description.memo).toMatchObject({ process: 'sched-run', schedule: id });
  // Planned by its worker (a local activity), not from facts the schedule was made with long before.
  const history = await handle.fetchHistory();
  expect(history.events?.some((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')).toBe(true);

  const info = await describeSchedule(tw.client, id);
  expect(info).toMatchObject({ scheduleId: id, process: 'sched-run', paused: false, overlap: 'skip', actionsTaken: 1 });
  expect(info.recentRuns).toEqual([expect.objectContaining({ processId, status: 'succeeded' })]);
  expect(info.nextRuns.length).toBeGreaterThan(0);
  expect(Date.parse(info.nextRuns[0] ?? '')).toBeGreaterThan(Date.now());
  expect(info.spec).toBe('cron "0 3 1 JAN *"');
  // Listed among Jipper's schedules (visibility is eventually consistent).
  await waitUntil(
    async () => (await listSchedules(tw.client, { process: 'sched-run' })).some((s) => s.scheduleId === id),
    'the schedule in the list'
  );
});

test('apply is idempotent: created, unchanged, updated on a change; an operator pause and its note are kept', async () => {
  const id = unique('sched-apply');
  const options = { taskQueue: tw.taskQueue, registry: tw.registry };
  const def = definition('sched-apply', { id, cron: YEARLY });
  expect(await applySchedule(tw.client, def, options)).toMatchObject({ outcome: 'created', paused: false });
  const before = await tw.client.schedule.getHandle(id).describe();
  expect(await applySchedule(tw.client, structuredClone(def), options)).toMatchObject({ outcome: 'unchanged' });
  // Nothing was written: the server's last update time is the same.
  expect((await tw.client.schedule.getHandle(id).describe()).info.lastUpdatedAt).toEqual(before.info.lastUpdatedAt);

  await tw.client.schedule.getHandle(id).pause('disk swap in progress');
  const changed = { ...def, schedule: { ...def.schedule, jitter: '1m' }, steps: [task('a'), task('b'), task('c')] };
  expect(await applySchedule(tw.client, changed, options)).toMatchObject({
    outcome: 'updated',
    paused: true,
    note: 'disk swap in progress',
  });
  const info = await describeSchedule(tw.client, id);
  expect(info).toMatchObject({ paused: true, note: 'disk swap in progress', spec: 'cron "0 3 1 JAN *" · jitter 1m' });
  // The runs get the new definition.
  await tw.client.schedule.getHandle(id).unpause('done');
  const processId = await triggerSchedule(tw.client, id);
  await waitForReport(tw.client.workflow.getHandle(processId ?? ''));
  expect(journalOf(processId ?? '')).toEqual(['a:run', 'b:run', 'c:run']);
  expect(await applySchedule(tw.client, changed, options)).toMatchObject({ outcome: 'unchanged', paused: false });

  // Another process's definition does not take the schedule over.
  await expect(applySchedule(tw.client, { ...changed, name: 'someone-else' }, options)).rejects.toMatchObject({
    name: 'ScheduleConflictError',
  });
});

test('a spec the server cannot read is refused in one line, and nothing is created', async () => {
  const id = unique('sched-bad');
  const def = definition('sched-bad', { id, cron: '61 * * * *' });
  await expect(createSchedule(tw.client, def, { taskQueue: tw.taskQueue })).rejects.toMatchObject({
    name: 'ScheduleSpecError',
    message: `schedule "${id}" (cron "61 * * * *"): Temporal refused it: Minute is not in range [0-59]`,
  });
  await expect(tw.client.schedule.getHandle(id).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
});

test('a backfill takes exactly the past times in its range, each an ordinary process', async () => {
  const id = unique('sched-backfill');
  await createSchedule(tw.client, definition('sched-backfill', { id, every: '1h' }), { taskQueue: tw.taskQueue });
  const hour = 3_600_000;
  const top = Math.floor(Date.now() / hour) * hour;
  // From 10 minutes past (top - 3h) to 10 minutes before the top: the marks top - 2h and top - 1h.
  const from = new Date(top - 3 * hour + 600_000);
  const to = new Date(top - 600_000);
  await backfillSchedule(tw.client, id, { from, to, overlap: 'allow-all' });
  const expected = [top - 2 * hour, top - hour].map((t) => `${id}-${new Date(t).toISOString().replace('.000Z', 'Z')}`);
  for (const processId of expected) {
    const report = await waitUntil(
      () => waitForReport(tw.client.workflow.getHandle(processId)),
      `backfilled run ${processId}`,
      60_000,
      250
    );
    expect(report.status).toBe('succeeded');
  }
  const info = await describeSchedule(tw.client, id);
  expect(info.recentRuns.map((r) => r.processId).sort()).toEqual(expected.sort());
  await expect(backfillSchedule(tw.client, id, { from: to, to: from })).rejects.toMatchObject({
    name: 'ScheduleSpecError',
  });
  await expect(backfillSchedule(tw.client, id, { from, to: new Date(Date.now() + hour) })).rejects.toMatchObject({
    name: 'ScheduleSpecError',
    message: expect.stringMatching(/is in the future/) as unknown,
  });
});

test('pauseOnFailure: a run that did not succeed pauses the schedule, and no run starts after it', async () => {
  const id = unique('sched-pof');
  const def = definition('sched-pof', { id, every: '3s', pauseOnFailure: true }, [
    task('a'),
    task('b', { outcome: 'fail-nonretryable' }),
  ]);
  await createSchedule(tw.client, def, { taskQueue: tw.taskQueue, registry: tw.registry });
  const paused = await waitUntil(
    async () => {
      const info = await describeSchedule(tw.client, id);
      return info.paused && info;
    },
    'the schedule to pause itself',
    90_000,
    500
  );
  expect(paused.note).toMatch(/reverted at step "b"/);
  expect(paused.recentRuns.length).toBeGreaterThanOrEqual(1);
  for (const run of paused.recentRuns) expect(run.status).toBe('reverted');
  // Each run unwound: a ran, b failed, a was reverted.
  for (const run of paused.recentRuns) expect(journalOf(run.processId)).toEqual(['a:run', 'b:run', 'a:revert']);
  await new Promise((resolve) => setTimeout(resolve, 7_000));
  expect((await describeSchedule(tw.client, id)).actionsTaken).toBe(paused.actionsTaken);
});

test('cancel-other: the running process is cancelled and unwound before the next one starts', async () => {
  const id = unique('sched-cancel');
  const def = definition('sched-cancel', { id, cron: YEARLY, overlap: 'cancel-other' }, [
    task('a'),
    task('b', { durationMs: 15_000 }),
  ]);
  await createSchedule(tw.client, def, { taskQueue: tw.taskQueue, registry: tw.registry });
  const first = await triggerSchedule(tw.client, id, { overlap: 'cancel-other' });
  await waitUntil(
    async () => (await getReport(tw.client, first ?? '')).jobs.find((j) => j.stepId === 'b')?.status === 'running',
    'the first run to be in b'
  );
  const second = await triggerSchedule(tw.client, id, { overlap: 'cancel-other', waitMs: 60_000 });
  // Diagnostics when the scheduler started no second run: how the first run and the schedule stand.
  if (!second) {
    const firstStatus = (await tw.client.workflow.getHandle(first ?? '').describe()).status.name;
    throw new Error(`no second run (first ${firstStatus}): ${JSON.stringify(await describeSchedule(tw.client, id))}`);
  }
  expect(second).not.toBe(first);
  const report = await waitForReport(tw.client.workflow.getHandle(first ?? ''));
  expect(report).toMatchObject({ status: 'cancelled', revertOrder: ['a'] });
  await waitUntil(async () => journalOf(second ?? '').includes('a:run'), 'the second run to start');
  // The first was unwound (its revert ran) before the second run's first job.
  const order = journal.map((e) => `${e.key.split('/')[0]}:${e.stepId}:${e.kind}`);
  expect(order.indexOf(`${first}:a:revert`)).toBeLessThan(order.indexOf(`${second}:a:run`));
  await tw.client.workflow.getHandle(second ?? '').cancel();
  expect((await waitForReport(tw.client.workflow.getHandle(second ?? ''))).status).toBe('cancelled');
});
