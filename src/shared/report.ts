/**
 * The report: what happened to every job of a process. It is the live query result while a process runs, the
 * workflow's result when it succeeds, and the details of its failure otherwise. Plain JSON, so it survives Temporal's
 * payload converter unchanged.
 */
import type { HookOutcome } from '../schema/definition';
import type { ChildRecord } from './children';

/**
 * Final process statuses (the contract), plus the live ones a running process passes through. `waiting` is a process
 * started with a delay (`startAt` / `--start-in`) that has not begun yet: no job has run, and cancelling it unwinds
 * nothing. Only clients report it (the search attribute, and `getReport` while the delay lasts); the workflow itself
 * starts `running`.
 */
export const FINAL_PROCESS_STATUSES = ['succeeded', 'reverted', 'revert_failed', 'cancelled', 'failed'] as const;
export const LIVE_PROCESS_STATUSES = ['waiting', 'running', 'paused', 'unwinding', 'parked'] as const;
/**
 * How a run ends when Temporal, not Jipper, ends it: `terminated` (`temporal workflow terminate`, or the Web UI's
 * Terminate) or `timed_out` (a workflow execution or run timeout set by whoever started it). Nothing is unwound; the
 * workflow never sets these: the client reads them from the server (see `getReport`).
 */
export const ENDED_BY_TEMPORAL_STATUSES = ['terminated', 'timed_out'] as const;
export type FinalProcessStatus = (typeof FINAL_PROCESS_STATUSES)[number] | (typeof ENDED_BY_TEMPORAL_STATUSES)[number];
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
  /**
   * For a job's failure: its class, which decides whether it unwinds the process (`revertOn`): `business`,
   * `infrastructure`, `timeout` or `cancel`.
   */
  class?: 'business' | 'infrastructure' | 'timeout' | 'cancel';
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
  /** How long the successful attempt waited to start after it was scheduled (a backlog, a rate limit), in ms. */
  waitedMs?: number;
  /** How long the step waited for its resource tokens, in ms. */
  tokensWaitedMs?: number;
  /** What the job's probe said after an ambiguous failure. */
  probe?: { answer: 'applied' | 'not-applied' | 'unknown'; detail?: string };
  /** A child-process step's child: its id and its report, rows nested (see docs/sub-processes.md). */
  child?: ChildRecord;
  /** A wait step (an approval or an event): what it waits for, the command that settles it, and how it was settled. */
  wait?: WaitReport;
}

/** A wait step's part of the report (see `docs/waits.md`). */
export interface WaitReport {
  kind: 'approve' | 'event';
  /** An approval's question, and who may decide (absent: anyone). */
  prompt?: string;
  approvers?: string[];
  /** An event wait's event name and `match`. */
  event?: string;
  match?: string;
  /** When its timeout expires (the last time it opened). */
  expiresAt?: string;
  /** How many times it opened: more than once when it expired, parked, and an operator decided `retry`. */
  opens?: number;
  /** The command that settles it, e.g. `jipper approve order-17 manager-ok`. */
  settle: string;
  /** How it was settled: `approved`, `rejected`, an event `received`, or `timed-out`. */
  outcome?: 'approved' | 'rejected' | 'received' | 'timed-out';
  /** Who decided (an approval), when, and why. */
  by?: string;
  at?: string;
  reason?: string;
}

/** An operator's change to the remaining steps of a running process (`jipper revise`). */
export interface Revision {
  at: string;
  reason?: string;
  /** Step ids added, and removed (never started). */
  added: string[];
  removed: string[];
}

export interface ProcessReport {
  processId: string;
  runId?: string;
  name: string;
  status: ProcessStatus;
  startedAt: string;
  /** A `waiting` process (a delayed start): when it begins. */
  startsAt?: string;
  endedAt?: string;
  /** The step whose failure started the unwinding (or stopped the process past the pivot). */
  failedStep?: string;
  error?: ErrorInfo;
  /** True when the process failed or was cancelled after its pivot succeeded, so nothing was unwound. */
  stoppedPastPivot?: boolean;
  /**
   * Why a process that stopped was not unwound, when it was not: `pivot` (see `stoppedPastPivot`), or
   * `failure-class` (the failure was of a class its step does not unwind for: `revertOn`).
   */
  notUnwound?: 'pivot' | 'failure-class';
  /** While paused: when, and the operator's reason. */
  pause?: { at: string; reason?: string };
  /** Changes an operator made to the remaining steps while it ran. */
  revisions?: Revision[];
  /** Steps whose revert failed or is parked: they need a person. */
  needsAttention: string[];
  /** Step ids in the order their reverts ran (for parallel reverts, the order they were started). */
  revertOrder: string[];
  /** How many times the run continued as new (long processes). */
  continuedAsNew?: number;
  /**
   * Set on a run Temporal ended (`terminated`, `timed_out`): its jobs are as the run last knew them — from a worker's
   * replay of its history (`replay`, exactly the live report it had), or, when no worker could replay it, from the
   * activity events in its history (`history`). Nothing was unwound: jobs that succeeded are left as they are, and a
   * job shown `running` was running when the run ended (its effect is unknown).
   */
  lastKnown?: 'replay' | 'history';
  jobs: JobReport[];
  /** The outcome hooks that ran (`on:` in the definition, and the worker's defaults): they never change the status. */
  hooks?: HookRecord[];
}

/** What the report keeps of one outcome hook (`on:`). */
export interface HookRecord {
  /** The hook's stable id within the process (`on.reverted.0`); with the process id, its idempotency key. */
  hookId: string;
  outcome: HookOutcome;
  job: string;
  /** `running` until it settles; `failed` after its retries: the process's outcome is unchanged. */
  status: 'running' | 'succeeded' | 'failed';
  attempts?: number;
  detail?: string;
  error?: ErrorInfo;
  startedAt?: string;
  endedAt?: string;
}

export function isFinalStatus(status: ProcessStatus): status is FinalProcessStatus {
  return (
    (FINAL_PROCESS_STATUSES as readonly string[]).includes(status) ||
    (ENDED_BY_TEMPORAL_STATUSES as readonly string[]).includes(status)
  );
}

/**
 * The revert reason of a job that failed by timeout, before the pivot, on a step without `revertOnFailure` and with no
 * probe: the report's line for an effect that may stand. Temporal gave up on the attempt without knowing how far it
 * got; it may have applied its effect before, or — still running somewhere — after, and nothing reverts it.
 */
export const OUTCOME_UNKNOWN_REASON =
  'it timed out, so its effect is unknown and may stand; set revertOnFailure on the step, or give its job a probe, to have it reverted';
