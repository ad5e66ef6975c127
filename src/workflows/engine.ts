/**
 * The saga engine: runs jobs forward, keeps the revert stack, and unwinds it newest-first when a job fails or the
 * process is cancelled. Both the generic process workflow and code-first workflows drive it, so they share the
 * semantics and the report.
 *
 * Deterministic: it only schedules activities, waits on conditions and reads the workflow clock. Its whole state is
 * plain JSON ({@link EngineState}) so a long process can continue as new and carry its revert stack.
 */
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  TimeoutFailure,
  isCancellation,
  scheduleActivity,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
  condition,
} from '@temporalio/workflow';
import type { JobCall, JobFailureDetails, JobOutcome, RevertCall } from '../shared/calls';
import { revertActivityName, runActivityName } from '../shared/calls';
import type { PlannedJob } from '../shared/plan';
import { toActivityOptions } from '../shared/options';
import { reportToMarkdown } from '../shared/render';
import type { Decision, ErrorInfo, JobReport, ProcessReport, ProcessStatus, RevertReport } from '../shared/report';
import { OUTCOME_UNKNOWN_REASON, PROCESS_FAILED_TYPE } from '../shared/report';
import { PROCESS_NAME_KEY, PROCESS_STATUS_KEY } from '../shared/search-attributes';
import { nowIso } from './clock';
import type { DecideRequest } from './messages';
import { decideUpdate, reportQuery } from './messages';

export type { PlannedJob };

export type RevertMode = 'sequential' | 'parallel';
export type OnRevertFailure = 'continue' | 'park';

export interface EngineSettings {
  revertMode: RevertMode;
  onRevertFailure: OnRevertFailure;
}

/** Everything the engine knows; plain JSON, carried across continue-as-new. */
export interface EngineState {
  report: ProcessReport;
  /** Results of completed steps, by step id (the context later jobs see). */
  results: Record<string, unknown>;
  /** Resolved inputs, by step id (a revert gets the job's input). */
  inputs: Record<string, unknown>;
  /** The revert stack: one unit per completed step (a parallel group's completed members form one unit). */
  units: string[][];
  pivotPassed: boolean;
  completedCount: number;
}

/** A job failed (its retries are exhausted, it threw a non-retryable error, or it timed out). */
export class JobFailedError extends Error {
  override readonly name = 'JobFailedError';
  constructor(
    readonly stepId: string,
    readonly error: ErrorInfo
  ) {
    super(`job at step "${stepId}" failed: ${error.type}: ${error.message}`);
  }
}

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

/** Throws a CancelledFailure when the process has been cancelled (forward progress must stop). */
export function throwIfCancelled(): void {
  if (CancellationScope.current().consideredCancelled) throw new CancelledFailure('the process was cancelled');
}

/** A job whose run activity is scheduled: see {@link Engine.startRun}. */
export interface StartedRun {
  job: PlannedJob;
  row: JobReport;
  unit: string[] | undefined;
  activity: Promise<JobOutcome>;
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
    jobs: jobs.map((j) => ({
      stepId: j.stepId,
      job: j.job,
      ...(j.group ? { group: j.group } : {}),
      ...(j.pivot ? { pivot: true } : {}),
      status: 'pending',
    })),
  };
}

export function initialState(report: ProcessReport): EngineState {
  return { report, results: {}, inputs: {}, units: [], pivotPassed: false, completedCount: 0 };
}

export class Engine {
  private readonly planned = new Map<string, PlannedJob>();
  /** Fingerprints of the planned jobs, by job name, when the plan came with them (see {@link JobCall.fingerprints}). */
  private fingerprints: Record<string, string> | undefined;
  private readonly parked = new Map<string, 'revert' | 'forward'>();
  private readonly decisions = new Map<string, Decision>();
  private lastStatus: ProcessStatus | undefined;

  constructor(
    readonly state: EngineState,
    readonly settings: EngineSettings
  ) {
    setHandler(reportQuery, () => this.state.report);
    setHandler(
      decideUpdate,
      (request) => {
        this.decisions.set(request.stepId, request.decision);
        return { stepId: request.stepId, decision: request.decision, accepted: true };
      },
      {
        validator: (request: DecideRequest) => {
          const kind = this.parked.get(request.stepId);
          if (!kind) {
            const parkedNow = [...this.parked.keys()];
            throw new Error(
              `step "${request.stepId}" is not waiting for a decision` +
                (parkedNow.length ? ` (parked: ${parkedNow.join(', ')})` : ' (nothing is parked)')
            );
          }
          if (kind === 'forward' && request.decision === 'mark-reverted') {
            throw new Error(`step "${request.stepId}" failed past the pivot: decide retry or skip`);
          }
        },
      }
    );
    this.publish();
  }

  get report(): ProcessReport {
    return this.state.report;
  }

  /** Tells the engine how to run the jobs of a planned definition (their report rows already exist). */
  register(jobs: PlannedJob[]): void {
    const fingerprints: Record<string, string> = {};
    for (const job of jobs) {
      this.planned.set(job.stepId, job);
      if (job.fingerprint !== undefined) fingerprints[job.job] = job.fingerprint;
    }
    if (Object.keys(fingerprints).length) this.fingerprints = fingerprints;
  }

  /** Adds a job the engine did not know up front (code-first workflows), with its report row. */
  plan(job: PlannedJob): void {
    if (this.planned.has(job.stepId) && this.jobReport(job.stepId).status !== 'pending') {
      throw ApplicationFailure.nonRetryable(
        `step id "${job.stepId}" is used twice in this process`,
        'JipperDuplicateStep'
      );
    }
    this.planned.set(job.stepId, job);
    if (!this.state.report.jobs.some((j) => j.stepId === job.stepId)) {
      this.state.report.jobs.push({
        stepId: job.stepId,
        job: job.job,
        ...(job.group ? { group: job.group } : {}),
        ...(job.pivot ? { pivot: true } : {}),
        status: 'pending',
      });
    }
  }

  jobReport(stepId: string): JobReport {
    const report = this.state.report.jobs.find((j) => j.stepId === stepId);
    if (!report) throw new Error(`no report row for step "${stepId}"`);
    return report;
  }

  private plannedJob(stepId: string): PlannedJob {
    const job = this.planned.get(stepId);
    if (!job) throw new Error(`step "${stepId}" is not planned`);
    return job;
  }

  /** Refreshes the Web UI's view of the run: current details always, the status search attribute when it changed. */
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
    setCurrentDetails(reportToMarkdown(report));
  }

  setStatus(status: ProcessStatus): void {
    this.state.report.status = status;
    this.publish();
  }

  private call(job: PlannedJob, input: unknown): JobCall {
    return {
      processId: workflowInfo().workflowId,
      stepId: job.stepId,
      job: job.job,
      input,
      results: this.state.results,
    };
  }

  /** A run's call: with the plan's fingerprints while no job has completed (see {@link JobCall.fingerprints}). */
  private runCall(job: PlannedJob, input: unknown): JobCall {
    const call = this.call(job, input);
    return this.fingerprints && this.state.completedCount === 0 ? { ...call, fingerprints: this.fingerprints } : call;
  }

  /**
   * Runs one job forward. On success records its result and pushes it on the revert stack (unless `unit` collects
   * a parallel group). On failure records it and rejects with {@link JobFailedError}; a cancellation is passed on as is.
   *
   * Written with `then` rather than `async`/`await` on purpose: the SDK records a stack trace for every promise a
   * workflow creates, and an async function with an `await` creates two where `then` creates one. A caller that can
   * await the activity itself uses {@link startRun} and {@link settleRun} instead, one promise fewer still.
   */
  runJob(stepId: string, input: unknown, unit?: string[]): Promise<unknown> {
    let run: StartedRun;
    try {
      run = this.startRun(stepId, input, unit);
    } catch (err) {
      return rejectWith(err);
    }
    return run.activity.then(
      (outcome) => this.settleRun(run, outcome),
      (err: unknown) => this.runFailed(run, err)
    );
  }

  /**
   * Starts one job forward: records it as running and schedules its run activity, whose promise the caller awaits and
   * then passes to {@link settleRun} (or its failure to {@link runFailed}). Throws what {@link runJob} would reject
   * with when the job cannot start (a cancellation that came first, a failure to schedule).
   */
  startRun(stepId: string, input: unknown, unit?: string[]): StartedRun {
    const job = this.plannedJob(stepId);
    const row = this.jobReport(stepId);
    // A job the cancellation reached before it started stays pending (reported `not_run`), not `failed`.
    throwIfCancelled();
    this.state.inputs[stepId] = input;
    Object.assign(row, { status: 'running', startedAt: nowIso() });
    delete row.endedAt;
    delete row.error;
    this.publish();
    try {
      const activity = scheduleActivity<JobOutcome>(runActivityName(job.job), [this.runCall(job, input)], {
        ...toActivityOptions(job.options.run),
        activityId: `${stepId}.run`,
        summary: `run ${job.job} · step ${stepId}`,
        cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
      });
      return { job, row, unit, activity };
    } catch (err) {
      return this.jobFailed(job, row, err, unit);
    }
  }

  /**
   * Records a started job's success; returns its result. With `publish: false` the Web UI's view is not refreshed: for a
   * caller whose next step, in the same activation, refreshes it anyway (starting the next job, finishing, unwinding).
   */
  settleRun(run: StartedRun, outcome: JobOutcome, publish = true): unknown {
    return this.jobSucceeded(run.job, run.row, outcome, run.unit, publish);
  }

  /** Records a started job's failure and throws {@link JobFailedError} (a cancellation is rethrown as is). */
  runFailed(run: StartedRun, err: unknown): never {
    return this.jobFailed(run.job, run.row, err, run.unit);
  }

  private jobSucceeded(
    job: PlannedJob,
    row: JobReport,
    outcome: JobOutcome,
    unit: string[] | undefined,
    publish = true
  ): unknown {
    const { stepId } = job;
    this.state.completedCount += 1;
    Object.assign(row, {
      status: 'succeeded',
      endedAt: nowIso(),
      attempts: outcome.attempt,
      result: outcome.result,
      completedOrder: this.state.completedCount,
      ...(outcome.detail !== undefined ? { detail: outcome.detail } : {}),
    });
    this.state.results[stepId] = outcome.result;
    if (unit) unit.push(stepId);
    else this.state.units.push([stepId]);
    if (job.pivot && !unit) this.state.pivotPassed = true;
    if (publish) this.publish();
    return outcome.result;
  }

  private jobFailed(job: PlannedJob, row: JobReport, err: unknown, unit: string[] | undefined): never {
    const { stepId } = job;
    const error = describeFailure(err);
    const attempts = attemptsOf(err, job.options.run.retry.maximumAttempts);
    const detail = failureDetails(err).detail;
    Object.assign(row, {
      status: 'failed',
      endedAt: nowIso(),
      error,
      ...(attempts !== undefined ? { attempts } : {}),
      ...(detail !== undefined ? { detail } : {}),
    });
    // A failed job is reverted only when its step says so (its failure may have left partial effects).
    if (job.options.revertOnFailure) {
      if (unit) unit.push(stepId);
      else this.state.units.push([stepId]);
    } else if (error.type === 'timeout') {
      // Temporal gave up on the job without knowing how far it got: its effect may stand, and nothing reverts it.
      row.revert = { status: 'skipped', reason: OUTCOME_UNKNOWN_REASON };
    }
    this.publish();
    if (isCancellation(err)) throw err;
    throw new JobFailedError(stepId, error);
  }

  /**
   * Runs jobs side by side: each member gets the group's revert unit to record itself in when it completes. Every
   * member is allowed to settle; completed members form one unit of the revert stack. Throws the first failure (a
   * cancellation wins, so the run ends cancelled). A pivot group is passed once all its members succeeded.
   */
  async runGroup(members: ((unit: string[]) => Promise<unknown>)[], pivot = false): Promise<unknown[]> {
    const unit: string[] = [];
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

  /**
   * Past the pivot in park mode: waits for an operator decision on a failed job. Returns true to retry it, false to
   * skip it (the job is recorded as skipped and the process moves on).
   */
  async awaitForwardDecision(stepId: string): Promise<boolean> {
    const decision = await this.awaitDecision(stepId, 'forward');
    const row = this.jobReport(stepId);
    row.revert = undefined;
    if (decision === 'retry') return true;
    row.status = 'skipped';
    row.detail = [row.detail, `skipped by operator after failing past the pivot`].filter(Boolean).join(' · ');
    this.publish();
    return false;
  }

  private async awaitDecision(stepId: string, kind: 'revert' | 'forward'): Promise<Decision> {
    this.parked.set(stepId, kind);
    if (!this.state.report.needsAttention.includes(stepId)) this.state.report.needsAttention.push(stepId);
    const previous = this.state.report.status;
    this.setStatus('parked');
    await condition(() => this.decisions.has(stepId));
    const decision = this.decisions.get(stepId) as Decision;
    this.decisions.delete(stepId);
    this.parked.delete(stepId);
    this.state.report.needsAttention = this.state.report.needsAttention.filter((s) => s !== stepId);
    const row = this.jobReport(stepId);
    if (kind === 'revert') {
      row.revert = row.revert ?? { status: 'parked' };
      row.revert.decisions = [...(row.revert.decisions ?? []), { decision, at: nowIso() }];
    }
    this.setStatus(this.parked.size ? 'parked' : previous === 'parked' ? 'unwinding' : previous);
    return decision;
  }

  /**
   * Unwinds the revert stack, newest unit first (or everything at once in `parallel` mode). Runs in a
   * non-cancellable scope: cancelling the process must not stop its reverts. `shouldPause` lets the caller continue
   * as new between units.
   */
  async unwind(shouldPause: () => boolean = () => false): Promise<'done' | 'paused'> {
    return CancellationScope.nonCancellable(async () => {
      if (this.state.report.status !== 'unwinding') this.setStatus('unwinding');
      if (this.settings.revertMode === 'parallel') {
        const all = this.state.units.flat().reverse();
        this.state.units = [];
        await Promise.all(all.map((stepId) => this.revertJob(stepId)));
        return 'done';
      }
      while (this.state.units.length) {
        if (shouldPause()) return 'paused';
        const unit = this.state.units[this.state.units.length - 1] as string[];
        await Promise.all([...unit].reverse().map((stepId) => this.revertJob(stepId)));
        this.state.units.pop();
      }
      return 'done';
    });
  }

  private async revertJob(stepId: string): Promise<void> {
    const job = this.plannedJob(stepId);
    const row = this.jobReport(stepId);
    const afterFailure = row.status === 'failed';
    if (!job.hasRevert) {
      if (!afterFailure) row.status = 'skipped';
      row.revert = { status: 'skipped', reason: 'the job has no revert' };
      this.publish();
      return;
    }
    this.state.report.revertOrder.push(stepId);
    for (;;) {
      const revert: RevertReport = { ...row.revert, status: 'running', startedAt: nowIso() };
      delete revert.endedAt;
      delete revert.error;
      row.revert = revert;
      if (!afterFailure) row.status = 'reverting';
      this.publish();
      const call: RevertCall = {
        ...this.call(job, this.state.inputs[stepId]),
        ...(stepId in this.state.results ? { result: this.state.results[stepId] } : {}),
        afterFailure,
      };
      try {
        const outcome = await scheduleActivity<JobOutcome>(revertActivityName(job.job), [call], {
          ...toActivityOptions(job.options.revert),
          activityId: `${stepId}.revert.${(revert.decisions?.length ?? 0) + 1}`,
          summary: `revert ${job.job} · step ${stepId}`,
        });
        Object.assign(revert, {
          status: 'reverted',
          endedAt: nowIso(),
          attempts: outcome.attempt,
          ...(outcome.detail !== undefined ? { detail: outcome.detail } : {}),
        });
        if (!afterFailure) row.status = 'reverted';
        this.publish();
        return;
      } catch (err) {
        const attempts = attemptsOf(err, job.options.revert.retry.maximumAttempts);
        const detail = failureDetails(err).detail;
        Object.assign(revert, {
          status: 'revert_failed',
          endedAt: nowIso(),
          error: describeFailure(err),
          ...(attempts !== undefined ? { attempts } : {}),
          ...(detail !== undefined ? { detail } : {}),
        });
        if (!afterFailure) row.status = 'revert_failed';
        if (this.settings.onRevertFailure === 'continue') {
          if (!this.state.report.needsAttention.includes(stepId)) this.state.report.needsAttention.push(stepId);
          this.publish();
          return;
        }
        revert.status = 'parked';
        const decision = await this.awaitDecision(stepId, 'revert');
        if (decision === 'retry') continue;
        if (decision === 'mark-reverted') {
          Object.assign(revert, { status: 'reverted', reason: 'marked reverted by an operator' });
          if (!afterFailure) row.status = 'reverted';
        } else {
          Object.assign(revert, { status: 'skipped', reason: 'skipped by an operator' });
          if (!afterFailure) row.status = 'skipped';
        }
        this.publish();
        return;
      }
    }
  }

  /** Marks every job that never started as `not_run`. */
  markNotRun(): void {
    for (const row of this.state.report.jobs) if (row.status === 'pending') row.status = 'not_run';
  }

  /** Sets the final status and end time, publishes it, and returns the report. */
  finish(status: ProcessStatus): ProcessReport {
    this.markNotRun();
    this.state.report.endedAt = nowIso();
    this.setStatus(status);
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
      return false;
    }
    if (err instanceof ApplicationFailure) {
      report.error = describeFailure(err);
      return false;
    }
    throw err;
  }

  /** Ends a process that stopped past its pivot: nothing is unwound. */
  endPastPivot(cancelled: boolean): never {
    this.state.report.stoppedPastPivot = true;
    this.finish(cancelled ? 'cancelled' : 'failed');
    throw cancelled ? this.cancelledFailure() : this.failure();
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
    this.finish(needsPerson ? 'revert_failed' : cancelled ? 'cancelled' : 'reverted');
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
