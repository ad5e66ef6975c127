/**
 * The generic process workflow: runs any process definition (data) on the saga engine.
 *
 * Before any job runs, the definition is planned: checked as a whole against a job registry (unknown jobs, args that
 * fail a job's schema, duplicate step ids, references to later steps...), with each job's effective options worked out.
 * A client that has the job libraries (the `jipper` command, `startProcess` with a `registry`) checks it before starting
 * and sends what its registry knows about each job (revert, default options, fingerprint); the workflow plans from
 * that, and the first step's activity checks the fingerprints against its own registry. Otherwise the worker plans,
 * in the `jipper.plan` local activity. A definition with problems ends the run `failed` with one error listing every
 * problem; no job starts.
 */
import {
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  scheduleLocalActivity,
  workflowInfo,
} from '@temporalio/workflow';
import type { JobFacts, Plan } from '../shared/plan';
import { formatProblems, planFromFacts } from '../shared/plan';
import type { ProcessDefinition, Step } from '../schema/definition';
import type { JobOutcome } from '../shared/calls';
import { PLAN_ACTIVITY } from '../shared/calls';
import { resolveRefs } from '../shared/refs';
import type { ProcessReport } from '../shared/report';

import { isGroupStep, reportRows } from '../shared/steps';
import type { EngineState } from './engine';
import { Engine, JobFailedError, initialReport, initialState, rejectWith, throwIfCancelled } from './engine';
import { INVALID_DEFINITION_TYPE, UNRESOLVED_REFERENCE_TYPE } from '../shared/errors';
import { DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS, MAX_CARRIED_CHARS } from '../shared/limits';

export interface ProcessInput {
  definition: ProcessDefinition;
  /** Parameter values for this run; they override the definition's `params` defaults. */
  params?: Record<string, unknown>;
  /**
   * What the starting client's job registry knows about each job the definition uses (see `planFromFacts`). With it
   * the workflow plans the definition itself; without it the worker plans it (a local activity).
   */
  jobs?: Record<string, JobFacts>;
  /** Set by continue-as-new only: where the previous run stopped. */
  carried?: CarriedState;
}

export interface CarriedState {
  plan: Plan;
  state: EngineState;
  /** Index of the next step to run (forward phase). */
  cursor: number;
  phase: 'forward' | 'unwinding';
  cancelled: boolean;
}

export async function jipperProcess(input: ProcessInput): Promise<ProcessReport> {
  const { definition } = input;
  const info = workflowInfo();
  const carried = input.carried;
  const state = carried?.state ?? initialState(initialReport(info.workflowId, definition.name, reportRows(definition)));
  state.report.runId = info.runId;
  const engine: Engine = new Engine(state, {
    revertMode: definition.options?.revertMode ?? 'sequential',
    onRevertFailure: definition.options?.onRevertFailure ?? 'continue',
  });

  // Planning is not cancellable: a process cancelled before its first job still gets its report (every job not_run).
  // Planning from the client's facts costs nothing here (no activity, no scope).
  const plan =
    carried?.plan ??
    (input.jobs ? planFromFacts(definition, input.params ?? {}, input.jobs) : undefined) ??
    (await CancellationScope.nonCancellable(() =>
      scheduleLocalActivity<Plan>(PLAN_ACTIVITY, [definition, input.params ?? {}], {
        startToCloseTimeout: '30s',
        retry: { maximumAttempts: 3 },
      })
    ));
  if (plan.problems.length) {
    state.report.error = { type: INVALID_DEFINITION_TYPE, message: formatProblems(plan.problems) };
    engine.finish('failed');
    throw ApplicationFailure.create({
      type: INVALID_DEFINITION_TYPE,
      message: `process ${definition.name} rejected before any job ran: ${state.report.error.message}`,
      nonRetryable: true,
      details: [state.report, plan.problems],
    });
  }
  engine.register(plan.jobs);

  const limit = definition.options?.continueAsNewAfterEvents ?? DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS;
  let carryTooLarge = false;
  const shouldContinueAsNew = () =>
    !carryTooLarge && (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= limit);
  /**
   * Continues as new, carrying the state. Not cancellable: a cancelled process that continues as new while unwinding
   * must still carry its revert stack. When the state is too large for one payload, Temporal would refuse the
   * continue-as-new, and keep refusing: the run goes on in this history instead (and says so in its log).
   */
  const carryOn = async (next: Omit<CarriedState, 'plan' | 'state'>): Promise<void> => {
    await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
    const carried: CarriedState = {
      plan,
      state: { ...state, report: { ...state.report, continuedAsNew: (state.report.continuedAsNew ?? 0) + 1 } },
      ...next,
    };
    const chars = JSON.stringify({ definition, carried }).length;
    if (chars > MAX_CARRIED_CHARS) {
      carryTooLarge = true;
      log.warn('the process state is too large to continue as new; going on in this run', {
        chars,
        limit: MAX_CARRIED_CHARS,
      });
      return;
    }
    await continueAsNew<typeof jipperProcess>({ definition, carried });
  };

  /** A job's args with references resolved; a reference that cannot be resolved fails the job (throws). */
  const resolveArgs = (stepId: string, args: Record<string, unknown> | undefined): unknown => {
    try {
      return resolveRefs(args ?? {}, plan.params, state.results, `steps.${stepId}.args`);
    } catch (err) {
      const error = { type: UNRESOLVED_REFERENCE_TYPE, message: (err as Error).message };
      Object.assign(engine.jobReport(stepId), { status: 'failed', error });
      throw new JobFailedError(stepId, error);
    }
  };

  /** Runs a job with its references resolved. */
  const startJob = (stepId: string, args: Record<string, unknown> | undefined, unit?: string[]): Promise<unknown> => {
    let resolved: unknown;
    try {
      resolved = resolveArgs(stepId, args);
    } catch (err) {
      return rejectWith(err);
    }
    return engine.runJob(stepId, resolved, unit);
  };

  /**
   * Runs a job; past the pivot in park mode, a failure waits for an operator to retry or skip it. Outside park mode
   * this adds no promise of its own to the job's (the SDK records a stack trace for each one a workflow creates).
   */
  const runJob = (stepId: string, args: Record<string, unknown> | undefined, unit?: string[]): Promise<unknown> => {
    if (engine.settings.onRevertFailure !== 'park') return startJob(stepId, args, unit);
    const attempt = async (): Promise<unknown> => {
      for (;;) {
        try {
          return await startJob(stepId, args, unit);
        } catch (err) {
          if (!(err instanceof JobFailedError && state.pivotPassed)) throw err;
          if (!(await engine.awaitForwardDecision(stepId))) return undefined;
        }
      }
    };
    return attempt();
  };

  const runStep = (step: Step): Promise<unknown> => {
    if (!isGroupStep(step)) return runJob(step.id, step.args);
    return engine.runGroup(
      step.parallel.map((job) => (unit: string[]) => runJob(job.id, job.args, unit)),
      step.pivot
    );
  };

  let cancelled = carried?.cancelled ?? false;
  if ((carried?.phase ?? 'forward') === 'forward') {
    try {
      for (let cursor = carried?.cursor ?? 0; cursor < definition.steps.length; cursor++) {
        // A cancellation is not carried over by continue-as-new: act on it first.
        throwIfCancelled();
        if (shouldContinueAsNew()) await carryOn({ cursor, phase: 'forward', cancelled });
        const step = definition.steps[cursor] as Step;
        if (isGroupStep(step) || engine.settings.onRevertFailure === 'park') {
          await runStep(step);
          continue;
        }
        // The common case, one job outside park mode, awaits its activity directly: one promise fewer per step than
        // runStep (the SDK records a stack trace for every promise a workflow creates).
        const run = engine.startRun(step.id, resolveArgs(step.id, step.args));
        let outcome: JobOutcome;
        try {
          outcome = await run.activity;
        } catch (err) {
          engine.runFailed(run, err);
        }
        // Not published here: what comes next in this activation (the next job's start, finishing, or unwinding)
        // publishes, and each publish renders the whole report for the Web UI.
        engine.settleRun(run, outcome, false);
      }
      return engine.finish('succeeded');
    } catch (err) {
      cancelled = engine.recordStop(err);
    }
    if (state.pivotPassed) engine.endPastPivot(cancelled);
  }
  while ((await engine.unwind(shouldContinueAsNew)) === 'paused') {
    await carryOn({ cursor: definition.steps.length, phase: 'unwinding', cancelled });
  }
  return engine.endAfterUnwind(cancelled);
}
