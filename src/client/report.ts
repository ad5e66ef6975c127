/**
 * A process's report, whatever its outcome: a succeeded process completes with it; any other ends as a failed (or
 * cancelled) workflow whose failure carries it (a cancelled one in its memo, since Temporal drops a cancelled
 * workflow's details). These helpers unwrap it.
 *
 * A run Temporal ended — terminated (`temporal workflow terminate`, the Web UI) or timed out (a workflow execution
 * timeout set by whoever started it) — never wrote a final report. Its report is the last one the run had: the live
 * report a worker answers when it replays the closed run's history (a query on a closed workflow), or, when no worker
 * answers in time or its code cannot replay the history, the report rebuilt from the activity events of the history
 * (`reportFromHistory`). Either way its status is `terminated` or `timed_out`, its error says why, `endedAt` is when
 * Temporal closed it, and `lastKnown` says which of the two the jobs come from.
 */

import type { Client, WorkflowExecutionDescription, WorkflowHandle } from '@temporalio/client';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure, TerminatedFailure, TimeoutFailure } from '@temporalio/common';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { tsToDate } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import type { ProcessReport } from '../workflow';
import { reportQuery } from '../workflow';
import { planRows } from '../shared/plan';
import type { ProcessInput } from '../workflows/process-workflow';
import { reportFromHistory } from './report-from-history';

/** How long a worker has to replay a closed run and answer its last report, before the history is read instead. */
export const REPLAY_QUERY_TIMEOUT_MS = 5_000;

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

/** Why Temporal ended the run, when it did: terminated (with the reason given) or timed out. */
function endedByTemporal(err: unknown): { status: 'terminated' | 'timed_out'; message: string } | undefined {
  const cause = err instanceof WorkflowFailedError ? err.cause : undefined;
  if (cause instanceof TerminatedFailure) return { status: 'terminated', message: cause.message || 'no reason given' };
  if (cause instanceof TimeoutFailure) return { status: 'timed_out', message: 'its workflow timeout passed' };
  return undefined;
}

/** `3s`, `1m30s`: a proto Duration as people write it. */
function durationText(duration: { seconds?: unknown; nanos?: number | null } | null | undefined): string | undefined {
  const seconds = Number(duration?.seconds ?? 0) + (duration?.nanos ?? 0) / 1e9;
  if (!seconds) return undefined;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return m ? `${m}m${s ? `${s}s` : ''}` : `${s}s`;
}

/**
 * The last report of a run Temporal ended: the one a worker answers after replaying it, else the one its history
 * shows; with the status, error and end time of how it ended.
 */
async function lastReport(
  handle: WorkflowHandle,
  endedBy: { status: 'terminated' | 'timed_out'; message: string }
): Promise<ProcessReport> {
  let ended = endedBy;
  const description = await handle.describe();
  if (ended.status === 'timed_out') {
    // Which limit it was, from the run's configuration: the execution timeout (all runs) or the run timeout.
    const config = description.raw.executionConfig;
    const execution = durationText(config?.workflowExecutionTimeout);
    const run = durationText(config?.workflowRunTimeout);
    const limit = execution
      ? `its workflow execution timeout (${execution})`
      : run
        ? `its workflow run timeout (${run})`
        : undefined;
    if (limit) ended = { ...ended, message: `${limit} passed` };
  }
  const { connection } = handle.client;
  let report: ProcessReport;
  let lastKnown: ProcessReport['lastKnown'];
  try {
    report = await connection.withDeadline(Date.now() + REPLAY_QUERY_TIMEOUT_MS, () => handle.query(reportQuery));
    lastKnown = 'replay';
  } catch {
    const name = typeof description.memo?.process === 'string' ? description.memo.process : description.type;
    report = await reportFromHistory(handle, {
      processId: description.workflowId,
      runId: description.runId,
      name,
      startedAt: description.startTime.toISOString(),
    });
    lastKnown = 'history';
  }
  return {
    ...report,
    // The run is over: a job that had not started never will. A running one keeps its status (its outcome is unknown).
    jobs: report.jobs.map((job) => (job.status === 'pending' ? { ...job, status: 'not_run' } : job)),
    status: ended.status,
    error: { type: ended.status, message: ended.message },
    ...(description.closeTime ? { endedAt: description.closeTime.toISOString() } : {}),
    lastKnown,
  };
}

/**
 * Waits for a process to end and returns its report, whatever the outcome. A cancelled workflow's result carries no
 * details in Temporal, so a cancelled process leaves its final report in its memo (`report`), read from there. A run
 * Temporal ended (terminated, timed out) gets the last report it had (see the module comment).
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
    const ended = endedByTemporal(err);
    if (ended) return lastReport(handle, ended);
    throw err;
  }
}

/**
 * The run has not begun: it was started with a delay (`startAt`, `startDelay`) that has not passed. Temporal holds
 * its first workflow task until then, so no worker has seen it and a query cannot be answered yet. A run started
 * without a delay has its execution time equal to its start time: it is never waiting, even when the server's clock
 * is a little ahead of this one.
 */
export function isWaiting(
  description: Pick<WorkflowExecutionDescription, 'status' | 'executionTime'> &
    Partial<Pick<WorkflowExecutionDescription, 'startTime'>>,
  now = Date.now()
): boolean {
  const executionTime = description.executionTime?.getTime() ?? 0;
  const delayed = description.startTime === undefined || executionTime > description.startTime.getTime();
  return description.status.name === 'RUNNING' && delayed && executionTime > now;
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
 * once it ended (no worker needed, except to replay a run Temporal ended: see the module comment); for a delayed
 * start that has not begun, a `waiting` report (no worker needed).
 */
export async function getReport(client: Client, processId: string): Promise<ProcessReport> {
  const handle = client.workflow.getHandle(processId);
  const description = await handle.describe();
  if (description.status.name !== 'RUNNING') return waitForReport(handle);
  if (isWaiting(description)) return waitingReport(client, description);
  return handle.query(reportQuery);
}

/** An operator's pause of a run: when it was asked for, and when a resume ended it (none: it still lasts). */
export interface PauseSpan {
  at: string;
  resumedAt?: string;
}

const UPDATE_ACCEPTED = temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED;

/**
 * The pauses of a run, read from its event history: each accepted `jipper pause` update, ended by the next accepted
 * `jipper resume` (a refused one never reaches the history). The report keeps only a pause that lasts; this says a
 * run that was paused and resumed was, and for how long. Reads the whole history of the run (not the runs before a
 * continue-as-new). No payload is decoded.
 */
export async function pausesFromHistory(client: Client, workflowId: string, runId?: string): Promise<PauseSpan[]> {
  const spans: PauseSpan[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId, ...(runId ? { runId } : {}) },
      ...(nextPageToken ? { nextPageToken } : {}),
    });
    for (const event of page.history?.events ?? []) {
      if (event.eventType !== UPDATE_ACCEPTED || !event.eventTime) continue;
      const name = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name;
      const at = tsToDate(event.eventTime).toISOString();
      const open = spans.at(-1);
      if (name === 'jipper.pause') spans.push({ at });
      else if (name === 'jipper.resume' && open && open.resumedAt === undefined) open.resumedAt = at;
    }
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return spans;
}
