/**
 * The saga engine: runs jobs forward, keeps the revert stack, and unwinds it when a job fails or the process is
 * cancelled. Both the generic process workflow and code-first workflows drive it, so they share the semantics and the
 * report. Read it top to bottom:
 *
 * 1. messages — the live report (query), an operator's decision, pause and resume (updates);
 * 2. forward — {@link Engine.runJob} runs one job and, when it fails, decides what its failure means (its class, its
 *    probe, the pivot, `revertOn` / `otherwise` / `afterPivot`); {@link Engine.runGroup} runs a parallel group under
 *    its success policy;
 * 3. unwinding — {@link Engine.unwind} reverts the revert stack in the waves `revertWaves` gives;
 * 4. the end — {@link Engine.conclude}, the one end-of-run path: succeeded, or unwound, or stopped without unwinding.
 *
 * Every change to a job's report row goes through `applyJobEvent` (src/shared/job-status.ts). Deterministic: it only
 * schedules activities and timers, waits on conditions and reads the workflow clock. Its state is plain JSON
 * ({@link EngineState}), so a long process can continue as new and carry it.
 */
import type { ActivityOptions, Priority } from '@temporalio/common';
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  TimeoutFailure,
  condition,
  isCancellation,
  scheduleActivity,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { FailureClass } from '../schema/definition';
import { recordCompensation } from './compensation-memo';
import type {
  JobCall,
  JobFailureDetails,
  JobOutcome,
  LocalRunFailure,
  ProbeOutcome,
  RevertCall,
} from '../shared/calls';
import { probeActivityName, rateLimitedTaskQueue, revertActivityName, runActivityName } from '../shared/calls';
import {
  DEADLINE_TYPE,
  DUPLICATE_STEP_TYPE,
  NOT_STARTED_TYPE,
  PROCESS_FAILED_TYPE,
  TOKEN_WAIT_TYPE,
} from '../shared/errors';
import type { JobEvent } from '../shared/job-status';
import { applyJobEvent } from '../shared/job-status';
import type { EffectiveCallOptions } from '../shared/options';
import { durationMs, toActivityOptions } from '../shared/options';
import type { PlanNode, PlannedJob } from '../shared/plan';
import { reportToMarkdown } from '../shared/render';
import type { Decision, ErrorInfo, JobReport, ProcessReport, ProcessStatus } from '../shared/report';
import { OUTCOME_UNKNOWN_REASON } from '../shared/report';
import type { ProcessState } from '../core';
import {
  afterPivotAction,
  afterWave,
  classifyFailure,
  endingOf,
  failedJobEffect,
  failureOutcome,
  initialState,
  probeDecides,
  pushOnStack,
  revertFailure,
  revertWaves,
  statusAfterUnwinding,
  statusWithoutUnwinding,
} from '../core';
import { PROCESS_NAME_KEY, PROCESS_STATUS_KEY } from '../shared/search-attributes';
import { nowIso } from './clock';
import { renderDetailsOnQuery } from './details';
import { scheduleJobActivity, scheduleLocalRetry } from './process-local';
import type { ChildSteps } from './process-children';
import { flatTree } from '../shared/children';
import type { DecideRequest, PauseRequest } from './messages';
import { decideUpdate, pauseUpdate, reportQuery, resumeUpdate } from './messages';
import type { WaitOutcome } from './process-waits';
import { Waits } from './process-waits';

export type { PlannedJob };
export type { OnRevertFailure, RevertMode } from '../core';
import type { OnRevertFailure, RevertMode } from '../core';
export { initialState };

export interface EngineSettings {
  revertMode: RevertMode;
  onRevertFailure: OnRevertFailure;
  /** Task-queue priority of the process's runs (1 most urgent to 5); reverts run one level more urgent. */
  priority?: number;
  fairnessKey?: string;
  fairnessWeight?: number;
}

/** Everything the engine knows; plain JSON, carried across continue-as-new (the saga core's process state). */
export type EngineState = ProcessState;

/**
 * A job failed and the process stops: `unwind` says whether its failure unwinds the process (its class is in
 * `revertOn`) or ends it with nothing reverted.
 */
export class JobFailedError extends Error {
  override readonly name = 'JobFailedError';
  constructor(
    readonly stepId: string,
    readonly error: ErrorInfo,
    readonly unwind = true
  ) {
    super(`job at step "${stepId}" failed: ${error.type}: ${error.message}`);
  }
}

/** Why a failure of a job's activity happened, as the report keeps it. */
function describeFailure(err: unknown): ErrorInfo {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    return {
      type: cause.type ?? 'Error',
      message: cause.message,
      ...(cause.nonRetryable ? { nonRetryable: true } : {}),
    };
  }
  if (cause instanceof TimeoutFailure) {
    const last = cause.cause instanceof ApplicationFailure ? `; last attempt: ${cause.cause.message}` : '';
    return {
      type: 'timeout',
      message: `${(cause.timeoutType ?? 'activity').toLowerCase().replace(/_/g, '-')} timeout${last}`,
    };
  }
  if (cause instanceof CancelledFailure) return { type: 'cancelled', message: cause.message || 'cancelled' };
  if (cause instanceof Error) return { type: cause.name, message: cause.message };
  return { type: 'Error', message: String(cause) };
}

/**
 * The class of a job's failure: `cancel` (the process was cancelled while it ran), `timeout` (its last attempt timed
 * out, or its worker was lost), `business` (the job's own non-retryable error), else `infrastructure` (retries spent).
 */
export function failureClassOf(err: unknown, cutByDeadline = false): FailureClass {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  return classifyFailure({
    cutByDeadline,
    cancelled: isCancellation(err) || cause instanceof CancelledFailure,
    timedOut: cause instanceof TimeoutFailure,
    nonRetryable:
      (cause instanceof ApplicationFailure && cause.nonRetryable) ||
      (err instanceof ActivityFailure && err.retryState === 'NON_RETRYABLE_FAILURE'),
  });
}

function failureDetails(err: unknown): Partial<JobFailureDetails> {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    const first: unknown = cause.details?.[0];
    if (typeof first === 'object' && first !== null && 'attempt' in first) return first as JobFailureDetails;
  }
  return {};
}

function attemptsOf(err: unknown, maximumAttempts: number | undefined): number | undefined {
  const fromDetails = failureDetails(err).attempt;
  if (fromDetails !== undefined) return fromDetails;
  if (err instanceof ActivityFailure && err.retryState === 'MAXIMUM_ATTEMPTS_REACHED') return maximumAttempts;
  return undefined;
}

/** Whether a job's activity failed because no worker started it within its schedule-to-start timeout. */
function neverStarted(err: unknown): boolean {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof TimeoutFailure && cause.timeoutType === 'SCHEDULE_TO_START';
}

/** Throws a CancelledFailure when the process has been cancelled (forward progress must stop). */
export function throwIfCancelled(): void {
  if (CancellationScope.current().consideredCancelled) throw new CancelledFailure('the process was cancelled');
}

/** A promise rejected with exactly what was thrown, as an async function's would be. */
export function rejectWith(err: unknown): Promise<never> {
  // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- pass on what was thrown, unchanged
  return Promise.reject(err);
}

export function initialReport(
  processId: string,
  name: string,
  jobs: Pick<PlannedJob, 'stepId' | 'job' | 'group' | 'pivot'>[]
): ProcessReport {
  return {
    processId,
    runId: workflowInfo().runId,
    name,
    status: 'running',
    startedAt: nowIso(),
    needsAttention: [],
    revertOrder: [],
    jobs: jobs.map(reportRow),
  };
}

function reportRow(j: Pick<PlannedJob, 'stepId' | 'job' | 'group' | 'pivot'>): JobReport {
  return {
    stepId: j.stepId,
    job: j.job,
    ...(j.group ? { group: j.group } : {}),
    ...(j.pivot ? { pivot: true } : {}),
    status: 'pending',
  };
}

/** What a parked job waits for: a failed revert, a failed forward job, or a probe that could not tell. */
type ParkKind = 'revert' | 'forward' | 'probe';

/** How the forward pass of a process ended, for {@link Engine.conclude}. */
export interface ConcludeOptions {
  /** Asked between waves of the unwinding; `true` makes `unwind` return `'paused'` so the caller continues as new. */
  shouldPause?: () => boolean;
  /** Continues as new while unwinding (never returns when it does). */
  carry?: () => Promise<void>;
}

export class Engine {
  private readonly planned = new Map<string, PlannedJob>();
  /** The process's graph, for the unwinding's waves (absent: the revert stack is a chain). */
  private nodes: readonly PlanNode[] | undefined;
  /** Fingerprints of the planned jobs, by job name, when the plan came with them (see {@link JobCall.fingerprints}). */
  private fingerprints: Record<string, string> | undefined;
  private readonly parked = new Map<string, ParkKind>();
  private readonly decisions = new Map<string, Decision>();
  private lastStatus: ProcessStatus | undefined;
  /** Forward jobs whose activities are running now. */
  private readonly runningJobs = new Set<string>();
  /** Set when a failure of a class its step does not unwind for ends the process (`otherwise: fail`). */
  private keepEffects = false;
  /**
   * Told when a parallel group's member has failed for good (its failure stops the process unless the group's policy
   * can still be met): the forward pass stops starting steps at once, not when the whole group has settled.
   */
  onMemberStopped: ((stepId: string) => void) | undefined;
  /** Called when a step parks for a decision (the process's `parked` hooks start then). */
  onPark: ((stepId: string) => void) | undefined;
  /** Runs and reverts child-process steps (the process workflow sets it; code-first sagas have none). */
  children: ChildSteps | undefined;
  /** Jobs a step's deadline or the process's deadline cut, with why: their failure is of type `deadline`. */
  private readonly cutByDeadline = new Map<string, string>();

  /** The process's wait steps (approvals, events): see `./process-waits`. */
  readonly waits: Waits;

  /** Whether the Web UI's current details are rendered when asked for (this bundle has Jipper's interceptor). */
  private readonly detailsOnQuery = renderDetailsOnQuery(() => reportToMarkdown(flatTree(this.state.report)));

  constructor(
    readonly state: EngineState,
    readonly settings: EngineSettings
  ) {
    setHandler(reportQuery, () => this.state.report);
    this.waits = new Waits(this);
    setHandler(
      decideUpdate,
      (request) => {
        this.decisions.set(request.stepId, request.decision);
        return { stepId: request.stepId, decision: request.decision, accepted: true };
      },
      { validator: (request: DecideRequest) => this.checkDecision(request) }
    );
    setHandler(
      pauseUpdate,
      (request) => {
        this.state.report.pause = { at: nowIso(), ...(request.reason ? { reason: request.reason } : {}) };
        if (this.runningJobs.size === 0) this.setStatus('paused');
        else this.publish();
        return { paused: true as const };
      },
      { validator: (request: PauseRequest) => this.checkPause(request) }
    );
    setHandler(
      resumeUpdate,
      () => {
        delete this.state.report.pause;
        if (this.state.report.status === 'paused') this.setStatus('running');
        else this.publish();
        return { resumed: true as const };
      },
      {
        validator: () => {
          if (!this.state.report.pause) throw new Error(`process ${this.state.report.processId} is not paused`);
        },
      }
    );
    this.publish();
  }

  // ── Messages ────────────────────────────────────────────────────────────────────────────────────────────────────

  private checkDecision(request: DecideRequest): void {
    const kind = this.parked.get(request.stepId);
    if (!kind) {
      const parkedNow = [...this.parked.keys()];
      throw new Error(
        `step "${request.stepId}" is not waiting for a decision` +
          (parkedNow.length ? ` (parked: ${parkedNow.join(', ')})` : ' (nothing is parked)')
      );
    }
    if (kind === 'forward' && request.decision === 'mark-reverted') {
      const where = this.state.pivotPassed ? 'past the pivot' : 'going forward';
      throw new Error(`step "${request.stepId}" failed ${where}: decide retry or skip`);
    }
  }

  private checkPause(_request: PauseRequest): void {
    const { status, processId } = this.state.report;
    if (this.state.report.pause) throw new Error(`process ${processId} is already paused`);
    if (status !== 'running' && status !== 'waiting') {
      throw new Error(`process ${processId} is ${status}: only a running process can pause`);
    }
  }

  /** True while an operator has paused forward progress. */
  get pausedByOperator(): boolean {
    return this.state.report.pause !== undefined;
  }

  /** Records how long a step waited for its resource tokens. */
  tokensWaited(stepId: string, ms: number): void {
    this.event(stepId, { type: 'waited', tokensMs: ms });
    this.publish();
  }

  /** The process's deadline was reached: every running job's failure is of type `deadline`. */
  cutRunning(why: string): void {
    for (const stepId of this.runningJobs) this.cutByDeadline.set(stepId, why);
  }

  /** Waits until forward progress may go on (not paused). Cancellable: cancelling a paused process unwinds it. */
  async whilePaused(): Promise<void> {
    if (!this.pausedByOperator) return;
    if (this.runningJobs.size === 0 && this.state.report.status !== 'paused') this.setStatus('paused');
    await condition(() => !this.pausedByOperator);
  }

  get report(): ProcessReport {
    return this.state.report;
  }

  /** Tells the engine how to run the jobs of a planned definition (their report rows already exist). */
  register(jobs: readonly PlannedJob[], nodes?: readonly PlanNode[]): void {
    const fingerprints: Record<string, string> = {};
    for (const job of jobs) {
      this.planned.set(job.stepId, job);
      if (job.fingerprint !== undefined) fingerprints[job.job] = job.fingerprint;
    }
    if (Object.keys(fingerprints).length) this.fingerprints = fingerprints;
    if (nodes) this.nodes = nodes;
  }

  /** Adds a job the engine did not know up front (code-first workflows, revisions), with its report row. */
  plan(job: PlannedJob): void {
    const row = this.state.report.jobs.find((j) => j.stepId === job.stepId);
    if (this.planned.has(job.stepId) && row && row.status !== 'pending') {
      throw ApplicationFailure.nonRetryable(
        `step id "${job.stepId}" is used twice in this process`,
        DUPLICATE_STEP_TYPE
      );
    }
    this.planned.set(job.stepId, job);
    if (!row) this.state.report.jobs.push(reportRow(job));
  }

  /** Forgets a job that never started (a revision removed it), with its report row. */
  unplan(stepId: string): void {
    this.planned.delete(stepId);
    this.state.report.jobs = this.state.report.jobs.filter((j) => j.stepId !== stepId);
  }

  jobReport(stepId: string): JobReport {
    const report = this.state.report.jobs.find((j) => j.stepId === stepId);
    if (!report) throw new Error(`no report row for step "${stepId}"`);
    return report;
  }

  /** The planned job at a step, if there is one. */
  plannedOf(stepId: string): PlannedJob | undefined {
    return this.planned.get(stepId);
  }

  private plannedJob(stepId: string): PlannedJob {
    const job = this.planned.get(stepId);
    if (!job) throw new Error(`step "${stepId}" is not planned`);
    return job;
  }

  private event(stepId: string, event: JobEvent): JobReport {
    return applyJobEvent(this.jobReport(stepId), event);
  }

  /**
   * Refreshes the Web UI's view of the run: the status search attribute when it changed; the current details too,
   * unless they are rendered when the Web UI asks for them (`./details`).
   */
  publish(): void {
    const { report } = this.state;
    if (report.status !== this.lastStatus) {
      this.lastStatus = report.status;
      const current = workflowInfo().typedSearchAttributes;
      const updates = [];
      if (current.get(PROCESS_NAME_KEY) !== report.name) updates.push({ key: PROCESS_NAME_KEY, value: report.name });
      if (current.get(PROCESS_STATUS_KEY) !== report.status) {
        updates.push({ key: PROCESS_STATUS_KEY, value: report.status });
      }
      if (updates.length) upsertSearchAttributes(updates);
    }
    if (!this.detailsOnQuery) setCurrentDetails(reportToMarkdown(flatTree(report)));
  }

  setStatus(status: ProcessStatus): void {
    this.state.report.status = status;
    this.publish();
  }

  // ── Forward ─────────────────────────────────────────────────────────────────────────────────────────────────────

  /** The results a job's call carries: those its step uses (all of them for a job planned before that was known). */
  private resultsFor(job: PlannedJob): Record<string, unknown> {
    if (!job.uses) return this.planned.size && this.nodes ? {} : this.state.results;
    const results: Record<string, unknown> = {};
    for (const id of job.uses) if (Object.hasOwn(this.state.results, id)) results[id] = this.state.results[id];
    return results;
  }

  private call(job: PlannedJob, input: unknown): JobCall {
    return {
      // The process's id as its report keeps it: a child unwinding for its parent reverts under its forward run's id.
      processId: this.state.report.processId,
      stepId: job.stepId,
      job: job.job,
      input,
      results: this.resultsFor(job),
      ...(this.nodes ? { uses: job.uses ?? [], resultsBytes: this.state.resultsBytes ?? 0 } : {}),
    };
  }

  /** A run's call: with the plan's fingerprints while no job has completed (see {@link JobCall.fingerprints}). */
  private runCall(job: PlannedJob, input: unknown): JobCall {
    const call = this.call(job, input);
    return this.fingerprints && this.state.completedCount === 0 ? { ...call, fingerprints: this.fingerprints } : call;
  }

  /** Task-queue priority for a job's run, or (one level more urgent, by default) its revert. */
  private priority(job: PlannedJob, side: 'run' | 'revert'): Priority | undefined {
    const key = job.options.priority ?? this.settings.priority;
    const fairness = this.settings.fairnessKey
      ? { fairnessKey: this.settings.fairnessKey, fairnessWeight: this.settings.fairnessWeight ?? 1 }
      : {};
    if (side === 'revert') return { priorityKey: Math.max(1, (key ?? 3) - 1), ...fairness };
    if (key === undefined && !this.settings.fairnessKey) return undefined;
    return { ...(key !== undefined ? { priorityKey: key } : {}), ...fairness };
  }

  private activityOptions(job: PlannedJob, side: 'run' | 'revert', call: EffectiveCallOptions): ActivityOptions {
    const priority = this.priority(job, side);
    return {
      ...toActivityOptions(call),
      ...(priority ? { priority } : {}),
      ...(side === 'run' && job.ratePerSecond !== undefined
        ? { taskQueue: rateLimitedTaskQueue(workflowInfo().taskQueue, job.job) }
        : {}),
    };
  }

  /**
   * Runs one job forward and returns its result. On success the job is pushed on the revert stack (or into `unit`,
   * a parallel group's). On failure the failure is classified and acted on — a probe asked, the job reverted after
   * its failure, an operator's decision awaited, a forward-recovery job run — and when the process must stop, this
   * rejects with {@link JobFailedError} (a cancellation is passed on as is).
   */
  runJob(stepId: string, input: unknown, unit?: string[], extra: Partial<ActivityOptions> = {}): Promise<unknown> {
    let job: PlannedJob;
    try {
      job = this.plannedJob(stepId);
      // A job the cancellation reached before it started stays pending (reported `not_run`), not `failed`.
      throwIfCancelled();
    } catch (err) {
      return rejectWith(err);
    }
    if (job.wait) return this.waits.run(job, unit);
    return this.attemptJob(job, input, unit, extra);
  }

  /** A wait step opens: it runs (with no activity) until `Waits` settles it. */
  waitStarted(stepId: string): void {
    this.event(stepId, { type: 'start', at: nowIso() });
    this.runningJobs.add(stepId);
    this.publish();
  }

  /** A wait step expired and parks for a decision: it failed (a retry opens it again), and no longer waits. */
  waitParked(stepId: string, error: ErrorInfo): void {
    this.event(stepId, { type: 'fail', at: nowIso(), error });
    this.ran(stepId);
  }

  /** A wait step settled: it succeeds, or fails as a job does (`expired`: cut by its timeout, a `timeout` failure). */
  async waitSettled(job: PlannedJob, unit: string[] | undefined, outcome: WaitOutcome): Promise<unknown> {
    this.ran(job.stepId);
    if ('result' in outcome) return this.succeeded(job, { result: outcome.result, attempt: 1 }, unit);
    if (outcome.expired !== undefined) this.cutByDeadline.set(job.stepId, outcome.expired);
    const next = await this.failed(job, outcome.error, unit);
    if (next === 'retry') return this.waits.run(job, unit);
    return next === 'skip' ? undefined : next.result;
  }

  /**
   * One attempt at a job and what follows it: a single `then` on the activity for the common case (every workflow
   * promise costs the SDK a captured stack), the failure path only when it fails.
   */
  private attemptJob(
    job: PlannedJob,
    input: unknown,
    unit: string[] | undefined,
    extra: Partial<ActivityOptions>,
    resumedFrom?: string
  ): Promise<unknown> {
    return this.attempt(job, input, extra, resumedFrom).then(
      (outcome) => {
        this.ran(job.stepId);
        return this.succeeded(job, outcome, unit);
      },
      (err: unknown) => this.afterFailure(job, input, unit, extra, err)
    );
  }

  /** A job's run failed for good (its retry policy spent): what {@link failed} decides, done. */
  private async afterFailure(
    job: PlannedJob,
    input: unknown,
    unit: string[] | undefined,
    extra: Partial<ActivityOptions>,
    err: unknown
  ): Promise<unknown> {
    this.ran(job.stepId);
    const next = await this.failed(job, err, unit);
    if (next === 'retry') return this.attemptJob(job, input, unit, extra);
    return next === 'skip' ? undefined : next.result;
  }

  /**
   * The run call of a job of a local run (`process-local-run.ts`), with the plan's fingerprints when it is the run's
   * first job and no job has completed yet.
   */
  localRunCall(stepId: string, input: unknown, first: boolean): JobCall {
    const job = this.plannedJob(stepId);
    return first ? this.runCall(job, input) : this.call(job, input);
  }

  /** The jobs of a local run are running (a pause asked for meanwhile waits for them, as for any running job). */
  localRunStarted(stepIds: readonly string[]): void {
    for (const stepId of stepIds) this.runningJobs.add(stepId);
  }

  /** The jobs of a local run no longer run (each is then recorded, or starts again on its own). */
  localRunSettled(stepIds: readonly string[]): void {
    for (const stepId of stepIds) this.ran(stepId);
  }

  /**
   * A job of a local run succeeded: it is recorded as if it had run alone (started, succeeded, on the stack), with
   * the times the worker measured.
   */
  recordLocalRun(stepId: string, input: unknown, outcome: JobOutcome, startedAt: string, endedAt: string): void {
    const job = this.plannedJob(stepId);
    this.state.inputs[stepId] = input;
    this.event(stepId, { type: 'start', at: startedAt });
    this.succeeded(job, outcome, undefined, endedAt);
  }

  /**
   * A job of a local run whose first attempt failed in the run: when its retry policy allows another attempt, it goes
   * on as a local activity of its own (`scheduleLocalRetry`); otherwise the failure is acted on as any job's.
   */
  resumeLocalRun(
    stepId: string,
    input: unknown,
    failure: LocalRunFailure,
    startedAt: string,
    extra: Partial<ActivityOptions>
  ): Promise<unknown> {
    const job = this.plannedJob(stepId);
    const { retry } = job.options.run;
    const spent =
      failure.nonRetryable ||
      (retry.nonRetryableErrorTypes ?? []).includes(failure.type) ||
      retry.maximumAttempts === 1;
    if (!spent) return this.attemptJob(job, input, undefined, extra, startedAt);
    this.state.inputs[stepId] = input;
    this.event(stepId, { type: 'start', at: startedAt });
    const err = failure.timedOut
      ? new TimeoutFailure(failure.message, undefined, 'START_TO_CLOSE')
      : ApplicationFailure.create({
          type: failure.type,
          message: failure.message,
          nonRetryable: failure.nonRetryable,
          details: [{ attempt: 1, ...(failure.detail !== undefined ? { detail: failure.detail } : {}) }],
        });
    return this.afterFailure(job, input, undefined, extra, err);
  }

  /**
   * Schedules the job's run activity (in a scope its deadline can cancel); settles as the activity does.
   * `resumedFrom`: the job's first attempt, started then, failed inside a local run, and this is its second
   * (`scheduleLocalRetry`).
   */
  private attempt(
    job: PlannedJob,
    input: unknown,
    extra: Partial<ActivityOptions>,
    resumedFrom?: string
  ): Promise<JobOutcome> {
    const { stepId } = job;
    this.state.inputs[stepId] = input;
    this.event(stepId, { type: 'start', at: resumedFrom ?? nowIso() });
    this.publish();
    const children = this.children?.runs(job) ? this.children : undefined;
    const options = (): ActivityOptions => ({
      ...this.activityOptions(job, 'run', job.options.run),
      activityId: `${stepId}.run`,
      summary: `run ${job.job} · step ${stepId}`,
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
      ...extra,
    });
    const schedule = () =>
      children?.run(job, input) ??
      (resumedFrom !== undefined
        ? scheduleLocalRetry(job, runActivityName(job.job), this.call(job, input), options())
        : scheduleJobActivity(job, 'run', runActivityName(job.job), [this.runCall(job, input)], options()));
    this.runningJobs.add(stepId);
    const deadline = job.options.deadline;
    if (deadline === undefined) return schedule();
    // With a deadline, the step's timer cancels its activity when it fires, and is cancelled when the job ends first.
    return CancellationScope.cancellable(async () => {
      const activityScope = CancellationScope.current();
      const timerScope = new CancellationScope();
      const timer = timerScope
        .run(() => sleep(durationMs(deadline)))
        .then(
          () => {
            this.cutByDeadline.set(stepId, `the step's deadline (${String(deadline)}) was reached`);
            activityScope.cancel();
          },
          () => undefined
        );
      try {
        return await schedule();
      } finally {
        timerScope.cancel();
        await timer;
      }
    });
  }

  /** A job's run activity has settled: it no longer runs, and a pause asked for meanwhile takes effect. */
  private ran(stepId: string): void {
    this.runningJobs.delete(stepId);
    if (this.runningJobs.size === 0 && this.pausedByOperator && this.state.report.status === 'running') {
      this.setStatus('paused');
    }
  }

  private succeeded(job: PlannedJob, outcome: JobOutcome, unit: string[] | undefined, at = nowIso()): unknown {
    const { stepId } = job;
    this.cutByDeadline.delete(stepId);
    this.state.completedCount += 1;
    this.event(stepId, {
      type: 'succeed',
      at,
      attempts: outcome.attempt,
      result: outcome.result,
      order: this.state.completedCount,
      ...(outcome.detail !== undefined ? { detail: outcome.detail } : {}),
      ...(outcome.waitedMs !== undefined ? { waitedMs: outcome.waitedMs } : {}),
    });
    this.state.results[stepId] = outcome.result;
    if (this.nodes) this.state.resultsBytes = (this.state.resultsBytes ?? 0) + JSON.stringify(outcome.result).length;
    pushOnStack(this.state, stepId, unit);
    if (job.pivot && !unit) this.state.pivotPassed = true;
    this.publish();
    return outcome.result;
  }

  /**
   * Records a failed job and decides what comes next: `retry` it, `skip` it and go on, go on with a recovery job's
   * result, or stop the process (throws {@link JobFailedError}; a cancellation is rethrown as is).
   */
  private async failed(
    job: PlannedJob,
    err: unknown,
    unit: string[] | undefined
  ): Promise<'retry' | 'skip' | { result: unknown }> {
    const { stepId } = job;
    const cut = this.cutByDeadline.get(stepId);
    this.cutByDeadline.delete(stepId);
    const cutByDeadline = cut !== undefined;
    if (neverStarted(err)) {
      // No worker started it in time (the process's `startWithin`): it never ran, so there is nothing to undo.
      this.event(stepId, { type: 'fail', at: nowIso(), error: describeFailure(err) });
      this.event(stepId, { type: 'never-started' });
      this.publish();
      throw new JobFailedError(stepId, {
        type: NOT_STARTED_TYPE,
        message: "no worker started the first job in time (the process's startWithin)",
      });
    }
    const failureClass: FailureClass = failureClassOf(err, cutByDeadline);
    const described = cutByDeadline ? { type: DEADLINE_TYPE, message: cut } : describeFailure(err);
    const error: ErrorInfo = this.nodes ? { ...described, class: failureClass } : described;
    const attempts = attemptsOf(err, job.options.run.retry.maximumAttempts);
    const detail = failureDetails(err).detail;
    this.event(stepId, {
      type: 'fail',
      at: nowIso(),
      error,
      ...(attempts !== undefined ? { attempts } : {}),
      ...(detail !== undefined ? { detail } : {}),
    });
    const cancelled = isCancellation(err) && !cutByDeadline;
    const stop = (unwind = true): never => {
      this.publish();
      if (unit) this.onMemberStopped?.(stepId);
      if (cancelled) throw err;
      throw new JobFailedError(stepId, error, unwind);
    };

    // Past the pivot nothing is unwound: the step's afterPivot says what to do.
    if (this.state.pivotPassed) {
      if (probeDecides(job, failureClass) && (await this.probe(job)) === 'applied') {
        this.event(stepId, { type: 'skip', reason: 'its probe found the effect applied: going on' });
        this.publish();
        return { result: null };
      }
      const action = afterPivotAction(job, this.settings.onRevertFailure, cancelled);
      if (action === 'retry') {
        this.publish();
        await sleep(durationMs(job.options.run.retry.maximumInterval ?? '30s'));
        return 'retry';
      }
      if (action === 'park') return (await this.awaitForwardDecision(stepId)) ? 'retry' : 'skip';
      if (typeof action === 'object') return { result: await this.recover(job, action.recover) };
      return stop();
    }

    // Whether the failed job itself is reverted: its probe says (an ambiguous failure), or its step.
    const answer = probeDecides(job, failureClass) ? await this.probe(job) : undefined;
    const effect = failedJobEffect(job, failureClass, answer);
    if (effect === 'revert') pushOnStack(this.state, stepId, unit);
    // Temporal gave up on the job without knowing how far it got: its effect may stand, and nothing reverts it.
    if (effect === 'unknown') this.event(stepId, { type: 'revert-skip', reason: OUTCOME_UNKNOWN_REASON });

    const outcome = failureOutcome(job, failureClass, cancelled);
    if (outcome === 'park') return (await this.awaitForwardDecision(stepId)) ? 'retry' : 'skip';
    if (outcome === 'keep-effects') {
      this.keepEffects = true;
      return stop(false);
    }
    return stop();
  }

  /** Asks a job's probe whether its effect was applied; `unknown` parks the job for a person. */
  private async probe(job: PlannedJob): Promise<'applied' | 'not-applied'> {
    const { stepId } = job;
    for (let round = 1; ; round++) {
      let outcome: ProbeOutcome;
      try {
        outcome = await CancellationScope.nonCancellable(() =>
          scheduleActivity<ProbeOutcome>(probeActivityName(job.job), [this.call(job, this.state.inputs[stepId])], {
            ...this.activityOptions(job, 'revert', job.options.revert),
            activityId: `${stepId}.probe.${round}`,
            summary: `probe ${job.job} · step ${stepId}`,
          })
        );
      } catch (err) {
        outcome = { answer: 'unknown', detail: `the probe failed: ${describeFailure(err).message}` };
      }
      this.event(stepId, {
        type: 'probe',
        answer: outcome.answer,
        ...(outcome.detail !== undefined ? { detail: outcome.detail } : {}),
      });
      this.publish();
      if (outcome.answer !== 'unknown') return outcome.answer;
      const decision = await CancellationScope.nonCancellable(() => this.awaitDecision(stepId, 'probe'));
      if (decision === 'retry') continue;
      if (decision === 'mark-reverted') {
        this.event(stepId, { type: 'revert-skip', reason: 'an operator undid its effect by hand' });
        return 'not-applied';
      }
      return 'not-applied';
    }
  }

  /** Runs a forward-recovery job in place of a step that failed after the pivot; its failure ends the process. */
  private async recover(job: PlannedJob, recovery: { job: string; args?: Record<string, unknown> }): Promise<unknown> {
    const stepId = `${job.stepId}-recover`;
    this.plan({
      stepId,
      job: recovery.job,
      ...(job.group ? { group: job.group } : {}),
      hasRevert: false,
      options: { ...job.options, afterPivot: 'fail' },
    });
    this.event(job.stepId, { type: 'skip', reason: `recovered by ${recovery.job} (step ${stepId})` });
    return this.runJob(stepId, recovery.args ?? {});
  }

  /**
   * Runs jobs side by side: each member gets the group's revert unit to record itself in when it completes. With the
   * default policy (`all`) every member is allowed to settle; completed members form one unit of the revert stack, and
   * the first failure is thrown (a cancellation wins). With `any` or `n`, the group succeeds once that many members
   * have: members still running are cancelled, and a member that finishes anyway is reverted at once.
   */
  async runGroup(
    members: ((unit: string[]) => Promise<unknown>)[],
    pivot = false,
    policy: { needed: number; stepIds: readonly string[] } | undefined = undefined
  ): Promise<unknown[]> {
    const unit: string[] = [];
    if (!policy || policy.needed >= members.length) {
      const settled = await Promise.allSettled(members.map((run) => run(unit)));
      if (unit.length) this.state.units.push(unit);
      const failures = settled
        .filter((s): s is PromiseRejectedResult => s.status === 'rejected')
        .map((s) => s.reason as Error);
      const cancellation = failures.find((f) => isCancellation(f));
      if (cancellation) throw cancellation;
      const [first] = failures;
      if (first) throw first;
      if (pivot) this.state.pivotPassed = true;
      return settled.map((s) => (s.status === 'fulfilled' ? s.value : undefined));
    }
    return this.runGroupWithPolicy(members, pivot, policy, unit);
  }

  private async runGroupWithPolicy(
    members: ((unit: string[]) => Promise<unknown>)[],
    pivot: boolean,
    policy: { needed: number; stepIds: readonly string[] },
    unit: string[]
  ): Promise<unknown[]> {
    const results: unknown[] = new Array<unknown>(members.length).fill(undefined);
    let met = false;
    const surplus: string[] = [];
    const scope = new CancellationScope();
    const settled = await scope.run(() =>
      Promise.allSettled(
        members.map((run, i) =>
          run(unit).then((value) => {
            results[i] = value;
            const stepId = policy.stepIds[i] as string;
            if (met) {
              // It finished after the group had succeeded without it: reverted at once, below.
              surplus.push(stepId);
              unit.splice(unit.indexOf(stepId), 1);
            } else if (unit.length >= policy.needed) {
              met = true;
              scope.cancel();
            }
            return value;
          })
        )
      )
    );
    const failures = settled
      .filter((s): s is PromiseRejectedResult => s.status === 'rejected')
      .map((s) => s.reason as Error);
    if (met) {
      // Members the group no longer needed: cancelled ones are skipped; finished ones reverted now.
      policy.stepIds.forEach((stepId, i) => {
        const row = this.jobReport(stepId);
        const kept = unit.includes(stepId);
        if (!kept && settled[i]?.status === 'rejected' && row.status === 'failed' && row.error?.type === 'cancelled') {
          this.event(stepId, { type: 'skip', reason: 'cancelled: the group had succeeded without it' });
        }
      });
      if (unit.length) this.state.units.push(unit);
      await CancellationScope.nonCancellable(() => Promise.all(surplus.map((stepId) => this.revertJob(stepId))));
      if (pivot) this.state.pivotPassed = true;
      this.publish();
      return results;
    }
    if (unit.length) this.state.units.push(unit);
    const cancellation = failures.find((f) => isCancellation(f));
    if (cancellation) throw cancellation;
    const [first] = failures;
    throw first ?? new Error('the group failed');
  }

  /**
   * Waits for an operator decision on a job that failed going forward (past the pivot, or a failure its step parks
   * on). Returns true to retry it, false to skip it (recorded `skipped`; the process moves on).
   */
  async awaitForwardDecision(stepId: string): Promise<boolean> {
    const decision = await this.awaitDecision(stepId, 'forward');
    const row = this.jobReport(stepId);
    row.revert = undefined;
    if (decision === 'retry') return true;
    const reason = this.state.pivotPassed
      ? 'skipped by operator after failing past the pivot'
      : 'skipped by operator after it failed';
    this.event(stepId, { type: 'skip', reason });
    this.publish();
    return false;
  }

  private async awaitDecision(stepId: string, kind: ParkKind): Promise<Decision> {
    this.parked.set(stepId, kind);
    if (!this.state.report.needsAttention.includes(stepId)) this.state.report.needsAttention.push(stepId);
    const previous = this.state.report.status;
    this.setStatus('parked');
    this.onPark?.(stepId);
    await condition(() => this.decisions.has(stepId));
    const decision = this.decisions.get(stepId) as Decision;
    this.decisions.delete(stepId);
    this.parked.delete(stepId);
    this.state.report.needsAttention = this.state.report.needsAttention.filter((s) => s !== stepId);
    if (kind === 'revert') {
      const row = this.jobReport(stepId);
      row.revert = row.revert ?? { status: 'parked' };
      row.revert.decisions = [...(row.revert.decisions ?? []), { decision, at: nowIso() }];
    }
    this.setStatus(this.parked.size ? 'parked' : previous === 'parked' ? 'unwinding' : previous);
    return decision;
  }

  // ── Unwinding ───────────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Unwinds the revert stack in the waves `revertWaves` gives (newest first; units that do not depend on each other
   * side by side; everything at once in `parallel` mode). Runs in a non-cancellable scope: cancelling the process must
   * not stop its reverts. `shouldPause` lets the caller continue as new between waves.
   */
  async unwind(shouldPause: () => boolean = () => false): Promise<'done' | 'paused'> {
    return CancellationScope.nonCancellable(async () => {
      if (this.state.report.status !== 'unwinding') this.setStatus('unwinding');
      if (this.settings.revertMode === 'parallel') {
        const [all = []] = revertWaves(this.state.units, { mode: 'parallel' });
        this.state.units = [];
        await Promise.all(all.map((stepId) => this.revertJob(stepId)));
        return 'done';
      }
      while (this.state.units.length) {
        if (shouldPause()) return 'paused';
        const [wave = []] = revertWaves(this.state.units, this.nodes ? { nodes: this.nodes } : {});
        // A wave of one (a chain's every wave) awaits its revert directly: no `Promise.all`, fewer workflow promises.
        if (wave.length === 1) await this.revertJob(wave[0] as string);
        else await Promise.all(wave.map((stepId) => this.revertJob(stepId)));
        this.state.units = afterWave(this.state.units, wave);
      }
      return 'done';
    });
  }

  /**
   * Reverts one job: its revert activity with a single `then` when it succeeds (the common path), the failure path —
   * needs-attention, or parked for a decision and retried — only when it fails.
   */
  private revertJob(stepId: string): Promise<void> {
    const job = this.plannedJob(stepId);
    const row = this.jobReport(stepId);
    if (!job.hasRevert) {
      this.event(stepId, { type: 'revert-skip', reason: 'the job has no revert' });
      this.publish();
      return Promise.resolve();
    }
    this.state.report.revertOrder.push(stepId);
    return this.attemptRevert(job, row, row.status === 'failed');
  }

  private attemptRevert(job: PlannedJob, row: JobReport, afterFailure: boolean): Promise<void> {
    const { stepId } = job;
    this.event(stepId, { type: 'revert-start', at: nowIso() });
    this.publish();
    const call: RevertCall = {
      ...this.call(job, this.state.inputs[stepId]),
      ...(stepId in this.state.results ? { result: this.state.results[stepId] } : {}),
      afterFailure,
    };
    const reverting = this.children?.runs(job)
      ? this.children.revert(job)
      : scheduleJobActivity(job, 'revert', revertActivityName(job.job), [call], {
          ...this.activityOptions(job, 'revert', job.options.revert),
          activityId: `${stepId}.revert.${(row.revert?.decisions?.length ?? 0) + 1}`,
          summary: `revert ${job.job} · step ${stepId}`,
        });
    return reverting.then(
      (outcome) => {
        this.event(stepId, {
          type: 'revert-succeed',
          at: nowIso(),
          attempts: outcome.attempt,
          ...(outcome.detail !== undefined ? { detail: outcome.detail } : {}),
        });
        this.publish();
      },
      (err: unknown) => this.revertFailed(job, row, afterFailure, err)
    );
  }

  /** A revert failed: it needs attention and the unwinding goes on, or it parks for an operator's decision. */
  private async revertFailed(job: PlannedJob, row: JobReport, afterFailure: boolean, err: unknown): Promise<void> {
    const { stepId } = job;
    const attempts = attemptsOf(err, job.options.revert.retry.maximumAttempts);
    const detail = failureDetails(err).detail;
    this.event(stepId, {
      type: 'revert-fail',
      at: nowIso(),
      error: describeFailure(err),
      ...(attempts !== undefined ? { attempts } : {}),
      ...(detail !== undefined ? { detail } : {}),
    });
    if (revertFailure(this.settings.onRevertFailure) === 'needs-attention') {
      if (!this.state.report.needsAttention.includes(stepId)) this.state.report.needsAttention.push(stepId);
      this.publish();
      return;
    }
    this.event(stepId, { type: 'revert-park' });
    const decision = await this.awaitDecision(stepId, 'revert');
    if (decision === 'retry') return this.attemptRevert(job, row, afterFailure);
    // The decision is recorded in the row by awaitDecision; settle the revert as the operator said.
    const revert = row.revert ?? { status: 'parked' };
    if (decision === 'mark-reverted') {
      Object.assign(revert, { status: 'reverted', reason: 'marked reverted by an operator' });
      if (!afterFailure) row.status = 'reverted';
    } else {
      Object.assign(revert, { status: 'skipped', reason: 'skipped by an operator' });
      if (!afterFailure) row.status = 'skipped';
    }
    row.revert = revert;
    this.publish();
  }

  // ── The end ─────────────────────────────────────────────────────────────────────────────────────────────────────

  /** Marks every job that never started as `not_run`. */
  markNotRun(): void {
    for (const row of this.state.report.jobs) if (row.status === 'pending') applyJobEvent(row, { type: 'not-run' });
  }

  /** Sets the final status and end time, publishes it, and returns the report. */
  finish(status: ProcessStatus): ProcessReport {
    this.markNotRun();
    delete this.state.report.pause;
    this.state.report.endedAt = nowIso();
    this.setStatus(status);
    recordCompensation(this.state.report);
    return this.state.report;
  }

  /**
   * Records why the forward pass stopped and returns true when it was a cancellation. A job failure (or an
   * ApplicationFailure a code-first workflow throws to abort) is recorded as the process error. Anything else is a
   * bug in workflow code and is rethrown, so the workflow task fails and retries until the code is fixed.
   */
  recordStop(err: unknown): boolean {
    const { report } = this.state;
    if (isCancellation(err)) {
      report.error = { type: 'cancelled', message: 'the process was cancelled' };
      return true;
    }
    if (err instanceof JobFailedError) {
      report.failedStep = err.stepId;
      report.error = err.error;
      if (!err.unwind) this.keepEffects = true;
      return false;
    }
    if (err instanceof ApplicationFailure) {
      report.error = describeFailure(err);
      return false;
    }
    throw err;
  }

  /**
   * The one way a process that stopped going forward ends (the process workflow's and code-first sagas'): past the
   * pivot, or after a failure its step does not unwind for, nothing is reverted; otherwise the revert stack is unwound
   * (continuing as new between waves when the caller asks) and the process ends `reverted`, `revert_failed` or
   * `cancelled`. Never returns: the workflow ends with the failure carrying the report.
   */
  async conclude(err: unknown, options: ConcludeOptions = {}): Promise<never> {
    const cancelled = this.recordStop(err);
    const ending = endingOf({
      ...this.stopFacts(cancelled),
      pivotPassed: this.state.pivotPassed,
      keepEffects: this.keepEffects,
    });
    if (ending === 'past-pivot') this.endWithoutUnwinding(cancelled, 'pivot');
    if (ending === 'failure-class') this.endWithoutUnwinding(cancelled, 'failure-class');
    return this.unwindAndEnd(cancelled, options);
  }

  /** Unwinds (continuing as new between waves when asked) and ends the process; a carried-over run resumes here. */
  async unwindAndEnd(cancelled: boolean, options: ConcludeOptions = {}): Promise<never> {
    if (endingOf({ ...this.stopFacts(cancelled), pivotPassed: false, keepEffects: false }) === 'nothing-started') {
      // Nothing started, so nothing to unwind: the process ends failed, every job not_run.
      this.finish('failed');
      throw this.failure();
    }
    while ((await this.unwind(options.shouldPause)) === 'paused') {
      if (!options.carry) break;
      await options.carry();
    }
    return this.endAfterUnwind(cancelled);
  }

  /** What decides how a stopped process ends, besides the pivot and its failure's class (see `endingOf`). */
  private stopFacts(cancelled: boolean) {
    return {
      beforeAnything: [NOT_STARTED_TYPE, TOKEN_WAIT_TYPE].includes(this.state.report.error?.type ?? ''),
      nothingStarted: this.state.report.jobs.every((j) => j.status === 'pending' || j.status === 'not_run'),
      stackEmpty: !this.state.units.length,
      cancelled,
    };
  }

  /** Ends a process that stops with its effects standing: past its pivot, or after a failure it does not unwind for. */
  private endWithoutUnwinding(cancelled: boolean, why: 'pivot' | 'failure-class'): never {
    if (why === 'pivot') this.state.report.stoppedPastPivot = true;
    else this.state.report.notUnwound = 'failure-class';
    this.finish(statusWithoutUnwinding(cancelled));
    throw cancelled ? this.cancelledFailure() : this.failure();
  }

  /** Ends a process that stopped past its pivot: nothing is unwound. */
  endPastPivot(cancelled: boolean): never {
    return this.endWithoutUnwinding(cancelled, 'pivot');
  }

  /**
   * The failure a cancelled process ends with. Temporal drops a cancelled workflow's details, so the final report is
   * also written to the memo (`report`), where clients and the Web UI find it.
   */
  private cancelledFailure(): CancelledFailure {
    upsertMemo({ report: this.state.report });
    return new CancelledFailure(this.failure().message, [this.state.report]);
  }

  /** Ends a process whose revert stack has been unwound: `revert_failed` if any revert needs a person. */
  endAfterUnwind(cancelled: boolean): never {
    const needsPerson = this.state.report.needsAttention.length > 0;
    this.finish(statusAfterUnwinding(cancelled, this.state.report.needsAttention.length));
    if (cancelled && !needsPerson) throw this.cancelledFailure();
    throw this.failure();
  }

  /** The failure a process that did not succeed ends with: a non-retryable ApplicationFailure carrying the report. */
  failure(): ApplicationFailure {
    const { report } = this.state;
    const reason = report.error ? `: ${report.error.message}` : '';
    const where = report.failedStep ? ` at step "${report.failedStep}"` : '';
    return ApplicationFailure.create({
      type: PROCESS_FAILED_TYPE,
      message: `process ${report.name} ${report.status}${where}${reason}`,
      nonRetryable: true,
      details: [report],
    });
  }
}
