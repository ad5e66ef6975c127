/**
 * The hook activities (see `src/workflows/process-hooks.ts`): `jipper.hook` runs one outcome hook — it fills the
 * hook's `{ $report: name }` references from the report the workflow sent (the rendered text, Markdown and HTML, the
 * Web UI link, the `jipper decide` commands...) and runs the hook's job as a step's run is run (secrets, input schema,
 * attempt deadline, redaction), with the idempotency key `<processId>/<hookId>`; `jipper.hook-defaults` answers the
 * worker's default hooks.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { JobOutcome } from '../shared/calls';
import { MISSING_JOB_TYPE } from '../shared/errors';
import type { HookCall, HookSet, ReportField } from '../shared/hooks';
import { REPORT_FIELDS, mapReportRefs, reportField } from '../shared/hooks';
import type { AnyJob } from '../jobs/job';
import type { Fingerprints } from './activities';
import { runJob } from './activities';
import type { SecretProvider } from './secrets';

/** What the hook activities know of the worker. */
export interface HookSettings {
  /** The Web UI's base URL, for the link a hook's report carries (`webUi` in the configuration). */
  webUi?: string;
  /** Hooks every process gets (a definition opts out with `on: { defaults: false }`). */
  defaults?: HookSet;
}

/** The Web UI page of a run's details (the same page `jipper` links to). */
export function hookRunLink(base: string | undefined, namespace: string, workflowId: string, runId?: string) {
  if (base === undefined) return undefined;
  const path = `${base.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${path}/${encodeURIComponent(runId)}/user-metadata` : path;
}

/** Runs one hook's job with its `$report` references filled in. */
export async function runHook(
  call: HookCall,
  jobs: { get(name: string): AnyJob | undefined; names(): string[] } & Fingerprints,
  secrets: SecretProvider,
  settings: HookSettings
): Promise<JobOutcome> {
  const job = jobs.get(call.job);
  const { info } = Context.current();
  if (!job) {
    throw ApplicationFailure.create({
      type: MISSING_JOB_TYPE,
      message: `hook on ${call.outcome}: the workers on task queue "${info.taskQueue}" do not have job "${call.job}"; their jobs: ${jobs.names().join(', ') || '(none)'}`,
      nonRetryable: true,
    });
  }
  const link = hookRunLink(settings.webUi, info.workflowNamespace ?? 'default', call.processId, call.report.runId);
  const input = mapReportRefs(call.input, (name) => {
    if (!(REPORT_FIELDS as readonly string[]).includes(name)) {
      throw ApplicationFailure.create({
        type: 'JipperInvalidInput',
        message: `hook on ${call.outcome} (job "${call.job}"): unknown $report "${name}"; it may be: ${REPORT_FIELDS.join(', ')}`,
        nonRetryable: true,
      });
    }
    return reportField(name as ReportField, call.report, call.outcome, link);
  });
  try {
    return await runJob(
      job,
      { processId: call.processId, stepId: call.hookId, job: call.job, input, results: {}, uses: [], steps: [] },
      jobs,
      secrets
    );
  } catch (err) {
    throw finalWhenTheJobSaysSo(job, err);
  }
}

/**
 * A hook's retry policy is the hook's (`retry:`), but its job's errors that the job calls non-retryable
 * (`options.retry.nonRetryableErrorTypes`) stay so: a webhook that answered 400 is not called 5 times.
 */
function finalWhenTheJobSaysSo(job: AnyJob, err: unknown): unknown {
  const final = job.options?.retry?.nonRetryableErrorTypes ?? [];
  if (!(err instanceof ApplicationFailure) || err.nonRetryable || !final.includes(err.type ?? '')) return err;
  const failure = ApplicationFailure.create({
    type: err.type ?? 'Error',
    message: err.message,
    nonRetryable: true,
    details: err.details ? [...err.details] : [],
  });
  failure.stack = err.stack;
  return failure;
}
