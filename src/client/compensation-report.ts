/**
 * Which processes ended partly compensated, from visibility and memos only (no history is read): each ended run's
 * `compensation` memo (written by the workflow when it ends, see `src/shared/compensation.ts`), grouped by process name
 * and step. `jipper report --coverage` prints it.
 */
import type { Client } from '@temporalio/client';
import type { CompensationGapKind, CompensationMemo } from '../shared/compensation';
import { COMPENSATION_GAPS, COMPENSATION_MEMO_KEY } from '../shared/compensation';
import { PROCESS_NAME_KEY } from '../shared/search-attributes';

export interface CompensationRow {
  process: string;
  stepId: string;
  job: string;
  /** How many runs left this step not compensated, by how. */
  counts: Partial<Record<CompensationGapKind, number>>;
  /** The runs (workflow ids), newest first. */
  runs: string[];
}

export interface CompensationReport {
  since: string;
  /** Ended runs looked at, and how many of them left something not compensated. */
  ended: number;
  partly: number;
  rows: CompensationRow[];
}

function isMemo(value: unknown): value is CompensationMemo {
  return typeof value === 'object' && value !== null && Array.isArray((value as CompensationMemo).gaps);
}

/** The query for the runs that ended since `since` (the latest run of each process). */
export function endedSinceQuery(since: Date): string {
  return [
    `${PROCESS_NAME_KEY.name} IS NOT NULL`,
    `ExecutionStatus != 'Running'`,
    `ExecutionStatus != 'ContinuedAsNew'`,
    `CloseTime >= '${since.toISOString()}'`,
  ].join(' AND ');
}

/** The processes that ended since `since` partly compensated, grouped by process name and step. */
export async function compensationReport(client: Client, since: Date): Promise<CompensationReport> {
  const rows = new Map<string, CompensationRow>();
  let ended = 0;
  let partly = 0;
  for await (const info of client.workflow.list({ query: endedSinceQuery(since) })) {
    ended += 1;
    const memo = info.memo?.[COMPENSATION_MEMO_KEY];
    if (!isMemo(memo) || !memo.gaps.length) continue;
    partly += 1;
    const process = info.typedSearchAttributes.get(PROCESS_NAME_KEY) ?? info.type;
    for (const gap of memo.gaps) {
      if (!COMPENSATION_GAPS.includes(gap.how)) continue;
      const key = `${process}\u0000${gap.stepId}`;
      const row = rows.get(key) ?? { process, stepId: gap.stepId, job: gap.job, counts: {}, runs: [] };
      rows.set(key, row);
      row.counts[gap.how] = (row.counts[gap.how] ?? 0) + 1;
      if (!row.runs.includes(info.workflowId)) row.runs.push(info.workflowId);
    }
  }
  const sorted = [...rows.values()].sort(
    (a, b) => a.process.localeCompare(b.process) || a.stepId.localeCompare(b.stepId)
  );
  return { since: since.toISOString(), ended, partly, rows: sorted };
}
