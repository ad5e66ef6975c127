/**
 * What an ended process left not compensated (`compensationGaps`, the memo `jipper report --coverage` reads), from its
 * report: each way, and a fully unwound process leaves nothing. No server.
 */
import type { JobReport, ProcessReport } from '../../src/shared/report';
import { compensationGaps } from '../../src/shared/compensation';

const job = (stepId: string, status: JobReport['status'], revert?: JobReport['revert']): JobReport => ({
  stepId,
  job: `${stepId}-job`,
  status,
  ...(revert ? { revert } : {}),
});
const at = '2026-12-07T00:00:00.000Z';

test('each way a job is left not compensated, and only those', () => {
  const report: Pick<ProcessReport, 'jobs'> = {
    jobs: [
      job('undone', 'reverted', { status: 'reverted' }),
      job('failed', 'revert_failed', { status: 'revert_failed' }),
      job('skipped', 'succeeded', { status: 'skipped', reason: 'no revert' }),
      job('settled', 'succeeded', { status: 'skipped', decisions: [{ decision: 'skip', at }] }),
      job('marked', 'reverted', {
        status: 'reverted',
        decisions: [
          { decision: 'retry', at },
          { decision: 'mark-reverted', at },
        ],
      }),
      job('retried', 'reverted', { status: 'reverted', decisions: [{ decision: 'retry', at }] }),
      job('never', 'not_run'),
    ],
  };
  expect(compensationGaps(report).map((g) => `${g.stepId} ${g.how}`)).toEqual([
    'failed revert_failed',
    'skipped skipped',
    'settled skip',
    'marked mark-reverted',
  ]);
});

test('a process that stopped without unwinding leaves every job that succeeded', () => {
  const jobs = [job('a', 'succeeded'), job('b', 'failed'), job('c', 'not_run')];
  expect(compensationGaps({ jobs, stoppedPastPivot: true })).toEqual([
    { stepId: 'a', job: 'a-job', how: 'not-unwound' },
  ]);
  expect(compensationGaps({ jobs, notUnwound: 'failure-class' })).toEqual([
    { stepId: 'a', job: 'a-job', how: 'not-unwound' },
  ]);
  expect(compensationGaps({ jobs })).toEqual([]);
});
