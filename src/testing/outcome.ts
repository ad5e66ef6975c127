/**
 * What a definition implies when something goes wrong: for a failure or a cancel at a step, or a revert that fails,
 * which jobs run, which are reverted and in what order, and how the process ends — as the report must say it.
 *
 * The failure matrix computes every case's expectation through the small {@link OutcomePredictor} interface (a planned
 * definition and a scenario in, the expected revert order and final report out). {@link predictOutcome} reads it off
 * the engine's own preview of a run, `previewPlan` (`src/shared/revert-plan.ts`): the saga core (`src/core`) on a
 * simulated clock, the rules the engine runs by — one source of truth for graphs (`needs`), groups and their success
 * policies, the pivot, `revertOnFailure`, failure classes, revert modes and park mode.
 */
import type { JobRegistry } from '../runtime/registry';
import type { ProcessDefinition } from '../schema/definition';
import type { JobFacts, PlanNode, PlannedJob } from '../shared/plan';
import type { FinalProcessStatus, JobStatus, ProcessReport, RevertReport } from '../shared/report';
import type { PlanPreview, PreviewScenario } from '../shared/revert-plan';
import { previewPlan } from '../shared/revert-plan';
import { DEADLINE_TYPE, REJECTED_TYPE } from '../shared/errors';
import { INJECTED_FAULT_TYPE } from './instrument';
import { jobsOnly, markChildSteps, treeReport } from './tree';

/** A definition as planned: what decides its unwinding (its graph, each job's revert and options, its settings). */
export interface ProcessModel {
  name: string;
  definition: ProcessDefinition;
  /** With the registry's facts, from which child steps' children are planned (see `src/shared/child-plans.ts`). */
  plan: { jobs: PlannedJob[]; nodes?: PlanNode[]; facts?: Record<string, JobFacts> };
  revertMode: 'sequential' | 'parallel';
  onRevertFailure: 'continue' | 'park';
}

/** What goes wrong in a case. */
export type Scenario =
  /** The run of `stepId` fails (non-retryably). */
  | { kind: 'fail'; stepId: string }
  /** The process is cancelled while `stepId` runs (with whatever runs beside it). */
  | { kind: 'cancel'; stepId: string }
  /** The run of `trigger` fails, and while unwinding the revert of `stepId` fails. */
  | { kind: 'revert-fail'; stepId: string; trigger: string }
  /** The approval `stepId` is rejected. */
  | { kind: 'reject'; stepId: string }
  /** The wait `stepId` expires (the case's definition gives it a short timeout); it follows its `onTimeout`. */
  | { kind: 'timeout'; stepId: string };

/** What the report of a case must say. */
export interface ExpectedOutcome {
  status: FinalProcessStatus;
  /** The step whose failure stopped the process (none for a cancel). */
  failedStep?: string;
  stoppedPastPivot: boolean;
  /**
   * The steps whose reverts run, wave by wave; the steps of one wave run side by side and may appear in any order
   * among themselves.
   */
  revertOrder: string[][];
  /** Steps left needing a person (a revert that failed and stays failed). */
  needsAttention: string[];
  /** Every job's final status, and how its revert ended when it has one in the report. */
  jobs: Record<string, { status: JobStatus; revert?: RevertReport['status']; errorType?: string }>;
  /** For a cancel: the other jobs running when it lands (cancelled with the process). The case holds them all. */
  alsoCancelled: string[];
  /** For a cancel: the jobs that complete before it lands. The case cancels once they have, whatever the timing. */
  completeBeforeCancel: string[];
  /**
   * Park mode: the step where the process parks for an operator; the case then lifts the fault and decides `retry`,
   * as an operator would after fixing the cause, and the expectation is for after that.
   */
  parkedAt?: string;
}

/** Step ids in, the expected outcome out: see the module comment. */
export type OutcomePredictor = (model: ProcessModel, scenario: Scenario) => ExpectedOutcome;

/** The model of a definition, planned with the registry that the test worker runs (each job's revert and options). */
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
  const checked = validation.definition;
  return {
    name: checked.name,
    definition: checked,
    plan: {
      jobs: validation.jobs,
      ...(validation.nodes ? { nodes: validation.nodes } : {}),
      facts: registry.facts(registry.names()),
    },
    revertMode: checked.options?.revertMode ?? 'sequential',
    onRevertFailure: checked.options?.onRevertFailure ?? 'continue',
  };
}

function preview(model: ProcessModel, scenario: PreviewScenario): PlanPreview {
  return previewPlan(model.plan, model.definition, model.definition.options ?? {}, scenario);
}

/** The preview's scenario for a case's (a rejection is a wait's failure; an expiry, its `timeoutAt`). */
function previewScenario(scenario: Scenario): PreviewScenario {
  switch (scenario.kind) {
    case 'fail':
    case 'reject':
      return { failAt: scenario.stepId };
    case 'cancel':
      return { cancelAt: scenario.stepId };
    case 'timeout':
      return { timeoutAt: scenario.stepId };
    case 'revert-fail':
      return { failAt: scenario.trigger, revertFails: scenario.stepId };
  }
}

/**
 * The engine's own preview of a run (`previewPlan` of `src/shared/revert-plan.ts`, the saga core's rules), read
 * as the report a case must end with. A process that the preview leaves parked is retried by the case after its fault
 * is lifted: a forward failure then goes on to the end, a revert then succeeds.
 */
export const predictOutcome: OutcomePredictor = (model, scenario) => {
  const run = preview(model, previewScenario(scenario));
  const jobs: ExpectedOutcome['jobs'] = {};
  for (const id of run.succeeded) jobs[id] = { status: 'succeeded' };
  for (const id of run.notRun) jobs[id] = { status: 'not_run' };
  for (const id of run.cancelled) jobs[id] = { status: 'failed', errorType: 'cancelled' };
  const stopped = run.stoppedAt?.stepId;
  if (stopped !== undefined) {
    const injected =
      scenario.kind === 'reject' ? REJECTED_TYPE : scenario.kind === 'timeout' ? DEADLINE_TYPE : INJECTED_FAULT_TYPE;
    jobs[stopped] = { status: 'failed', errorType: run.stoppedAt?.by === 'cancel' ? 'cancelled' : injected };
  }
  const scenarioStep = scenario.kind === 'revert-fail' ? scenario.trigger : scenario.stepId;
  if (stopped !== undefined && scenarioStep !== stopped && scenarioStep.startsWith(`${stopped}/`)) {
    // Stopped inside a child (`db/grant`): the job there failed (or was cancelled), and with it the child step.
    jobs[scenarioStep] = jobs[stopped] as ExpectedOutcome['jobs'][string];
    jobs[stopped] = { status: 'failed' };
  }
  const failedStep = run.stoppedAt?.by === 'failure' ? stopped : undefined;
  const base = {
    ...(failedStep !== undefined ? { failedStep } : {}),
    alsoCancelled: run.cancelled,
    // The jobs, not the child steps around them (those have no calls to wait for).
    completeBeforeCancel: scenario.kind === 'cancel' ? jobsOnly(run.succeeded) : [],
  };

  if (run.status === 'parked' && !run.reverts.length && stopped !== undefined) {
    // Parked on a forward failure; retried without the fault, the run goes on as if nothing had failed.
    const retried = preview(model, {});
    const all: ExpectedOutcome['jobs'] = {};
    for (const id of retried.succeeded) all[id] = { status: 'succeeded' };
    for (const id of retried.notRun) all[id] = { status: 'not_run' };
    return {
      status: 'succeeded',
      stoppedPastPivot: false,
      revertOrder: [],
      needsAttention: [],
      jobs: all,
      alsoCancelled: [],
      completeBeforeCancel: [],
      parkedAt: stopped,
    };
  }

  const needsAttention: string[] = [];
  let parkedAt: string | undefined;
  const revertOrder: string[][] = [];
  for (const wave of run.reverts) {
    const reverted: string[] = [];
    for (const item of wave) {
      const row = (jobs[item.stepId] ??= { status: 'succeeded' });
      const afterFailure = row.status === 'failed';
      if (item.action === 'skip') {
        if (!afterFailure) row.status = 'skipped';
        row.revert = 'skipped';
        continue;
      }
      reverted.push(item.stepId);
      if (item.action === 'revert-failed' && model.onRevertFailure === 'continue') {
        row.revert = 'revert_failed';
        if (!afterFailure) row.status = 'revert_failed';
        needsAttention.push(item.stepId);
        continue;
      }
      // A revert that fails inside a child fails the child step's revert: the process parks at the child step.
      if (item.action === 'revert-failed') parkedAt = item.stepId.split('/')[0] ?? item.stepId;
      row.revert = 'reverted';
      if (!afterFailure) row.status = 'reverted';
    }
    if (reverted.length) revertOrder.push(reverted);
  }
  markChildSteps(jobs, needsAttention, run.reverts, model.onRevertFailure === 'continue');
  const status: FinalProcessStatus =
    run.status === 'parked' ? (run.stoppedAt?.by === 'cancel' ? 'cancelled' : 'reverted') : run.status;
  return {
    status,
    ...base,
    stoppedPastPivot: run.stoppedPastPivot,
    revertOrder,
    needsAttention,
    jobs,
    ...(parkedAt !== undefined ? { parkedAt } : {}),
  };
};

/** Checks a report against an expectation; every difference is a line of the returned list (empty: it matches). */
export function outcomeDifferences(whole: ProcessReport, expected: ExpectedOutcome): string[] {
  // With child steps, the report is read as one tree: rows and reverts inside children by path (`db/grant`).
  const report = treeReport(whole);
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
