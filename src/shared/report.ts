/**
 * The report: what happened to every job of a process. It is the live query result while a process runs, the
 * workflow's result when it succeeds, and the details of its failure otherwise. Plain JSON, so it survives Temporal's
 * payload converter unchanged.
 */

/** Final process statuses (the contract), plus the live ones a running process passes through. */
export const FINAL_PROCESS_STATUSES = ['succeeded', 'reverted', 'revert_failed', 'cancelled', 'failed'] as const;
export const LIVE_PROCESS_STATUSES = ['running', 'unwinding', 'parked'] as const;
export type FinalProcessStatus = (typeof FINAL_PROCESS_STATUSES)[number];
export type ProcessStatus = FinalProcessStatus | (typeof LIVE_PROCESS_STATUSES)[number];

export const JOB_STATUSES = [
  'pending',
  'running',
  'succeeded',
  'failed',
  'reverting',
  'reverted',
  'revert_failed',
  'skipped',
  'not_run',
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** An error as the report keeps it: Temporal's failure type and message, and the cause chain flattened. */
export interface ErrorInfo {
  /** The failure's type: an ApplicationFailure type (the error class name), `timeout`, `cancelled`, ... */
  type: string;
  message: string;
  nonRetryable?: boolean;
}

/** An operator's decision for a parked job. */
export type Decision = 'retry' | 'skip' | 'mark-reverted';

export interface RevertReport {
  /**
   * `reverted`: the revert ran and succeeded (or an operator marked it done). `skipped`: nothing to revert (the job
   * has no revert, or an operator chose skip). `revert_failed`: the revert still failed after its retries. `parked`:
   * waiting for an operator decision. `running`: in progress.
   */
  status: 'running' | 'reverted' | 'skipped' | 'revert_failed' | 'parked';
  attempts?: number;
  startedAt?: string;
  endedAt?: string;
  detail?: string;
  error?: ErrorInfo;
  /** Why it was skipped, or which operator decision settled it. */
  reason?: string;
  decisions?: { decision: Decision; at: string; reason?: string }[];
}

export interface JobReport {
  stepId: string;
  job: string;
  /** The parallel group this job belongs to, if any. */
  group?: string;
  pivot?: boolean;
  status: JobStatus;
  attempts?: number;
  startedAt?: string;
  endedAt?: string;
  result?: unknown;
  /** Human-readable detail the job wrote (`ctx.setDetail`). */
  detail?: string;
  error?: ErrorInfo;
  revert?: RevertReport;
  /** Order in which the job completed (1-based) — reverts run in the reverse of this order. */
  completedOrder?: number;
}

export interface ProcessReport {
  processId: string;
  runId?: string;
  name: string;
  status: ProcessStatus;
  startedAt: string;
  endedAt?: string;
  /** The step whose failure started the unwinding (or stopped the process past the pivot). */
  failedStep?: string;
  error?: ErrorInfo;
  /** True when the process failed or was cancelled after its pivot succeeded, so nothing was unwound. */
  stoppedPastPivot?: boolean;
  /** Steps whose revert failed or is parked: they need a person. */
  needsAttention: string[];
  /** Step ids in the order their reverts ran (for parallel reverts, the order they were started). */
  revertOrder: string[];
  /** How many times the run continued as new (long processes). */
  continuedAsNew?: number;
  jobs: JobReport[];
}

export function isFinalStatus(status: ProcessStatus): status is FinalProcessStatus {
  return (FINAL_PROCESS_STATUSES as readonly string[]).includes(status);
}

/**
 * The revert reason of a job that failed by timeout on a step without `revertOnFailure`: the report's line for an
 * effect that may stand. Temporal gave up on the attempt without knowing how far it got; it may have applied its
 * effect before, or — still running somewhere — after, and nothing reverts it.
 */
export const OUTCOME_UNKNOWN_REASON =
  'not reverted: it timed out, so its effect is unknown and may stand (set revertOnFailure on the step to revert it)';

/** Failure type of a workflow that ended without succeeding; its details carry the report. */
export const PROCESS_FAILED_TYPE = 'JipperProcessFailed';
/** Failure type of a definition rejected before any job ran. */
export const INVALID_DEFINITION_TYPE = 'JipperInvalidDefinition';
/** Failure type of job input that fails the job's schema (non-retryable). */
export const INVALID_INPUT_TYPE = 'JipperInvalidInput';
