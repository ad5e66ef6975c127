/**
 * What a definition implies when something goes wrong: for a failure or a cancel at a step, or a revert that fails,
 * which jobs run, which are reverted and in what order, and how the process ends. Pure: it reads the definition's
 * structure (steps, parallel groups, the pivot) and what the planning registry knows of each job (a revert,
 * `revertOnFailure`), and the process options (`revertMode`, `onRevertFailure`).
 *
 * The failure matrix computes every case's expectation with {@link predictOutcome}, through the small
 * {@link OutcomePredictor} interface — step ids and a scenario in, the expected revert order and final report out — so
 * it can be pointed at the engine's own preview of a revert plan (`src/shared/revert-plan.ts`, when it lands) without
 * changing the matrix.
 */
import type { JobRegistry } from '../activities/registry';
import type { ProcessDefinition } from '../schema/definition';
import type { FinalProcessStatus, JobStatus, ProcessReport, RevertReport } from '../shared/report';
import { isGroupStep, stepJobs } from '../shared/steps';
import { INJECTED_FAULT_TYPE } from './instrument';

/** One job of a definition, as the outcome depends on it. */
export interface ModelJob {
  stepId: string;
  job: string;
  hasRevert: boolean;
  revertOnFailure: boolean;
}

/** One step: a job, or a parallel group of jobs. */
export interface ModelStep {
  /** The group's id, when it is a group with one. */
  id?: string;
  parallel: boolean;
  /** The step is the pivot (for a group: the whole group). */
  pivot: boolean;
  jobs: ModelJob[];
}

/** A definition reduced to what decides its unwinding. */
export interface ProcessModel {
  name: string;
  steps: ModelStep[];
  revertMode: 'sequential' | 'parallel';
  onRevertFailure: 'continue' | 'park';
}

/** What goes wrong in a case. */
export type Scenario =
  /** The run of `stepId` fails (non-retryably). */
  | { kind: 'fail'; stepId: string }
  /** The process is cancelled while `stepId` runs (its group's other members have settled). */
  | { kind: 'cancel'; stepId: string }
  /** The run of `trigger` fails, and while unwinding the revert of `stepId` fails. */
  | { kind: 'revert-fail'; stepId: string; trigger: string };

/** What the report of a case must say. */
export interface ExpectedOutcome {
  status: FinalProcessStatus;
  /** The step whose failure stopped the process (none for a cancel). */
  failedStep?: string;
  stoppedPastPivot: boolean;
  /**
   * The steps whose reverts run, in order; the steps of one inner list run together (a parallel group's completed
   * members) and may appear in any order among themselves.
   */
  revertOrder: string[][];
  /** Steps left needing a person (a revert that failed and stays failed). */
  needsAttention: string[];
  /** Every job's final status, and how its revert ended when it has one in the report. */
  jobs: Record<string, { status: JobStatus; revert?: RevertReport['status']; errorType?: string }>;
  /**
   * Park mode: the step where the process parks for an operator; the case then lifts the fault and decides `retry`,
   * as an operator would after fixing the cause, and the expectation is for after that.
   */
  parkedAt?: string;
}

/** Step ids in, the expected outcome out: see the module comment. */
export type OutcomePredictor = (model: ProcessModel, scenario: Scenario) => ExpectedOutcome;

/** The model of a definition, with each job's revert and `revertOnFailure` from the registry that plans it. */
export function processModel(
  definition: ProcessDefinition,
  registry: JobRegistry,
  params: Record<string, unknown> = {}
): ProcessModel {
  const validation = registry.validate(definition, params);
  if (validation.problems.length || !validation.definition) {
    const lines = validation.problems.map((p) => `${p.path || '(definition)'}: ${p.message}`);
    throw new Error(`the definition cannot be planned: ${lines.join('; ')}`);
  }
  const planned = new Map(validation.jobs.map((job) => [job.stepId, job]));
  const checked = validation.definition;
  return {
    name: checked.name,
    revertMode: checked.options?.revertMode ?? 'sequential',
    onRevertFailure: checked.options?.onRevertFailure ?? 'continue',
    steps: checked.steps.map((step) => ({
      ...(isGroupStep(step) && step.id !== undefined ? { id: step.id } : {}),
      parallel: isGroupStep(step),
      pivot: Boolean(step.pivot),
      jobs: stepJobs(step).map((jobStep) => {
        const job = planned.get(jobStep.id);
        return {
          stepId: jobStep.id,
          job: jobStep.job,
          hasRevert: job?.hasRevert ?? false,
          revertOnFailure: Boolean(job?.options.revertOnFailure),
        };
      }),
    })),
  };
}

function stepIndexOf(model: ProcessModel, stepId: string): number {
  const index = model.steps.findIndex((step) => step.jobs.some((job) => job.stepId === stepId));
  if (index < 0) throw new Error(`no step "${stepId}" in process ${model.name}`);
  return index;
}

/** Jipper's engine as it unwinds a list of steps and parallel groups (see docs/design.md, "Unwinding"). */
export const predictOutcome: OutcomePredictor = (model, scenario) => {
  const failing = scenario.kind === 'revert-fail' ? scenario.trigger : scenario.stepId;
  const at = stepIndexOf(model, failing);
  const jobs: ExpectedOutcome['jobs'] = {};
  const units: ModelJob[][] = [];
  let pivotPassed = false;
  model.steps.forEach((step, index) => {
    if (index < at) {
      for (const job of step.jobs) jobs[job.stepId] = { status: 'succeeded' };
      units.push([...step.jobs]);
      if (step.pivot) pivotPassed = true;
    } else if (index === at) {
      const unit: ModelJob[] = [];
      for (const job of step.jobs) {
        if (job.stepId === failing) {
          const errorType = scenario.kind === 'cancel' ? 'cancelled' : INJECTED_FAULT_TYPE;
          jobs[job.stepId] = { status: 'failed', errorType };
          if (job.revertOnFailure) unit.push(job);
        } else {
          jobs[job.stepId] = { status: 'succeeded' };
          unit.push(job);
        }
      }
      if (unit.length) units.push(unit);
    } else {
      for (const job of step.jobs) jobs[job.stepId] = { status: 'not_run' };
    }
  });

  if (pivotPassed) {
    if (scenario.kind === 'fail' && model.onRevertFailure === 'park') {
      // Parked past the pivot; the case lifts the fault and retries, and the process goes on to the end.
      for (const step of model.steps) for (const job of step.jobs) jobs[job.stepId] = { status: 'succeeded' };
      return {
        status: 'succeeded',
        stoppedPastPivot: false,
        revertOrder: [],
        needsAttention: [],
        jobs,
        parkedAt: failing,
      };
    }
    return {
      status: scenario.kind === 'cancel' ? 'cancelled' : 'failed',
      ...(scenario.kind === 'cancel' ? {} : { failedStep: failing }),
      stoppedPastPivot: true,
      revertOrder: [],
      needsAttention: [],
      jobs,
    };
  }

  const revertOrder: string[][] = [];
  const needsAttention: string[] = [];
  let parkedAt: string | undefined;
  for (const unit of [...units].reverse()) {
    const reverted: string[] = [];
    for (const job of unit) {
      const row = jobs[job.stepId] as ExpectedOutcome['jobs'][string];
      const afterFailure = row.status === 'failed';
      if (!job.hasRevert) {
        if (!afterFailure) row.status = 'skipped';
        row.revert = 'skipped';
        continue;
      }
      reverted.push(job.stepId);
      const fails = scenario.kind === 'revert-fail' && scenario.stepId === job.stepId;
      if (fails && model.onRevertFailure === 'park') parkedAt = job.stepId;
      if (fails && model.onRevertFailure === 'continue') {
        row.revert = 'revert_failed';
        if (!afterFailure) row.status = 'revert_failed';
        needsAttention.push(job.stepId);
      } else {
        row.revert = 'reverted';
        if (!afterFailure) row.status = 'reverted';
      }
    }
    if (reverted.length) revertOrder.push(reverted);
  }
  const status: FinalProcessStatus = needsAttention.length
    ? 'revert_failed'
    : scenario.kind === 'cancel'
      ? 'cancelled'
      : 'reverted';
  return {
    status,
    ...(scenario.kind === 'cancel' ? {} : { failedStep: failing }),
    stoppedPastPivot: false,
    revertOrder,
    needsAttention,
    jobs,
    ...(parkedAt !== undefined ? { parkedAt } : {}),
  };
};

/**
 * The run failure that makes the revert of `job` run (for a revert-failure case): the latest job whose failure still
 * unwinds it — a later step before the pivot is passed, a member of its own group, or itself with `revertOnFailure`.
 */
export function revertTrigger(model: ProcessModel, stepId: string): string | undefined {
  const at = stepIndexOf(model, stepId);
  const self = model.steps[at]?.jobs.find((job) => job.stepId === stepId);
  if (!self?.hasRevert) return undefined;
  let trigger: string | undefined;
  let pivotPassed = model.steps.slice(0, at).some((step) => step.pivot);
  if (pivotPassed) return undefined;
  for (let index = at; index < model.steps.length && !pivotPassed; index++) {
    const step = model.steps[index] as ModelStep;
    for (const job of step.jobs) {
      if (index > at || job.stepId !== stepId || job.revertOnFailure) trigger = job.stepId;
    }
    // A failure at the pivot step itself still unwinds; past it nothing does.
    if (step.pivot) pivotPassed = true;
  }
  return trigger;
}

/** Checks a report against an expectation; every difference is a line of the returned list (empty: it matches). */
export function outcomeDifferences(report: ProcessReport, expected: ExpectedOutcome): string[] {
  const problems: string[] = [];
  const same = (what: string, actual: unknown, wanted: unknown) => {
    if (JSON.stringify(actual) !== JSON.stringify(wanted)) {
      problems.push(`${what}: expected ${JSON.stringify(wanted)}, got ${JSON.stringify(actual)}`);
    }
  };
  same('status', report.status, expected.status);
  same('failedStep', report.failedStep, expected.failedStep);
  same('stoppedPastPivot', Boolean(report.stoppedPastPivot), expected.stoppedPastPivot);
  same('needsAttention', [...report.needsAttention].sort(), [...expected.needsAttention].sort());
  // The revert order, compared unit by unit: members of one unit in any order.
  const actualOrder = [...report.revertOrder];
  const units = expected.revertOrder.map((unit) => {
    const taken = actualOrder.splice(0, unit.length);
    return { unit, taken };
  });
  const orderMatches =
    actualOrder.length === 0 &&
    units.every(({ unit, taken }) => taken.length === unit.length && unit.every((id) => taken.includes(id)));
  if (!orderMatches) {
    const wanted = expected.revertOrder.map((unit) => (unit.length > 1 ? `{${unit.join(', ')}}` : unit[0])).join(' → ');
    problems.push(`revertOrder: expected ${wanted || '(none)'}, got ${report.revertOrder.join(' → ') || '(none)'}`);
  }
  for (const [stepId, job] of Object.entries(expected.jobs)) {
    const row = report.jobs.find((r) => r.stepId === stepId);
    if (!row) {
      problems.push(`job ${stepId}: missing from the report`);
      continue;
    }
    same(`job ${stepId} status`, row.status, job.status);
    if (job.revert !== undefined) same(`job ${stepId} revert`, row.revert?.status, job.revert);
    if (job.errorType !== undefined) same(`job ${stepId} error type`, row.error?.type, job.errorType);
  }
  return problems;
}

/** Thrown by `expectOutcome` and the matrix cases: the report is not what the definition implies. */
export class OutcomeMismatchError extends Error {
  override readonly name = 'OutcomeMismatchError';
}

/** Throws {@link OutcomeMismatchError}, listing every difference, unless the report matches the expectation. */
export function expectOutcome(report: ProcessReport, expected: ExpectedOutcome): void {
  const problems = outcomeDifferences(report, expected);
  if (problems.length) {
    throw new OutcomeMismatchError(
      `the report of ${report.processId} is not what the definition implies:\n  - ${problems.join('\n  - ')}`
    );
  }
}
