/**
 * The core on a simulated clock: a run of a planned definition in lock step, fed the job outcomes a scenario asks
 * for, through the same rules the engine follows (readiness, group policies, the pivot, failure classes, the revert
 * stack and its waves). `jipper plan`'s preview and the testing kit's predicted outcome read it; the model-based tests
 * check its invariants on random definitions.
 *
 * The clock: a step starts one tick after the last step it needs ended, and every job takes one tick. A failing job
 * fails at the end of its tick; the steps that started in the same tick settle (succeed), and nothing else starts. A
 * cancellation (or the process's deadline) at a tick cancels (cuts) every job running in that tick.
 */
import type { FailureClass } from '../schema/definition';
import type { PlanNode } from '../shared/plan';
import type { FinalProcessStatus, ProcessStatus } from '../shared/report';
import type { FailingJob } from './failure';
import { afterPivotAction, afterPivotOf, failedJobEffect, failureOutcome, statusWithoutUnwinding } from './failure';
import { groupNeeds } from './graph';
import type { OnRevertFailure, RevertMode } from './unwinding';
import type { WaitSpec } from './waits';
import { expiryAction } from './waits';
import { revertAction, revertFailure, revertWaves, statusAfterUnwinding } from './unwinding';

/** A planned job as the simulation needs it. */
export interface SimJob extends FailingJob {
  stepId: string;
  hasRevert: boolean;
  /** The step is a wait: what its expiry does. */
  wait?: Pick<WaitSpec, 'onTimeout'>;
}

/** What goes wrong in a simulated run (nothing: every job succeeds). */
export interface SimScenario {
  /** Jobs whose run fails (a `business` failure, once retries are spent; for an approval: it is rejected). */
  failAt?: readonly string[];
  /** Waits whose timeout expires: each follows its `onTimeout` (a `timeout` failure, going on, or parking). */
  timeoutAt?: readonly string[];
  /** The job during whose tick the process is cancelled. */
  cancelAt?: string;
  /** The tick at which the process's deadline cuts every running job (a `timeout`). */
  deadlineAt?: number;
  /** Jobs whose revert fails after its retries. */
  revertFails?: readonly string[];
  /** What a job's probe answers when it decides (default: `not-applied`). */
  probe?: (stepId: string) => 'applied' | 'not-applied';
}

export interface SimRevert {
  stepId: string;
  action: 'revert' | 'skip' | 'revert-failed';
  /** The job is reverted after its own failure. */
  afterFailure?: boolean;
}

export interface SimRun {
  forward: string[][];
  /** Jobs that succeed before the process stops, in completion order. */
  succeeded: string[];
  /** The job whose failure (or cancellation, or cut) stopped the process. */
  stoppedAt?: { stepId: string; by: 'failure' | 'cancel' | 'deadline' };
  /** Other jobs that failed in the tick the process stopped (their failure forgiven by no group policy). */
  alsoFailed: string[];
  /** Jobs cancelled (or cut by the deadline) with the process. */
  cancelled: string[];
  /** Failed jobs whose effect may stand and that nothing reverts (a timeout without probe or `revertOnFailure`). */
  outcomeUnknown: string[];
  notRun: string[];
  /** The revert stack when the process stopped, in completion order (the failed jobs' own unit on top). */
  units: string[][];
  reverts: SimRevert[][];
  status: FinalProcessStatus | Extract<ProcessStatus, 'parked'>;
  stoppedPastPivot: boolean;
  notes: string[];
}

export interface SimSettings {
  revertMode?: RevertMode;
  onRevertFailure?: OnRevertFailure;
}

/** Runs the simulation; see the module comment. */
export function simulate(
  nodes: readonly PlanNode[],
  jobs: readonly SimJob[],
  settings: SimSettings = {},
  scenario: SimScenario = {}
): SimRun {
  const byId = new Map(jobs.map((job) => [job.stepId, job]));
  const expiry = expiries(byId, scenario);
  const { pastPivot, groupUnits, ...forward } = runForward(nodes, {
    ...scenario,
    failAt: [...(scenario.failAt ?? []), ...expiry.failing],
  });
  const startedIds = new Set(forward.forward.flat());
  const run: SimRun = {
    ...forward,
    notRun: jobs.map((job) => job.stepId).filter((id) => !startedIds.has(id)),
    outcomeUnknown: [],
    reverts: [],
    status: 'succeeded',
    stoppedPastPivot: false,
  };
  const { stoppedAt } = run;
  if (!stoppedAt) return run;
  if (stoppedAt.by === 'failure' && expiry.parks.has(stoppedAt.stepId)) {
    run.notes.push(`the wait ${stoppedAt.stepId} expires: the process parks for a decision (onTimeout: park)`);
    return { ...run, status: 'parked' };
  }
  const withoutEmpty = (ended: SimRun): SimRun => ({ ...ended, units: ended.units.filter((unit) => unit.length > 0) });
  const stopped = byId.get(stoppedAt.stepId) as SimJob;
  const onRevertFailure = settings.onRevertFailure ?? 'continue';
  const cancelled = stoppedAt.by === 'cancel';
  if (pastPivot) return withoutEmpty(endPastPivot(run, stopped, onRevertFailure, stoppedAt.by));
  const timedOut = stoppedAt.by === 'deadline' || expiry.failing.includes(stoppedAt.stepId);
  const failureClass: FailureClass = cancelled ? 'cancel' : timedOut ? 'timeout' : 'business';
  // Every job cancelled (or cut) with the process fails with that class too, and each one's `revertOn` counts, as in
  // the engine, where each job that settles so decides for itself: one that keeps its effects keeps the process's,
  // else one that parks parks it.
  const outcomes = [stopped, ...run.cancelled.map((id) => byId.get(id) as SimJob)].map((job) => ({
    job,
    outcome: failureOutcome(job, failureClass, cancelled),
  }));
  const decisive =
    outcomes.find((o) => o.outcome === 'keep-effects') ?? outcomes.find((o) => o.outcome === 'park') ?? outcomes[0];
  const outcome = decisive?.outcome ?? 'unwind';
  if (outcome !== 'unwind') {
    const why = decisive?.job ?? stopped;
    run.notes.push(
      `a ${failureClass} failure of ${why.stepId} is not in its revertOn: ${outcome === 'park' ? 'the process parks' : 'nothing is unwound'}`
    );
    run.status = outcome === 'park' ? 'parked' : (statusWithoutUnwinding(cancelled) as FinalProcessStatus);
    return withoutEmpty(run);
  }
  stackFailedJobs(run, byId, failureClass, scenario, groupUnits);
  run.units = run.units.filter((unit) => unit.length > 0);
  unwind(run, byId, nodes, settings, scenario, cancelled);
  return run;
}

/**
 * The waits of `timeoutAt`, by what their expiry does (see `expiryAction`): those that fail their step (`revert`) or
 * park it; one that goes on (`continue`) succeeds as if settled. A step in `timeoutAt` that is no wait is ignored.
 */
function expiries(byId: ReadonlyMap<string, SimJob>, scenario: SimScenario): { failing: string[]; parks: Set<string> } {
  const failing: string[] = [];
  const parks = new Set<string>();
  for (const stepId of scenario.timeoutAt ?? []) {
    const wait = byId.get(stepId)?.wait;
    if (wait === undefined) continue;
    const action = expiryAction(wait);
    if (action === 'continue') continue;
    failing.push(stepId);
    if (action === 'park') parks.add(stepId);
  }
  return { failing, parks };
}

/** The forward pass in lock step: what started, succeeded and stopped, and the revert stack at the stop. */
function runForward(
  nodes: readonly PlanNode[],
  scenario: SimScenario
): Pick<SimRun, 'forward' | 'succeeded' | 'stoppedAt' | 'alsoFailed' | 'cancelled' | 'units' | 'notes'> & {
  pastPivot: boolean;
  /** The revert unit of each member of a group that stopped (its failed members join it, as in the engine). */
  groupUnits: Map<string, string[]>;
} {
  const clock = new Readiness(nodes);
  const failing = new Set(scenario.failAt ?? []);
  const result = {
    forward: [] as string[][],
    succeeded: [] as string[],
    alsoFailed: [] as string[],
    cancelled: [] as string[],
    units: [] as string[][],
    notes: [] as string[],
    groupUnits: new Map<string, string[]>(),
  };
  let pivotPassedAt: number | undefined;
  for (let tick = 0; ; tick++) {
    const ready = clock.take();
    if (!ready.length) return { ...result, pastPivot: false };
    const members = ready.flatMap((node) => node.members);
    result.forward.push(members);
    const cancelledBy = members.includes(scenario.cancelAt ?? '\u0000') ? scenario.cancelAt : undefined;
    const cut = scenario.deadlineAt !== undefined && tick >= scenario.deadlineAt;
    if (cancelledBy !== undefined || cut) {
      // Every job running when the process is cancelled (or its deadline is reached) is cancelled (cut).
      const [first = ''] = members;
      const stepId = cancelledBy ?? first;
      result.cancelled.push(...members.filter((m) => m !== stepId));
      for (const node of ready.filter((n) => n.group)) stoppedGroupUnit(result, node.members, []);
      const by = cancelledBy !== undefined ? 'cancel' : 'deadline';
      const pastPivot = pivotPassedAt !== undefined && pivotPassedAt <= tick;
      return { ...result, stoppedAt: { stepId, by }, pastPivot };
    }
    const failed: string[] = [];
    for (const node of ready) {
      const ok = node.members.filter((m) => !failing.has(m));
      result.succeeded.push(...ok);
      if (ok.length) result.units.push(ok);
      for (const member of ok) clock.ended(member, tick + 1);
      const lost = node.members.filter((m) => failing.has(m));
      if (ok.length < groupNeeds(node)) {
        failed.push(...lost);
        if (node.group) stoppedGroupUnit(result, lost, ok);
        continue;
      }
      clock.ended(node.id, tick + 1);
      if (node.pivot && pivotPassedAt === undefined) pivotPassedAt = tick + 1;
      if (node.group && ok.length < node.members.length && node.succeedWhen !== 'all') {
        // A failed member does not fail a group whose policy is met.
        result.notes.push(
          `group ${node.id} succeeds with ${ok.length} of ${node.members.length} members (${String(node.succeedWhen)})`
        );
      }
    }
    const [first, ...others] = failed;
    if (first !== undefined) {
      result.alsoFailed.push(...others);
      const pastPivot = pivotPassedAt !== undefined && pivotPassedAt <= tick;
      return { ...result, stoppedAt: { stepId: first, by: 'failure' }, pastPivot };
    }
  }
}

/** A group that stopped the run: its unit (on the stack once it has members) takes its failed members that stand. */
function stoppedGroupUnit(
  result: { units: string[][]; groupUnits: Map<string, string[]> },
  stopped: readonly string[],
  unit: string[]
): void {
  if (!result.units.includes(unit)) result.units.push(unit);
  for (const member of stopped) result.groupUnits.set(member, unit);
}

/**
 * The simulated clock's readiness: each node counts the names it still waits for, so a tick looks only at the nodes
 * it readies (a whole run is linear in the graph; scanning every node each tick made `jipper plan`, a preview per job,
 * cubic: 38 s for 1,000 jobs).
 */
class Readiness {
  private readonly index: Map<PlanNode, number>;
  private readonly waitingFor = new Map<PlanNode, number>();
  private readonly dependents = new Map<string, PlanNode[]>();
  private readonly ends = new Set<string>();
  private readyNext: PlanNode[] = [];

  constructor(nodes: readonly PlanNode[]) {
    this.index = new Map(nodes.map((node, i) => [node, i]));
    for (const node of nodes) {
      const needs = new Set(node.needs);
      this.waitingFor.set(node, needs.size);
      if (!needs.size) this.readyNext.push(node);
      for (const name of needs) {
        const waiting = this.dependents.get(name);
        if (waiting) waiting.push(node);
        else this.dependents.set(name, [node]);
      }
    }
  }

  /** The nodes ready at this tick, in list order, as the steps are written (each node is readied once). */
  take(): PlanNode[] {
    const ready = this.readyNext.sort((a, b) => (this.index.get(a) ?? 0) - (this.index.get(b) ?? 0));
    this.readyNext = [];
    return ready;
  }

  /** `name` (a job or a node) ended successfully: the nodes waiting for it count one name less. */
  ended(name: string, _at: number): void {
    if (this.ends.has(name)) return;
    this.ends.add(name);
    for (const node of this.dependents.get(name) ?? []) {
      const left = (this.waitingFor.get(node) ?? 0) - 1;
      this.waitingFor.set(node, left);
      if (left === 0) this.readyNext.push(node);
    }
  }
}

/** A run that stopped past its pivot: nothing is unwound; the step's `afterPivot` says how it ends. */
function endPastPivot(run: SimRun, stopped: SimJob, onRevertFailure: OnRevertFailure, by: string): SimRun {
  const afterPivot = afterPivotOf(stopped, onRevertFailure);
  run.notes.push(
    `the pivot has succeeded: nothing is unwound (afterPivot: ${typeof afterPivot === 'string' ? afterPivot : `recover with ${afterPivot.recover.job}`})`
  );
  // The deadline stops forward progress for good: nothing is retried or recovered after it.
  const action = afterPivotAction(stopped, onRevertFailure, by !== 'failure');
  run.status =
    action === 'stop'
      ? (statusWithoutUnwinding(by === 'cancel') as FinalProcessStatus)
      : action === 'park'
        ? 'parked'
        : 'succeeded';
  run.stoppedPastPivot = true;
  return run;
}

/** The stopped jobs that are reverted after their own failure go on top of the stack, together. */
function stackFailedJobs(
  run: SimRun,
  byId: ReadonlyMap<string, SimJob>,
  stopClass: FailureClass,
  scenario: SimScenario,
  groupUnits: ReadonlyMap<string, string[]>
): void {
  const stopper = run.stoppedAt?.stepId as string;
  const stoppedJobs = [stopper, ...run.alsoFailed, ...run.cancelled];
  const kept: string[] = [];
  for (const id of stoppedJobs) {
    const job = byId.get(id) as SimJob;
    const failureClass = run.alsoFailed.includes(id) ? 'business' : stopClass;
    const effect = failedJobEffect(job, failureClass, scenario.probe?.(id) ?? 'not-applied');
    // A group's member joins its group's unit; a job step's failure is a unit of its own, on top.
    if (effect === 'revert') (groupUnits.get(id) ?? kept).push(id);
    if (effect === 'unknown') run.outcomeUnknown.push(id);
    if (job.hasProbe) run.notes.push(`${id} has a probe: it decides whether ${id} is reverted too`);
  }
  if (kept.length) run.units.push(kept);
}

/** The unwinding, wave by wave, with the reverts the scenario fails. */
function unwind(
  run: SimRun,
  byId: ReadonlyMap<string, SimJob>,
  nodes: readonly PlanNode[],
  settings: SimSettings,
  scenario: SimScenario,
  cancelled: boolean
): void {
  const afterFailure = new Set([run.stoppedAt?.stepId, ...run.alsoFailed, ...run.cancelled]);
  let needsAttention = 0;
  let parked = false;
  const waves = revertWaves(run.units, { nodes, mode: settings.revertMode ?? 'sequential' });
  run.reverts = waves.map((wave) =>
    wave.map((stepId): SimRevert => {
      const job = byId.get(stepId) as SimJob;
      const own = afterFailure.has(stepId) ? { afterFailure: true } : {};
      if (revertAction(job) === 'skip') return { stepId, action: 'skip', ...own };
      if (!scenario.revertFails?.includes(stepId)) return { stepId, action: 'revert', ...own };
      if (revertFailure(settings.onRevertFailure ?? 'continue') === 'park') parked = true;
      else needsAttention += 1;
      return { stepId, action: 'revert-failed', ...own };
    })
  );
  run.status = parked ? 'parked' : (statusAfterUnwinding(cancelled, needsAttention) as FinalProcessStatus);
}
