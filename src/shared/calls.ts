/** What the workflow sends to a job's activities, and what they send back. Plain JSON. */

export interface JobCall {
  /** The process (workflow) id. */
  processId: string;
  stepId: string;
  job: string;
  /** The step's args with references resolved; the activity validates them against the job's schema. */
  input: unknown;
  /**
   * Results of the earlier steps this job uses (its `$from` targets, the jobs it `needs`, its `uses`), by step id —
   * never all of them, so a process's history grows linearly with its steps.
   */
  results: Record<string, unknown>;
  /**
   * The step ids `results` may hold. A job that reads another step's result from its context gets an error that says
   * to declare it (`uses`). Absent in calls made before Jipper passed only used results: every result is there.
   */
  uses?: string[];
  /**
   * Every step id of the process, so `ctx.results` throws only for a read of another step the job's step does not
   * declare (any other key answers as on a plain object). Absent in calls from engines that did not send it: the
   * activity then reads the step ids from the run's input (once per run and worker).
   */
  steps?: string[];
  /** Bytes (JSON) the process's results weigh so far, so the job can check its own against the process's limit. */
  resultsBytes?: number;
  /**
   * The fingerprint, in the registry that planned the process, of every job it runs (by job name); sent with the calls
   * that start a process's first step only, whose activity checks them all against its own registry before doing
   * anything. Later calls do not carry it: a worker deployed while a process runs goes on with the process's plan.
   */
  fingerprints?: Record<string, string>;
  /**
   * Attempts this job already made elsewhere, added to the activity's own attempt number: a job whose first attempt
   * failed inside a run of local jobs goes on as a local activity of its own, whose attempt 1 is the job's attempt 2.
   */
  attemptBase?: number;
}

export interface RevertCall extends JobCall {
  /** The job's result, when it had one (a job reverted after its own failure has none). */
  result?: unknown;
  /** True when the job being reverted is the one that failed (its step set `revertOnFailure`). */
  afterFailure: boolean;
}

export interface JobOutcome {
  result: unknown;
  detail?: string;
  /** The attempt that succeeded (1-based). */
  attempt: number;
  /** How long the successful attempt waited to start after it was scheduled (a backlog, a rate limit), in ms. */
  waitedMs?: number;
}

/** What a probe activity answers (see `JobDefinition.probe`). */
export interface ProbeOutcome {
  answer: 'applied' | 'not-applied' | 'unknown';
  detail?: string;
}

/** Details Jipper attaches to a job's failure, so the report can show attempts and detail. */
export interface JobFailureDetails {
  attempt: number;
  detail?: string;
}

/** Activity type names for a job's run and revert. */
export function runActivityName(job: string): string {
  return `${job}.run`;
}
export function revertActivityName(job: string): string {
  return `${job}.revert`;
}
export function probeActivityName(job: string): string {
  return `${job}.probe`;
}

/** The task queue of a rate-limited job's runs: a queue of its own, whose rate Temporal limits. */
export function rateLimitedTaskQueue(taskQueue: string, job: string): string {
  return `${taskQueue}@rate-limited@${job}`;
}

/**
 * The local activity that runs a run of local jobs (`src/core/local.ts` `localRun`) in order, stopping at the first
 * failure: one activation for the run instead of one per job.
 */
export const LOCAL_RUN_ACTIVITY = 'jipper.local-run';

/** One job of a local run: its call (input resolved), and the timeout of its attempt in ms. */
export interface LocalRunMember {
  call: JobCall;
  timeoutMs: number;
}

/** What the workflow sends {@link LOCAL_RUN_ACTIVITY}. */
export interface LocalRunCall {
  members: LocalRunMember[];
  /** Also answer the worker's default hooks (the run's workflow asks them once; a local run is in the same worker). */
  hookDefaults?: boolean;
}

/** How the first attempt of a local run's job failed (the run stops there). */
export interface LocalRunFailure {
  /** Its index in the run. */
  index: number;
  type: string;
  message: string;
  nonRetryable: boolean;
  /** The attempt passed its timeout (the job may still be running: its signal was aborted). */
  timedOut?: boolean;
  detail?: string;
}

/** What {@link LOCAL_RUN_ACTIVITY} answers: the outcomes of the jobs that succeeded, in order, and the failure after. */
export interface LocalRunOutcome {
  outcomes: JobOutcome[];
  failure?: LocalRunFailure;
  /** When each job it ran (the failed one too) started and ended, in ms from the run's start on the worker. */
  times: [number, number][];
  /** The worker's default hooks, when asked. */
  hookDefaults?: Record<string, unknown>;
}

/** The plan activity: validates a definition against the worker's registry and returns each job's metadata. */
export const PLAN_ACTIVITY = 'jipper.plan';
/** The describe activity (code-first workflows): metadata of the named jobs. */
export const DESCRIBE_ACTIVITY = 'jipper.describe';
