/**
 * Writes what an ending process left not compensated to its memo (see `src/shared/compensation.ts`), for
 * `jipper report --coverage`. Behind a patch: runs recorded before it replay without the memo write.
 */
import { patched, upsertMemo } from '@temporalio/workflow';
import type { ProcessReport } from '../shared/report';
import type { CompensationMemo } from '../shared/compensation';
import { COMPENSATION_MEMO_KEY, compensationGaps } from '../shared/compensation';

export const COMPENSATION_MEMO_PATCH = 'jipper-compensation-memo';

/** Upserts the `compensation` memo of an ended process that left something not compensated. */
export function recordCompensation(report: ProcessReport): void {
  const gaps = compensationGaps(report);
  if (!gaps.length || !patched(COMPENSATION_MEMO_PATCH)) return;
  const memo: CompensationMemo = { status: report.status, gaps };
  upsertMemo({ [COMPENSATION_MEMO_KEY]: memo });
}
