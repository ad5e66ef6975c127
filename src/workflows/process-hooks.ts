/**
 * Outcome hooks (`on:` in a definition, and the worker's defaults): jobs run after the process's outcome — or, for
 * `parked`, as soon as a step parks — as activities of their own. A hook never reverts the process, is never reverted,
 * and never changes its outcome: its failure, after its retry policy, is recorded in the report's `hooks` (and so in
 * the Web UI's details), and the process ends as it would have without it. Hooks run in a non-cancellable scope, so a
 * cancelled process still tells.
 *
 * Old histories replay unchanged: hooks are behind the `jipper.hooks` patch.
 */
import type { ActivityFailure } from '@temporalio/workflow';
import {
  ApplicationFailure,
  CancellationScope,
  patched,
  scheduleActivity,
  scheduleLocalActivity,
  upsertMemo,
} from '@temporalio/workflow';
import type { HookOutcome, HookStep } from '../schema/definition';
import type { JobOutcome } from '../shared/calls';
import { DEADLINE_TYPE } from '../shared/errors';
import type { HookCall, HookSet } from '../shared/hooks';
import { HOOK_ACTIVITY, HOOK_DEFAULTS_ACTIVITY } from '../shared/hooks';
import { toActivityOptions } from '../shared/options';
import { resolveRefs } from '../shared/refs';
import type { HookRecord, ProcessReport } from '../shared/report';
import { isFinalStatus } from '../shared/report';
import { isRecord } from '../shared/text';
import { nowIso } from './clock';
import type { Engine } from './engine';
import type { ProcessContext } from './process-input';

/** The patch id hooks run behind: a history written before hooks existed replays without them. */
export const HOOKS_PATCH = 'jipper.hooks';

/** Jipper's defaults for a hook: one attempt takes at most 30s; 5 attempts, 1s doubling up to 30s. */
const HOOK_TIMEOUT = '30s';
const HOOK_RETRY = {
  maximumAttempts: 5,
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '30s',
} as const;

export class ProcessHooks {
  private ctx: ProcessContext | undefined;
  private engine: Engine | undefined;
  private defaults: HookSet | undefined;
  private readonly pending: Promise<void>[] = [];
  private readonly parkings = new Map<string, number>();

  /** Ties the hooks to the process once it is planned (a definition with problems runs none). */
  attach(ctx: ProcessContext, engine: Engine): void {
    this.ctx = ctx;
    this.engine = engine;
    engine.onPark = (stepId) => this.parked(stepId);
  }

  /** Runs the process, then the hooks of its outcome; returns or throws what the process did. */
  async around(run: () => Promise<ProcessReport>): Promise<ProcessReport> {
    let report: ProcessReport;
    try {
      report = await run();
    } catch (err) {
      await this.ended();
      throw err;
    }
    await this.ended();
    return report;
  }

  /** A step parked for a decision: its `parked` hooks start now, while the process waits. */
  private parked(stepId: string): void {
    const ctx = this.ctx;
    if (!ctx || !patched(HOOKS_PATCH)) return;
    const parking = (this.parkings.get(stepId) ?? 0) + 1;
    this.parkings.set(stepId, parking);
    const report = snapshotOf(ctx.state.report);
    this.pending.push(
      CancellationScope.nonCancellable(async () => {
        const hooks = await this.hooksFor('parked');
        await Promise.all(hooks.map((h) => this.run(h.step, 'parked', `${h.id}.${stepId}.${parking}`, report)));
      })
    );
  }

  /** After the outcome: waits for parked hooks still running, then runs the outcome's own. */
  private async ended(): Promise<void> {
    const ctx = this.ctx;
    if (!ctx || !isFinalStatus(ctx.state.report.status) || !patched(HOOKS_PATCH)) return;
    await CancellationScope.nonCancellable(async () => {
      await Promise.all(this.pending);
      const { report } = ctx.state;
      const outcomes: HookOutcome[] = [report.status as HookOutcome];
      if (report.error?.type === DEADLINE_TYPE) outcomes.push('deadline');
      const snapshot = snapshotOf(report);
      for (const outcome of outcomes) {
        const hooks = await this.hooksFor(outcome);
        await Promise.all(hooks.map((h) => this.run(h.step, outcome, h.id, snapshot)));
      }
      // A cancelled process's report travels in its memo (Temporal drops a cancelled workflow's details).
      if (report.status === 'cancelled' && report.hooks?.length) upsertMemo({ report });
    });
  }

  /**
   * Whether this run will ask the worker for its default hooks and does not know them yet: a run of local jobs, which
   * runs in the same worker, then brings them back with its results (no local activity of their own at the end).
   */
  wantsDefaults(): boolean {
    const raw: unknown = this.ctx?.definition.on;
    return this.defaults === undefined && !(isRecord(raw) && raw.defaults === false) && this.ctx?.child === undefined;
  }

  /** The worker's default hooks, as a run of local jobs brought them back. */
  learnDefaults(defaults: HookSet): void {
    this.defaults ??= defaults;
  }

  /** The outcome's hooks: the worker's defaults (unless the definition opts out), then the definition's own. */
  private async hooksFor(outcome: HookOutcome): Promise<{ step: HookStep; id: string }[]> {
    // Checked where the definition entered (client or plan activity); a raw start may still send anything here.
    const raw: unknown = this.ctx?.definition.on;
    const on = isRecord(raw) ? raw : {};
    // The worker's defaults tell about a tree once, at its top: a child process runs only its own `on:`.
    const withDefaults = on.defaults !== false && this.ctx?.child === undefined;
    if (withDefaults) this.defaults ??= await this.workerDefaults();
    const fromWorker = withDefaults ? hookSteps(this.defaults?.[outcome]) : [];
    return [
      ...fromWorker.map((step, i) => ({ step, id: `on.${outcome}.default.${i}` })),
      ...hookSteps(on[outcome]).map((step, i) => ({ step, id: `on.${outcome}.${i}` })),
    ];
  }

  private async workerDefaults(): Promise<HookSet> {
    try {
      return await scheduleLocalActivity<HookSet>(HOOK_DEFAULTS_ACTIVITY, [], {
        startToCloseTimeout: '10s',
        retry: { maximumAttempts: 3 },
      });
    } catch {
      // A worker without the activity (a project's own registry) has no defaults.
      return {};
    }
  }

  /** Runs one hook, recording it in the report; never throws. */
  private async run(step: HookStep, outcome: HookOutcome, hookId: string, report: ProcessReport): Promise<void> {
    const ctx = this.ctx as ProcessContext;
    const record: HookRecord = { hookId, outcome, job: step.job, status: 'running', startedAt: nowIso() };
    const live = ctx.state.report;
    live.hooks = [...(live.hooks ?? []), record];
    this.engine?.publish();
    try {
      const input = resolveRefs(step.args ?? {}, ctx.plan.params, {}, `on.${outcome}.args`);
      const call: HookCall = { processId: ctx.workflowId, outcome, hookId, job: step.job, input, report };
      const options = toActivityOptions({
        timeout: step.timeout ?? HOOK_TIMEOUT,
        retry: { ...HOOK_RETRY, ...step.retry },
      });
      const done = await scheduleActivity<JobOutcome>(HOOK_ACTIVITY, [call], {
        ...options,
        activityId: hookId,
        summary: `hook ${step.job} · on ${outcome}`,
      });
      Object.assign(record, {
        status: 'succeeded',
        attempts: done.attempt,
        ...(done.detail !== undefined ? { detail: done.detail } : {}),
      });
    } catch (err) {
      const attempts = attemptsOf(err, step.retry?.maximumAttempts ?? HOOK_RETRY.maximumAttempts);
      Object.assign(record, { status: 'failed', error: hookError(err), ...(attempts ? { attempts } : {}) });
    }
    record.endedAt = nowIso();
    this.engine?.publish();
  }
}

/** The hook steps of a list as sent (each with a job name); anything else is left out. */
function hookSteps(list: unknown): HookStep[] {
  if (!Array.isArray(list)) return [];
  return list.filter((step): step is HookStep => isRecord(step) && typeof step.job === 'string');
}

/** The report as it stands, without the hooks' own records (a hook reads the process's outcome, not other hooks'). */
function snapshotOf(report: ProcessReport): ProcessReport {
  const { hooks: _hooks, ...rest } = report;
  return JSON.parse(JSON.stringify(rest)) as ProcessReport;
}

/** How many attempts a failed hook made: from its last failure's details, or its retry policy when spent. */
function attemptsOf(err: unknown, maximumAttempts: number): number | undefined {
  const failure = err as ActivityFailure | undefined;
  const cause = failure?.cause;
  const first: unknown = cause instanceof ApplicationFailure ? cause.details?.[0] : undefined;
  if (typeof first === 'object' && first !== null && 'attempt' in first) return (first as { attempt: number }).attempt;
  return failure?.retryState === 'MAXIMUM_ATTEMPTS_REACHED' ? maximumAttempts : undefined;
}

function hookError(err: unknown): { type: string; message: string } {
  const cause = (err as ActivityFailure | undefined)?.cause ?? err;
  if (cause instanceof ApplicationFailure) return { type: cause.type ?? 'Error', message: cause.message };
  if (cause instanceof Error) return { type: cause.name, message: cause.message };
  return { type: 'Error', message: String(cause) };
}
