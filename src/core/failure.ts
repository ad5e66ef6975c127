/**
 * What a failure does. A job's run failed (after its retries), or was cut by a deadline, or the process was cancelled
 * while it ran: these functions say what follows, from its failure class and its step's options. In order:
 *
 * 1. {@link classifyFailure} — its class: `cancel`, `timeout` (a deadline cut counts as one), `business` or
 *    `infrastructure`;
 * 2. past the pivot nothing is unwound: {@link probeDecides} whether its probe may find the effect applied (then the
 *    process goes on), else {@link afterPivotAction};
 * 3. before it: {@link failedJobEffect} — whether the failed job itself goes on the revert stack (its probe's answer,
 *    `revertOnFailure`), or its outcome is unknown; then {@link failureOutcome} — unwind, park, or keep the effects
 *    (`revertOn` / `otherwise`);
 * 4. {@link endingOf} — how a process whose forward pass stopped ends, and {@link statusWithoutUnwinding}.
 */
import type { AfterPivot, FailureClass } from '../schema/definition';
import type { ProcessStatus } from '../shared/report';
import type { OnRevertFailure } from './unwinding';

/** The options of a failed job that decide what its failure does. */
export interface FailingJob {
  hasProbe?: boolean;
  /** The step is a wait (see `./waits`): it has no effect of its own. */
  wait?: unknown;
  options: {
    revertOnFailure: boolean;
    revertOn?: readonly FailureClass[];
    otherwise?: 'fail' | 'park';
    afterPivot?: AfterPivot;
  };
}

/** What is known of a failure, Temporal's failure types read out (see the engine's `failureSigns`). */
export interface FailureSigns {
  /** The process was cancelled while the job ran (or its activity was cancelled). */
  cancelled: boolean;
  /** The last attempt timed out, or its worker was lost. */
  timedOut: boolean;
  /** The job's own non-retryable error. */
  nonRetryable: boolean;
  /** A step's deadline or the process's deadline cut it. */
  cutByDeadline?: boolean;
}

/** The class of a failure; a deadline's cut is a `timeout` (and not a cancellation). */
export function classifyFailure(signs: FailureSigns): FailureClass {
  if (signs.cutByDeadline) return 'timeout';
  if (signs.cancelled) return 'cancel';
  if (signs.timedOut) return 'timeout';
  return signs.nonRetryable ? 'business' : 'infrastructure';
}

/** An ambiguous failure (a timeout, a cancellation) of a job with a probe: its probe says whether the effect stands. */
export function probeDecides(job: Pick<FailingJob, 'hasProbe'>, failureClass: FailureClass): boolean {
  return Boolean(job.hasProbe) && (failureClass === 'timeout' || failureClass === 'cancel');
}

/** What a failure past the pivot does: stop (nothing unwound), run the job again, park for a person, or recover. */
export type PastPivotAction = 'stop' | 'retry' | 'park' | { recover: { job: string; args?: Record<string, unknown> } };

/** A step's `afterPivot`, its default filled in: `park` in park mode, else `fail`. */
export function afterPivotOf(job: FailingJob, onRevertFailure: OnRevertFailure): AfterPivot {
  return job.options.afterPivot ?? (onRevertFailure === 'park' ? 'park' : 'fail');
}

/** What the step's `afterPivot` makes of a failure past the pivot; a cancellation always stops. */
export function afterPivotAction(
  job: FailingJob,
  onRevertFailure: OnRevertFailure,
  cancelled: boolean
): PastPivotAction {
  if (cancelled) return 'stop';
  const afterPivot = afterPivotOf(job, onRevertFailure);
  if (afterPivot === 'fail') return 'stop';
  return afterPivot;
}

/**
 * Whether a failed job (before the pivot) is itself reverted: `revert` — it goes on the revert stack (its probe found
 * its effect applied, or its step says `revertOnFailure`); `unknown` — Temporal gave up on it without knowing how far
 * it got, and nothing reverts it; `none` — its failure left nothing to undo.
 */
export function failedJobEffect(
  job: FailingJob,
  failureClass: FailureClass,
  probeAnswer?: 'applied' | 'not-applied'
): 'revert' | 'unknown' | 'none' {
  if (job.wait !== undefined) return 'none';
  if (probeDecides(job, failureClass)) return probeAnswer === 'applied' ? 'revert' : 'none';
  if (job.options.revertOnFailure) return 'revert';
  return failureClass === 'timeout' ? 'unknown' : 'none';
}

/**
 * What the process does after a failure before the pivot: `unwind` when its class is in the step's `revertOn`
 * (default: every class); otherwise `park` for a person when the step says `otherwise: park` (never for a
 * cancellation), else `keep-effects` — it ends with nothing reverted.
 */
export function failureOutcome(
  job: FailingJob,
  failureClass: FailureClass,
  cancelled: boolean
): 'unwind' | 'park' | 'keep-effects' {
  const revertOn = job.options.revertOn;
  if (!revertOn || revertOn.includes(failureClass)) return 'unwind';
  return (job.options.otherwise ?? 'fail') === 'park' && !cancelled ? 'park' : 'keep-effects';
}

/** Which of two reasons to stop wins: the first one, except that a cancellation wins over a failure of a non-job. */
export function stopWins(
  current: { cancellation: boolean; jobFailure: boolean } | undefined,
  next: { cancellation: boolean }
): boolean {
  return current === undefined || (next.cancellation && !current.jobFailure);
}

/** How a process whose forward pass stopped ends. */
export type Ending =
  /** The pivot has succeeded: nothing is unwound. */
  | 'past-pivot'
  /** A failure its step does not unwind for (`revertOn`): nothing is unwound. */
  | 'failure-class'
  /** It stopped before anything started (no worker in time, tokens refused): it fails, nothing to undo. */
  | 'nothing-started'
  /** The revert stack is unwound. */
  | 'unwind';

export function endingOf(facts: {
  pivotPassed: boolean;
  keepEffects: boolean;
  /** The stop's error is one that comes before any job ran (`not_started`, a token wait). */
  beforeAnything: boolean;
  nothingStarted: boolean;
  stackEmpty: boolean;
  cancelled: boolean;
}): Ending {
  if (facts.pivotPassed) return 'past-pivot';
  if (facts.keepEffects) return 'failure-class';
  if (facts.beforeAnything && facts.nothingStarted && facts.stackEmpty && !facts.cancelled) return 'nothing-started';
  return 'unwind';
}

/** How a process that stops with its effects standing ends. */
export function statusWithoutUnwinding(cancelled: boolean): ProcessStatus {
  return cancelled ? 'cancelled' : 'failed';
}
