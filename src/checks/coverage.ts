/**
 * Compensation coverage (`jipper check`): for each step of a planned definition, whether a failure after it (or of it)
 * can leave its effect standing, and why. No server: the saga core (`src/core`) decides, on its simulated clock, what
 * a failure at every job in turn does, and its failure rules say what each failure class does. The gaps:
 *
 * - `no-revert` — the step's job has no revert (or the step says `revert: none`): a later failure leaves it standing;
 * - `unknown-outcome` — a timeout of the step itself leaves its outcome unknown and its revert is not run (the step
 *   does not say `revertOnFailure: true` and its job has no probe; a failure of another class is taken to have left
 *   nothing, as the engine takes it);
 * - `past-pivot` — a failure after the pivot ends the process (`failed`, or parked) with the step's effect standing
 *   (the failing step's `afterPivot` is `fail` or `park`, not `retry` or a recovery);
 * - `failure-class` — a failure class not in a later step's `revertOn` ends the process with nothing unwound.
 *
 * A step whose standing effect is intended says why with `reason` (with `revert: none` when it is never to be
 * reverted): its gaps are `intended`, not findings.
 */
import type { FailureClass, JobStep, ProcessDefinition } from '../schema/definition';
import { FAILURE_CLASSES } from '../schema/definition';
import type { PlanNode, PlannedJob } from '../shared/plan';
import { planNodes } from '../shared/plan';
import { allJobSteps } from '../shared/steps';
import { failedJobEffect, failureOutcome, simulate } from '../core';

export const GAP_KINDS = ['no-revert', 'unknown-outcome', 'past-pivot', 'failure-class'] as const;
export type GapKind = (typeof GAP_KINDS)[number];

/** One way a step's effect may stand. */
export interface CoverageGap {
  kind: GapKind;
  /** The failing steps that leave it standing (for `unknown-outcome`: the step itself). */
  failing: string[];
  /** For `failure-class`: the classes not unwound, by failing step. */
  classes?: Record<string, FailureClass[]>;
  /** One line: what happens, and what would cover it. */
  message: string;
}

export interface StepCoverage {
  stepId: string;
  job: string;
  /** `covered`: nothing leaves it standing; `intended`: its gaps are said to be meant (`reason`); `gap`: findings. */
  status: 'covered' | 'intended' | 'gap';
  gaps: CoverageGap[];
  /** The step's `reason`, when it gives one. */
  reason?: string;
  /** The step says `revert: none`. */
  revertNone?: boolean;
}

export interface CoverageReport {
  name: string;
  steps: StepCoverage[];
  /** How many steps have gaps that are not intended. */
  findings: number;
}

type Found = Map<string, Map<GapKind, Map<string, FailureClass[]>>>;

function note(found: Found, stepId: string, kind: GapKind, failing: string, cls?: FailureClass): void {
  const kinds = found.get(stepId) ?? new Map<GapKind, Map<string, FailureClass[]>>();
  found.set(stepId, kinds);
  const steps = kinds.get(kind) ?? new Map<string, FailureClass[]>();
  kinds.set(kind, steps);
  const classes = steps.get(failing) ?? [];
  steps.set(failing, classes);
  if (cls !== undefined && !classes.includes(cls)) classes.push(cls);
}

/** The gaps a failure of `failing` opens: the core's simulated run, and its failure rules for every class. */
function gapsOfFailure(
  found: Found,
  failing: PlannedJob,
  run: ReturnType<typeof simulate>,
  pivotStands: boolean
): void {
  // A member whose group's policy forgives its failure stops nothing.
  if (!run.stoppedAt) return;
  if (run.stoppedPastPivot) {
    if (pivotStands) for (const stepId of run.succeeded) note(found, stepId, 'past-pivot', failing.stepId);
    return;
  }
  for (const revert of run.reverts.flat()) {
    if (revert.action === 'skip' && !revert.afterFailure) note(found, revert.stepId, 'no-revert', failing.stepId);
  }
  for (const cls of FAILURE_CLASSES) {
    if (failureOutcome(failing, cls, cls === 'cancel') !== 'keep-effects') continue;
    for (const stepId of run.succeeded) note(found, stepId, 'failure-class', failing.stepId, cls);
  }
  // A job with no revert cannot be reverted after its own failure either: its gap is `no-revert`.
  const unknown = failedJobEffect(failing, 'timeout') === 'unknown';
  if (failing.hasRevert && unknown && failureOutcome(failing, 'timeout', false) === 'unwind') {
    note(found, failing.stepId, 'unknown-outcome', failing.stepId);
  }
}

function gapMessage(kind: GapKind, failing: Map<string, FailureClass[]>): string {
  const ids = [...failing.keys()].join(', ');
  switch (kind) {
    case 'no-revert':
      return `no revert: a failure of ${ids} leaves its effect standing (give its job a revert, or say revert: none with a reason)`;
    case 'unknown-outcome':
      return 'a timeout of this step leaves its outcome unknown and nothing reverts it (set revertOnFailure: true, or give its job a probe)';
    case 'past-pivot':
      return `past the pivot: a failure of ${ids} ends the process with its effect standing (afterPivot: retry or recover on them, or say why with reason)`;
    case 'failure-class':
      return `a ${[...failing.entries()].map(([id, cls]) => `${cls.join('/')} failure of ${id}`).join(', a ')} is not in its revertOn: nothing is unwound`;
  }
}

/**
 * The compensation coverage of a definition planned into `jobs` (a `Validation`'s jobs, or a worker's plan): a
 * failure at every job in turn, run through the saga core.
 */
export function compensationCoverage(
  definition: ProcessDefinition,
  plan: { jobs: readonly PlannedJob[]; nodes?: readonly PlanNode[] }
): CoverageReport {
  const nodes = plan.nodes ?? planNodes(definition);
  const settings = {
    revertMode: definition.options?.revertMode ?? 'sequential',
    onRevertFailure: definition.options?.onRevertFailure ?? 'continue',
  } as const;
  const found: Found = new Map();
  for (const failing of plan.jobs) {
    const run = simulate(nodes, plan.jobs, settings, { failAt: [failing.stepId] });
    // A failure past the pivot that parks or ends the process leaves the effects standing; a retry or a recovery
    // carries the process forward, which is what a pivot is for.
    gapsOfFailure(found, failing, run, run.status !== 'succeeded');
  }
  const written = new Map<string, JobStep>(allJobSteps(definition).map((step) => [step.id, step]));
  const steps = plan.jobs.map((job): StepCoverage => {
    const step = written.get(job.stepId);
    // A wait step (an approval, an event) has no effect of its own: nothing of it can be left standing.
    const kinds = (job.wait ? undefined : found.get(job.stepId)) ?? new Map<GapKind, Map<string, FailureClass[]>>();
    const gaps = GAP_KINDS.flatMap((kind): CoverageGap[] => {
      const failing = kinds.get(kind);
      if (!failing) return [];
      const classes = Object.fromEntries([...failing].filter(([, cls]) => cls.length));
      return [
        {
          kind,
          failing: [...failing.keys()],
          ...(Object.keys(classes).length ? { classes } : {}),
          message: gapMessage(kind, failing),
        },
      ];
    });
    const reason = step?.reason;
    const status = !gaps.length ? 'covered' : reason !== undefined ? 'intended' : 'gap';
    return {
      stepId: job.stepId,
      job: job.job,
      status,
      gaps,
      ...(reason !== undefined ? { reason } : {}),
      ...(step?.revert === 'none' ? { revertNone: true } : {}),
    };
  });
  return { name: definition.name, steps, findings: steps.filter((s) => s.status === 'gap').length };
}
