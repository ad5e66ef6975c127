/**
 * What a process that ended left not compensated, from its final report: the jobs whose revert failed
 * (`revert_failed`), that an operator settled without a revert (`skip`, `mark-reverted`), whose revert was skipped
 * because the job has none (`skipped`), and the jobs that succeeded in a process that stopped without unwinding (past
 * its pivot, or a failure class its step does not unwind for: `not-unwound`). The workflow writes it to the run's memo
 * (`compensation`) when it ends, so `jipper report --coverage` reads it from visibility alone. Pure and sandbox-safe.
 */
import type { ProcessReport } from './report';

/** The memo key the summary is written under. */
export const COMPENSATION_MEMO_KEY = 'compensation';

export const COMPENSATION_GAPS = ['revert_failed', 'skip', 'mark-reverted', 'skipped', 'not-unwound'] as const;
export type CompensationGapKind = (typeof COMPENSATION_GAPS)[number];

export interface CompensationGapEntry {
  stepId: string;
  job: string;
  how: CompensationGapKind;
}

/** The memo's value: kept small (step, job and how, nothing of the job's data, which may be secret). */
export interface CompensationMemo {
  status: ProcessReport['status'];
  gaps: CompensationGapEntry[];
}

/** The jobs of an ended process left not (or not surely) compensated. */
export function compensationGaps(
  report: Pick<ProcessReport, 'jobs' | 'notUnwound' | 'stoppedPastPivot'>
): CompensationGapEntry[] {
  const notUnwound = report.notUnwound !== undefined || report.stoppedPastPivot === true;
  return report.jobs.flatMap((job): CompensationGapEntry[] => {
    const entry = (how: CompensationGapKind) => [{ stepId: job.stepId, job: job.job, how }];
    if (notUnwound && job.status === 'succeeded') return entry('not-unwound');
    const revert = job.revert;
    if (!revert) return [];
    const decided = revert.decisions?.at(-1)?.decision;
    if (revert.status === 'revert_failed') return entry('revert_failed');
    if (decided === 'skip' || decided === 'mark-reverted') return entry(decided);
    return revert.status === 'skipped' ? entry('skipped') : [];
  });
}
