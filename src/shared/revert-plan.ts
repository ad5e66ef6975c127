/**
 * The revert plan: in what order a process's completed jobs are reverted (`revertWaves`, the function the engine
 * unwinds by, now in the saga core) and a preview of a whole run for a failure or a cancellation at any step, before
 * anything runs (`jipper plan`, and the failure-matrix tests of `jipper/testing`). Pure and sandbox-safe.
 *
 * The preview is the saga core (`src/core`) on a simulated clock (`simulate`): a step starts one tick after the last
 * step it needs ended, and every job takes one tick. A failing job fails at the end of its tick; the steps that
 * started in the same tick settle (succeed), and nothing else starts. A cancellation at a step cancels every job
 * running in that tick. The rules — group policies, the pivot, failure classes, `revertOnFailure`, the waves — are the
 * core's, the engine's own.
 */
import type { FinalProcessStatus, ProcessStatus } from './report';
import type { JobFacts, PlanNode, PlannedJob } from './plan';
import { childTree } from './child-plans';
import { planNodes } from './plan';
import type { ProcessDefinition } from '../schema/definition';
import { simulate, simulateTree, treeHasJob } from '../core';

export { revertWaves } from '../core';
export type { RevertUnits } from '../core';

/** What to preview: a failure of one job, a cancellation while one job runs, or one revert failing (besides). */
export interface PreviewScenario {
  /** The job (step id) that fails, once its retries are spent. */
  failAt?: string;
  /** The job (step id) during which the process is cancelled. */
  cancelAt?: string;
  /** A job whose revert fails after its retries. */
  revertFails?: string;
  /** A wait step whose timeout expires (it follows its `onTimeout`). A wait in `failAt` is rejected. */
  timeoutAt?: string;
}

export interface PreviewRevert {
  stepId: string;
  /** `revert`: its revert runs. `skip`: it has no revert. `revert-failed`: as asked by the scenario. */
  action: 'revert' | 'skip' | 'revert-failed';
  /** The job is reverted after its own failure (`revertOnFailure`). */
  afterFailure?: boolean;
}

export interface PlanPreview {
  /** The steps as they start when every job succeeds: each wave starts together. */
  forward: string[][];
  /** Jobs that succeed before the process stops, in completion order. */
  succeeded: string[];
  /** The job that fails (or is cancelled) and what stopped the process. */
  stoppedAt?: { stepId: string; by: 'failure' | 'cancel' };
  /** Jobs cancelled with the process (running when it was cancelled). */
  cancelled: string[];
  /** Jobs that never start. */
  notRun: string[];
  /** The unwinding, wave by wave. Empty when nothing is unwound. */
  reverts: PreviewRevert[][];
  /** Step ids in the order their reverts start (the report's `revertOrder`, jobs without a revert left out). */
  revertOrder: string[];
  /** How the process ends (or waits: `parked`). */
  status: FinalProcessStatus | Extract<ProcessStatus, 'parked'>;
  stoppedPastPivot: boolean;
  /** One line per thing worth knowing (a pivot passed, a group policy met, a probe that decides). */
  notes: string[];
}

export interface PreviewSettings {
  revertMode?: 'sequential' | 'parallel';
  onRevertFailure?: 'continue' | 'park';
}

/**
 * Previews a run of a planned definition for a scenario (none: every job succeeds). `jobs` are the plan's jobs (with
 * their revert and options); `nodes` its graph (`planNodes(definition)` when absent).
 */
export function previewPlan(
  plan: { jobs: readonly PlannedJob[]; nodes?: readonly PlanNode[]; facts?: Record<string, JobFacts> },
  definition: Pick<ProcessDefinition, 'steps'>,
  settings: PreviewSettings = {},
  scenario: PreviewScenario = {}
): PlanPreview {
  const nodes = plan.nodes ?? planNodes(definition);
  const jobs = new Map(plan.jobs.map((job) => [job.stepId, job]));
  // With child steps, ids may be paths into the children (`db/grant`): see src/core/children.ts.
  const tree = childTree(plan, definition, settings);
  for (const id of [scenario.failAt, scenario.cancelAt, scenario.revertFails, scenario.timeoutAt]) {
    if (id !== undefined && !jobs.has(id) && !(tree && treeHasJob(tree, id))) {
      throw new RangeError(`no job "${id}" in this process`);
    }
  }
  const simScenario = {
    ...(scenario.failAt !== undefined ? { failAt: [scenario.failAt] } : {}),
    ...(scenario.cancelAt !== undefined ? { cancelAt: scenario.cancelAt } : {}),
    ...(scenario.revertFails !== undefined ? { revertFails: [scenario.revertFails] } : {}),
    ...(scenario.timeoutAt !== undefined ? { timeoutAt: [scenario.timeoutAt] } : {}),
    // The preview cannot know what a probe will answer: it shows the job reverted when its step says revertOnFailure.
    probe: (stepId: string) => (jobs.get(stepId)?.options.revertOnFailure ? 'applied' : 'not-applied'),
  } as const;
  const run = tree ? simulateTree(tree, simScenario) : simulate(nodes, plan.jobs, settings, simScenario);
  return {
    forward: run.forward,
    succeeded: run.succeeded,
    ...(run.stoppedAt ? { stoppedAt: run.stoppedAt as NonNullable<PlanPreview['stoppedAt']> } : {}),
    cancelled: run.cancelled,
    notRun: run.notRun,
    reverts: run.reverts,
    revertOrder: run.reverts
      .flat()
      .filter((r) => r.action !== 'skip')
      .map((r) => r.stepId),
    status: run.status,
    stoppedPastPivot: run.stoppedPastPivot,
    notes: run.notes,
  };
}
