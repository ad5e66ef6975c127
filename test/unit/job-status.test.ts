/**
 * Job status transitions, without a server: every event moves a job's report row the way the report's reader expects,
 * and an impossible story (succeeding twice, reverting a job that never ran) is an error, never a wrong report.
 */
import { JobTransitionError, applyJobEvent } from '../../src/shared/job-status';
import type { JobReport } from '../../src/shared/report';

const row = (status: JobReport['status'] = 'pending'): JobReport => ({ stepId: 's', job: 'j', status });
const at = '2026-11-26T10:00:00.000Z';

test('forward: pending → running → succeeded, with attempts, result, detail, completion order and wait', () => {
  const r = row();
  applyJobEvent(r, { type: 'start', at });
  expect(r).toMatchObject({ status: 'running', startedAt: at });
  applyJobEvent(r, { type: 'succeed', at, attempts: 2, result: { x: 1 }, order: 3, detail: 'done', waitedMs: 40 });
  expect(r).toMatchObject({
    status: 'succeeded',
    attempts: 2,
    result: { x: 1 },
    completedOrder: 3,
    detail: 'done',
    waitedMs: 40,
  });
});

test('a succeeded job unwinds: reverting → reverted; a failed revert → revert_failed, retried, then reverted', () => {
  const r = applyJobEvent(row('running'), { type: 'succeed', at, attempts: 1, result: null, order: 1 });
  applyJobEvent(r, { type: 'revert-start', at });
  expect(r).toMatchObject({ status: 'reverting', revert: { status: 'running' } });
  applyJobEvent(r, { type: 'revert-fail', at, error: { type: 'Boom', message: 'no' }, attempts: 10 });
  expect(r).toMatchObject({ status: 'revert_failed', revert: { status: 'revert_failed', attempts: 10 } });
  applyJobEvent(r, { type: 'revert-start', at });
  expect(r.revert?.error).toBeUndefined();
  applyJobEvent(r, { type: 'revert-succeed', at, attempts: 1, detail: 'undone' });
  expect(r).toMatchObject({ status: 'reverted', revert: { status: 'reverted', detail: 'undone' } });
});

test('a failed job reverted after its own failure keeps its status `failed`; its revert is told apart', () => {
  const r = applyJobEvent(row('running'), { type: 'fail', at, error: { type: 'timeout', message: 'late' } });
  applyJobEvent(r, { type: 'revert-start', at });
  applyJobEvent(r, { type: 'revert-succeed', at, attempts: 1 });
  expect(r).toMatchObject({ status: 'failed', revert: { status: 'reverted' } });
});

test('a job without a revert is skipped while unwinding; a job that never started is not_run', () => {
  expect(applyJobEvent(row('succeeded'), { type: 'revert-skip', reason: 'the job has no revert' })).toMatchObject({
    status: 'skipped',
    revert: { status: 'skipped', reason: 'the job has no revert' },
  });
  expect(applyJobEvent(row(), { type: 'not-run' }).status).toBe('not_run');
});

test('an attempt no worker started in time was never run', () => {
  const r = applyJobEvent(row('running'), {
    type: 'fail',
    at,
    error: { type: 'timeout', message: 'schedule-to-start' },
  });
  expect(applyJobEvent(r, { type: 'never-started' })).toMatchObject({ status: 'not_run' });
  expect(r.startedAt).toBeUndefined();
});

test('operator decisions on a parked revert are recorded in order; mark-reverted and skip settle it', () => {
  const r = applyJobEvent(row('revert_failed'), { type: 'revert-park' });
  expect(r.revert?.status).toBe('parked');
  applyJobEvent(r, { type: 'decide', decision: 'mark-reverted', at });
  expect(r).toMatchObject({
    status: 'reverted',
    revert: { status: 'reverted', reason: 'marked reverted by an operator' },
  });
  expect(r.revert?.decisions).toEqual([{ decision: 'mark-reverted', at }]);
});

test.each([
  [row('succeeded'), { type: 'succeed', at, attempts: 1, result: 1, order: 2 }],
  [row('pending'), { type: 'revert-start', at }],
  [row('reverted'), { type: 'start', at }],
  [row('not_run'), { type: 'fail', at, error: { type: 'x', message: 'y' } }],
] as const)('an impossible transition is an error: %o then %o', (r, event) => {
  expect(() => applyJobEvent({ ...r }, event)).toThrow(JobTransitionError);
});
