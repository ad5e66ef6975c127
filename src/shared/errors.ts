/**
 * Every failure type Jipper itself raises, in one place. Temporal classifies failures by their `type` string (an
 * `ApplicationFailure`'s type), which survives the workflow sandbox, serialization and Jest, where `instanceof` does
 * not: compare `failure.type` (or `err.cause?.type`) with these constants. A job's own errors keep their class name
 * as their type (`CapacityExceededError`), so retry policies can list them in `nonRetryableErrorTypes`.
 */

/** A process that did not succeed: the workflow's failure; its details carry the report. */
export const PROCESS_FAILED_TYPE = 'JipperProcessFailed';
/** A definition (or its params) rejected before any job ran; the message lists every problem with its path. */
export const INVALID_DEFINITION_TYPE = 'JipperInvalidDefinition';
/** A job's input fails the job's schema (never retried: the same input would fail again). */
export const INVALID_INPUT_TYPE = 'JipperInvalidInput';
/** A job's result fails its output schema, or is not JSON (never retried). */
export const INVALID_OUTPUT_TYPE = 'JipperInvalidOutput';
/** A job's result (or a process's results) over the size limits in `limits.ts` (never retried). */
export const RESULT_TOO_LARGE_TYPE = 'JipperResultTooLarge';
/**
 * A process's first job found that the plan was made from other versions of its jobs than this worker's (or names a
 * job this worker lacks). Never retried; nothing has run yet.
 */
export const PLAN_MISMATCH_TYPE = 'JipperPlanMismatch';
/** A code-first workflow named a job no worker library defines. */
export const UNKNOWN_JOB_TYPE = 'JipperUnknownJob';
/** A code-first workflow used one step id twice. */
export const DUPLICATE_STEP_TYPE = 'JipperDuplicateStep';
/** A `$param` or `$from` reference that cannot be resolved when its step starts (the step fails; the process unwinds). */
export const UNRESOLVED_REFERENCE_TYPE = 'JipperUnresolvedReference';
/**
 * A `$secret` that the worker's secret provider does not have (never retried: configure the secret on the workers,
 * then start the process again). The message names the secret and where it is used, never a value.
 */
export const SECRET_MISSING_TYPE = 'JipperSecretMissing';
/** The worker's secret provider could not answer (a vault that does not respond): the attempt is retried. */
export const SECRET_UNAVAILABLE_TYPE = 'JipperSecretUnavailable';

/** A job read a result from `ctx.results` that its step does not declare (`uses`, `$from`, `needs`). */
export const UNDECLARED_RESULT_TYPE = 'JipperUndeclaredResult';
/** A step or process deadline was reached: forward progress stopped and the process unwound. */
export const DEADLINE_TYPE = 'deadline';
/** The first job had not started within the process's `startWithin`. */
export const NOT_STARTED_TYPE = 'not-started';
/** A step's resource tokens could not be had within its `waitFor` (or waiting would have closed a deadlock). */
export const TOKEN_WAIT_TYPE = 'JipperTokenWait';
/** The workers polling the task queue do not have a job the process needs. */
export const MISSING_JOB_TYPE = 'JipperMissingJob';
/**
 * The reason a job's `ctx.signal` aborts with when its attempt passes its own deadline (its start-to-close timeout,
 * or its heartbeat timeout without a heartbeat): Temporal has given up on the attempt. The attempt's outcome stays
 * Temporal's timeout; this type reaches a report only when Temporal's own notice never came.
 */
export const ATTEMPT_EXPIRED_TYPE = 'JipperAttemptExpired';
/** A job completed from outside was failed by the holder of its completion token (`failJob`, `jipper complete --fail`). */
export const FAILED_FROM_OUTSIDE_TYPE = 'JipperFailedFromOutside';
/** A revert or a probe called `ctx.completeLater`: only a job's run may be completed from outside (never retried). */
export const COMPLETE_LATER_REFUSED_TYPE = 'JipperCompleteLaterRefused';

/** Every failure type above: for exhaustive checks and docs. */
export const JIPPER_FAILURE_TYPES = [
  PROCESS_FAILED_TYPE,
  INVALID_DEFINITION_TYPE,
  INVALID_INPUT_TYPE,
  INVALID_OUTPUT_TYPE,
  RESULT_TOO_LARGE_TYPE,
  PLAN_MISMATCH_TYPE,
  UNKNOWN_JOB_TYPE,
  DUPLICATE_STEP_TYPE,
  UNRESOLVED_REFERENCE_TYPE,
  SECRET_MISSING_TYPE,
  SECRET_UNAVAILABLE_TYPE,
  UNDECLARED_RESULT_TYPE,
  DEADLINE_TYPE,
  NOT_STARTED_TYPE,
  TOKEN_WAIT_TYPE,
  MISSING_JOB_TYPE,
  ATTEMPT_EXPIRED_TYPE,
  FAILED_FROM_OUTSIDE_TYPE,
  COMPLETE_LATER_REFUSED_TYPE,
] as const;
export type JipperFailureType = (typeof JIPPER_FAILURE_TYPES)[number];
/** An approval step was rejected (`jipper reject`): a `business` failure, so the process unwinds. */
export const REJECTED_TYPE = 'rejected';
