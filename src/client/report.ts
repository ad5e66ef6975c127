/**
 * A process's report, whatever its outcome: a succeeded process completes with it; any other ends as a failed (or
 * cancelled) workflow whose failure carries it (a cancelled one in its memo, since Temporal drops a cancelled
 * workflow's details). These helpers unwrap it.
 */

import type { WorkflowHandle, Client } from '@temporalio/client';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { ProcessReport } from '../workflow';
import { reportQuery } from '../workflow';

/** The report carried by a process's failure, if it is one of Jipper's. */
export function reportFromError(err: unknown): ProcessReport | undefined {
  const cause = err instanceof WorkflowFailedError ? err.cause : err;
  if (cause instanceof ApplicationFailure || cause instanceof CancelledFailure) {
    const first: unknown = cause.details?.[0];
    if (typeof first === 'object' && first !== null && 'jobs' in first && 'status' in first)
      return first as ProcessReport;
  }
  return undefined;
}

/**
 * Waits for a process to end and returns its report, whatever the outcome. A cancelled workflow's result carries no
 * details in Temporal, so a cancelled process leaves its final report in its memo (`report`), read from there.
 */
export async function waitForReport(handle: WorkflowHandle): Promise<ProcessReport> {
  try {
    return (await handle.result()) as ProcessReport;
  } catch (err) {
    const report = reportFromError(err);
    if (report) return report;
    if (err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure) {
      const memo = (await handle.describe()).memo;
      if (memo && typeof memo.report === 'object' && memo.report !== null) return memo.report as ProcessReport;
    }
    throw err;
  }
}

/**
 * The report of a process: the live one (a query, answered by a worker) while it runs; from its result or failure
 * once it ended (no worker needed).
 */
export async function getReport(client: Client, processId: string): Promise<ProcessReport> {
  const handle = client.workflow.getHandle(processId);
  const description = await handle.describe();
  if (description.status.name !== 'RUNNING') return waitForReport(handle);
  return handle.query(reportQuery);
}
