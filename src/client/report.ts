/**
 * A process's report, whatever its outcome: a succeeded process completes with it; any other ends as a failed (or
 * cancelled) workflow whose failure carries it (a cancelled one in its memo, since Temporal drops a cancelled
 * workflow's details). These helpers unwrap it.
 */

import type { WorkflowHandle, Client, WorkflowExecutionDescription } from '@temporalio/client';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import type { ProcessReport } from '../workflow';
import { reportQuery } from '../workflow';
import { planRows } from '../shared/plan';
import type { ProcessInput } from '../workflows/process-workflow';

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
 * The run has not begun: it was started with a delay (`startAt`, `startDelay`) that has not passed. Temporal holds
 * its first workflow task until then, so no worker has seen it and a query cannot be answered yet.
 */
export function isWaiting(
  description: Pick<WorkflowExecutionDescription, 'status' | 'executionTime'>,
  now = Date.now()
): boolean {
  return description.status.name === 'RUNNING' && (description.executionTime?.getTime() ?? 0) > now;
}

/**
 * The report of a process that has not begun: status `waiting`, when it starts, and every job `pending`. Read from
 * the run's start event (no worker needed).
 */
export async function waitingReport(
  client: Client,
  description: Pick<WorkflowExecutionDescription, 'workflowId' | 'runId' | 'startTime' | 'executionTime'>
): Promise<ProcessReport> {
  const { history } = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId: description.workflowId, runId: description.runId },
    maximumPageSize: 1,
  });
  const started = history?.events?.[0]?.workflowExecutionStartedEventAttributes;
  const input = await decodeFromPayloadsAtIndex<ProcessInput>(
    client.options.loadedDataConverter,
    0,
    started?.input?.payloads
  );
  return {
    processId: description.workflowId,
    runId: description.runId,
    name: input.definition.name,
    status: 'waiting',
    startedAt: description.startTime.toISOString(),
    ...(description.executionTime ? { startsAt: description.executionTime.toISOString() } : {}),
    needsAttention: [],
    revertOrder: [],
    jobs: planRows(input.definition).map((row) => ({ ...row, status: 'pending' as const })),
  };
}

/**
 * The report of a process: the live one (a query, answered by a worker) while it runs; from its result or failure
 * once it ended (no worker needed); for a delayed start that has not begun, a `waiting` report (no worker needed).
 */
export async function getReport(client: Client, processId: string): Promise<ProcessReport> {
  const handle = client.workflow.getHandle(processId);
  const description = await handle.describe();
  if (description.status.name !== 'RUNNING') return waitForReport(handle);
  if (isWaiting(description)) return waitingReport(client, description);
  return handle.query(reportQuery);
}
