/**
 * Which processes ended partly compensated, from visibility and memos only (no history is read): each ended run's
 * `compensation` memo (written by the workflow when it ends, see `src/shared/compensation.ts`), grouped by process name
 * and step. `jipper report --coverage` prints it.
 */
import type { Client } from '@temporalio/client';
import { decodeTypedSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes';
import { decodeOptionalSinglePayload } from '@temporalio/common/lib/internal-non-workflow';
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
  /** Ended runs whose memo this client could not decrypt (encrypted runs, without their key). */
  unreadable: number;
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

/** The ended runs the query finds, straight from visibility: each one's process name and its compensation memo. */
async function* endedRuns(
  client: Client,
  query: string
): AsyncGenerator<{ workflowId: string; process: string; memo: unknown; unreadable: boolean }> {
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await client.workflowService.listWorkflowExecutions({
      namespace: client.options.namespace,
      query,
      ...(nextPageToken ? { nextPageToken } : {}),
    });
    for (const info of page.executions ?? []) {
      const attributes = decodeTypedSearchAttributes(info.searchAttributes?.indexedFields);
      const field = info.memo?.fields?.[COMPENSATION_MEMO_KEY];
      // Only this memo field is decoded (with the key ring, for an encrypted run): a run this client cannot decrypt
      // is counted, not fatal.
      let memo: unknown;
      let unreadable = false;
      try {
        memo = field ? await decodeOptionalSinglePayload(client.options.loadedDataConverter, field) : undefined;
      } catch {
        unreadable = true;
      }
      yield {
        workflowId: info.execution?.workflowId ?? '',
        process: attributes.get(PROCESS_NAME_KEY) ?? info.type?.name ?? '',
        memo,
        unreadable,
      };
    }
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
}

/** The processes that ended since `since` partly compensated, grouped by process name and step. */
export async function compensationReport(client: Client, since: Date): Promise<CompensationReport> {
  const rows = new Map<string, CompensationRow>();
  let ended = 0;
  let partly = 0;
  let unreadable = 0;
  for await (const run of endedRuns(client, endedSinceQuery(since))) {
    ended += 1;
    if (run.unreadable) unreadable += 1;
    if (!isMemo(run.memo) || !run.memo.gaps.length) continue;
    partly += 1;
    for (const gap of run.memo.gaps) {
      if (!COMPENSATION_GAPS.includes(gap.how)) continue;
      const key = `${run.process}\u0000${gap.stepId}`;
      const row = rows.get(key) ?? { process: run.process, stepId: gap.stepId, job: gap.job, counts: {}, runs: [] };
      rows.set(key, row);
      row.counts[gap.how] = (row.counts[gap.how] ?? 0) + 1;
      if (!row.runs.includes(run.workflowId)) row.runs.push(run.workflowId);
    }
  }
  const sorted = [...rows.values()].sort(
    (a, b) => a.process.localeCompare(b.process) || a.stepId.localeCompare(b.stepId)
  );
  return { since: since.toISOString(), ended, partly, unreadable, rows: sorted };
}
