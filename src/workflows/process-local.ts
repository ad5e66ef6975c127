/**
 * Schedules a job's run or revert activity: as an ordinary activity, or — for a local job (`local: true`,
 * docs/local-jobs.md) — as a local activity with the same function, timeout and retry policy. A run of consecutive
 * local jobs then completes in one workflow task: the SDK runs each in this worker and records its marker when the
 * task completes. Options a local activity has no use for (task queue, priority, heartbeat timeout, activity id) are
 * left out; validation refuses the ones a local job may not set (`src/core/local.ts`).
 */
import type { ActivityOptions, LocalActivityOptions } from '@temporalio/common';
import { scheduleActivity, scheduleLocalActivity, sleep } from '@temporalio/workflow';
import type { JobCall, JobOutcome } from '../shared/calls';
import type { EffectiveCallOptions } from '../shared/options';
import { durationMs, toActivityOptions } from '../shared/options';
import type { PlannedJob } from '../shared/plan';

/**
 * Backoffs up to this long wait inside the worker between local attempts; a longer one becomes a server timer (and a
 * new workflow task). Temporal's default, said here because docs/local-jobs.md documents it.
 */
export const LOCAL_RETRY_THRESHOLD = '1m';

/**
 * The local-activity options of one side of a job: its timeout and retry policy, and the cancellation type and summary
 * of the activity it would otherwise be (task queue, priority, heartbeat timeout and activity id do not carry over).
 */
export function toLocalOptions(call: EffectiveCallOptions, options: ActivityOptions): LocalActivityOptions {
  return {
    startToCloseTimeout: durationMs(call.timeout),
    retry: toActivityOptions(call).retry,
    ...(options.cancellationType !== undefined ? { cancellationType: options.cancellationType } : {}),
    ...(options.summary !== undefined ? { summary: options.summary } : {}),
    localRetryThreshold: LOCAL_RETRY_THRESHOLD,
  };
}

/** Runs the `side` activity `name` of the job with `args`: locally when the job is local, else through its task queue. */
export function scheduleJobActivity(
  job: PlannedJob,
  side: 'run' | 'revert',
  name: string,
  args: unknown[],
  options: ActivityOptions
): Promise<JobOutcome> {
  if (job.options.local !== true) return scheduleActivity<JobOutcome>(name, args, options);
  return scheduleLocalActivity<JobOutcome>(name, args, toLocalOptions(job.options[side], options));
}

/**
 * The second and later attempts of a job whose first attempt failed inside a run of local jobs
 * (`process-local-run.ts`): after the retry policy's first backoff, a local activity of its own, whose policy goes on
 * where the job's left off (one attempt fewer, the next backoff), and whose attempts the job counts from 2.
 */
export function scheduleLocalRetry(
  job: PlannedJob,
  name: string,
  call: JobCall,
  options: ActivityOptions
): Promise<JobOutcome> {
  const local = toLocalOptions(job.options.run, options);
  const policy = job.options.run.retry;
  const initial = durationMs(policy.initialInterval ?? '1s');
  const coefficient = policy.backoffCoefficient ?? 2;
  const ceiling = policy.maximumInterval !== undefined ? durationMs(policy.maximumInterval) : 100 * initial;
  const attempts = policy.maximumAttempts ?? 0;
  return sleep(initial).then(() =>
    scheduleLocalActivity<JobOutcome>(name, [{ ...call, attemptBase: 1 }], {
      ...local,
      retry: {
        ...local.retry,
        initialInterval: Math.min(initial * coefficient, ceiling),
        ...(attempts > 1 ? { maximumAttempts: attempts - 1 } : {}),
      },
    })
  );
}
