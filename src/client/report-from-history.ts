/**
 * A report rebuilt from a run's event history, for a run Temporal ended (terminated, timed out) that no worker can
 * replay: no worker is running, or the workers' code no longer reproduces the history (a run is often terminated
 * because its workflow task was stuck on exactly that). The history holds every activity the engine scheduled, with
 * its outcome: each job's run is the activity `<step>.run`, each revert `<step>.revert.<n>`. That is enough to say
 * which jobs ran, succeeded, failed or were running, and which reverts ran — what an operator must know before
 * cleaning up by hand. What the engine kept only in memory (decisions, why a job was skipped) is not there.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { LoadedDataConverter } from '@temporalio/common';
import { ApplicationFailure, TimeoutFailure } from '@temporalio/common';
import {
  decodeFromPayloadsAtIndex,
  decodeOptionalFailureToOptionalError,
} from '@temporalio/common/lib/internal-non-workflow';
import type { History } from '@temporalio/common/lib/proto-utils';
import { optionalTsToDate } from '@temporalio/common/lib/time';
import type { JobFailureDetails, JobOutcome } from '../shared/calls';
import type { ErrorInfo, JobReport, ProcessReport } from '../shared/report';
import { inputShapeProblems } from '../shared/input-shape';
import { planRows } from '../shared/plan';
import { isRecord } from '../shared/text';
import type { ProcessInput } from '../workflows/process-workflow';

type Event = NonNullable<History['events']>[number];

/** `allocate.run` → run of step `allocate`; `allocate.revert.2` → revert of step `allocate`. */
function parseActivityId(id: string): { stepId: string; kind: 'run' | 'revert' } | undefined {
  const revert = /^(.+)\.revert\.\d+$/.exec(id);
  if (revert) return { stepId: revert[1] as string, kind: 'revert' };
  const run = /^(.+)\.run$/.exec(id);
  return run ? { stepId: run[1] as string, kind: 'run' } : undefined;
}

/** `allocate-volume.run` → `allocate-volume` */
const jobOf = (activityType: string | null | undefined) => (activityType ?? '').replace(/\.(run|revert)$/, '');

const iso = (event: Event) => optionalTsToDate(event.eventTime)?.toISOString();

async function errorOf(
  converter: LoadedDataConverter,
  failure: Parameters<typeof decodeOptionalFailureToOptionalError>[1]
) {
  const err = await decodeOptionalFailureToOptionalError(converter, failure);
  let info: ErrorInfo = { type: 'Error', message: err?.message ?? 'failed' };
  let details: Partial<JobFailureDetails> = {};
  if (err instanceof ApplicationFailure) {
    info = { type: err.type ?? 'Error', message: err.message, ...(err.nonRetryable ? { nonRetryable: true } : {}) };
    const first: unknown = err.details?.[0];
    if (isRecord(first) && typeof first.attempt === 'number') details = first;
  } else if (err instanceof TimeoutFailure) {
    info = { type: 'timeout', message: `${(err.timeoutType ?? 'activity').toLowerCase().replace(/_/g, '-')} timeout` };
  } else if (err) {
    info = { type: err.name, message: err.message };
  }
  return { info, details };
}

/** The rows a definition's report starts with (the engine's own: `planRows`), or the carried report's jobs. */
function definitionRows(input: unknown): JobReport[] {
  if (inputShapeProblems(input).length) return [];
  const { definition, carried } = input as ProcessInput;
  if (carried?.state?.report?.jobs) return structuredClone(carried.state.report.jobs);
  return planRows(definition).map((row) => ({ ...row, status: 'pending' }));
}

/**
 * The report of a run as its history shows it. `base` carries the process id, name and start time; the jobs, the
 * revert order and what needs a person come from the history. Jobs that never started are `not_run`.
 */
export async function reportFromHistory(
  handle: WorkflowHandle,
  base: Pick<ProcessReport, 'processId' | 'name' | 'startedAt'> & { runId?: string }
): Promise<ProcessReport> {
  const converter = handle.client.options.loadedDataConverter;
  const history = await handle.fetchHistory();
  const events = history.events ?? [];
  const started = events[0]?.workflowExecutionStartedEventAttributes;
  const input = started ? await decodeFromPayloadsAtIndex<unknown>(converter, 0, started.input?.payloads) : undefined;
  const report: ProcessReport = {
    ...base,
    status: 'running',
    needsAttention: [],
    revertOrder: [],
    jobs: definitionRows(input),
  };
  const row = (stepId: string, job: string): JobReport => {
    let found = report.jobs.find((j) => j.stepId === stepId);
    if (!found) {
      found = { stepId, job, status: 'pending' };
      report.jobs.push(found);
    }
    return found;
  };
  /** What each scheduled activity is: by the id of its scheduled event. */
  const scheduled = new Map<string, { stepId: string; kind: 'run' | 'revert'; job: string }>();
  let completed = report.jobs.reduce((n, j) => Math.max(n, j.completedOrder ?? 0), 0);

  for (const event of events) {
    const at = iso(event);
    const attrs = event.activityTaskScheduledEventAttributes;
    if (attrs) {
      const parsed = parseActivityId(attrs.activityId ?? '');
      if (!parsed) continue;
      const job = jobOf(attrs.activityType?.name);
      scheduled.set(String(event.eventId), { ...parsed, job });
      const r = row(parsed.stepId, job);
      if (parsed.kind === 'run') {
        Object.assign(r, { status: 'running', ...(at ? { startedAt: at } : {}) });
        delete r.endedAt;
      } else {
        r.revert = { ...r.revert, status: 'running', ...(at ? { startedAt: at } : {}) };
        if (r.status !== 'failed') r.status = 'reverting';
        if (!report.revertOrder.includes(parsed.stepId)) report.revertOrder.push(parsed.stepId);
      }
      continue;
    }
    const done =
      event.activityTaskCompletedEventAttributes ??
      event.activityTaskFailedEventAttributes ??
      event.activityTaskTimedOutEventAttributes ??
      event.activityTaskCanceledEventAttributes;
    const activity = done ? scheduled.get(String(done.scheduledEventId)) : undefined;
    if (!activity) continue;
    const r = row(activity.stepId, activity.job);
    const target = activity.kind === 'run' ? r : (r.revert ?? (r.revert = { status: 'running' }));
    if (at) target.endedAt = at;
    if (event.activityTaskCompletedEventAttributes) {
      const outcome = await decodeFromPayloadsAtIndex<JobOutcome | undefined>(
        converter,
        0,
        event.activityTaskCompletedEventAttributes.result?.payloads
      );
      if (outcome?.detail !== undefined) target.detail = outcome.detail;
      if (outcome?.attempt !== undefined) target.attempts = outcome.attempt;
      if (activity.kind === 'run') {
        Object.assign(r, { status: 'succeeded', result: outcome?.result, completedOrder: ++completed });
      } else {
        (r.revert as NonNullable<JobReport['revert']>).status = 'reverted';
        if (r.status !== 'failed') r.status = 'reverted';
      }
      continue;
    }
    const failure =
      event.activityTaskFailedEventAttributes?.failure ?? event.activityTaskTimedOutEventAttributes?.failure;
    const { info, details } = event.activityTaskCanceledEventAttributes
      ? { info: { type: 'cancelled', message: 'cancelled while running' }, details: {} }
      : await errorOf(converter, failure);
    target.error = info;
    if (details.attempt !== undefined) target.attempts = details.attempt;
    if (details.detail !== undefined) target.detail = details.detail;
    if (activity.kind === 'run') {
      r.status = 'failed';
      if (report.failedStep === undefined && info.type !== 'cancelled') report.failedStep = activity.stepId;
    } else {
      (r.revert as NonNullable<JobReport['revert']>).status = 'revert_failed';
      if (r.status !== 'failed') r.status = 'revert_failed';
      if (!report.needsAttention.includes(activity.stepId)) report.needsAttention.push(activity.stepId);
    }
  }
  for (const job of report.jobs) if (job.status === 'pending') job.status = 'not_run';
  return report;
}
