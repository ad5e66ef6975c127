/**
 * The revert plan: in what order a process's completed jobs are reverted — the one function the engine unwinds by —
 * and a preview of a whole run for a failure or a cancellation at any step, before anything runs (`jipper plan`,
 * and the failure-matrix tests of `jipper/testing`). Pure and sandbox-safe.
 *
 * Unwinding: each completed step (a group's completed members together) is a unit of the revert stack, in completion
 * order. A unit is reverted once every completed unit that depends on it (its `needs`, transitively) has been
 * reverted; units that do not depend on each other are reverted side by side, in waves. A plain list is a chain, so
 * its units are reverted one at a time, newest first (LIFO). `revertMode: parallel` reverts everything at once.
 *
 * The preview runs the graph in lock step: a step starts one tick after the last step it needs ended, and every job
 * takes one tick. A failing job fails at the end of its tick; the steps that started in the same tick settle
 * (succeed), and nothing else starts. A cancellation at a step cancels every job running in that tick.
 */
import type { FinalProcessStatus, ProcessStatus } from './report';
import type { PlanNode, PlannedJob } from './plan';
import { planNodes } from './plan';
import type { ProcessDefinition } from '../schema/definition';

/** A revert stack: units in completion order, each the step ids that completed together. */
export type RevertUnits = readonly (readonly string[])[];

/**
 * The waves an unwinding reverts, in order: each wave's step ids are reverted side by side (in the order listed,
 * which is the reverse of their completion within a unit). `nodes` gives the dependencies between steps; without
 * them (code-first sagas, plans made before graphs) the units form a chain.
 */
export function revertWaves(
  units: RevertUnits,
  options: { nodes?: readonly PlanNode[]; mode?: 'sequential' | 'parallel' } = {}
): string[][] {
  const reversed = (unit: readonly string[]) => [...unit].reverse();
  if (!units.length) return [];
  if (options.mode === 'parallel') return [units.flat().reverse()];
  const depends = options.nodes ? dependencyTest(options.nodes) : undefined;
  if (!depends) return [...units].reverse().map(reversed);
  // level(u) = 0 when no later-completed unit depends on u, else 1 + the largest level of those that do.
  const level = new Array<number>(units.length).fill(0);
  for (let i = units.length - 1; i >= 0; i--) {
    for (let j = i + 1; j < units.length; j++) {
      if (unitDependsOn(units[j] as readonly string[], units[i] as readonly string[], depends)) {
        level[i] = Math.max(level[i] as number, (level[j] as number) + 1);
      }
    }
  }
  const waves: string[][] = [];
  // Within a wave, newest unit first.
  for (let i = units.length - 1; i >= 0; i--) {
    const l = level[i] as number;
    (waves[l] ??= []).push(...reversed(units[i] as readonly string[]));
  }
  return waves.filter((wave) => wave !== undefined);
}

function unitDependsOn(
  later: readonly string[],
  earlier: readonly string[],
  depends: (a: string, b: string) => boolean
): boolean {
  return later.some((a) => earlier.some((b) => depends(a, b)));
}

/**
 * `depends(a, b)`: step `a` waits (transitively) for step `b`. Undefined when the graph is a plain chain in list
 * order (each node needs exactly the one before it), where completion order already says it all.
 */
function dependencyTest(nodes: readonly PlanNode[]): ((a: string, b: string) => boolean) | undefined {
  if (isPlainChain(nodes)) return undefined;
  const nodeOf = new Map<string, number>();
  nodes.forEach((node, i) => {
    nodeOf.set(node.id, i);
    for (const member of node.members) nodeOf.set(member, i);
  });
  const ancestors = new Map<number, Set<number>>();
  const of = (i: number, seen = new Set<number>()): Set<number> => {
    const known = ancestors.get(i);
    if (known) return known;
    if (seen.has(i)) return new Set();
    seen.add(i);
    const result = new Set<number>();
    for (const name of (nodes[i] as PlanNode).needs) {
      const j = nodeOf.get(name);
      if (j === undefined || j === i) continue;
      result.add(j);
      for (const k of of(j, seen)) result.add(k);
    }
    ancestors.set(i, result);
    return result;
  };
  return (a, b) => {
    const i = nodeOf.get(a);
    const j = nodeOf.get(b);
    return i !== undefined && j !== undefined && i !== j && of(i).has(j);
  };
}

/**
 * Whether the graph reads as a plain list: the first node needs nothing, and every other one needs the node before it
 * and otherwise only earlier nodes. One pass over the names: the unwinding asks this before every wave, and a list of
 * 2,000 steps rebuilt the earlier names for each node (a second per wave, 40 minutes for its unwinding).
 */
function isPlainChain(nodes: readonly PlanNode[]): boolean {
  const earlier = new Set<string>();
  let previous: PlanNode | undefined;
  for (const node of nodes) {
    const fits = previous
      ? node.needs.includes(previous.id) && node.needs.every((name) => earlier.has(name))
      : node.needs.length === 0;
    if (!fits) return false;
    earlier.add(node.id);
    for (const member of node.members) earlier.add(member);
    previous = node;
  }
  return true;
}

/** What to preview: a failure of one job, a cancellation while one job runs, or one revert failing (besides). */
export interface PreviewScenario {
  /** The job (step id) that fails, once its retries are spent. */
  failAt?: string;
  /** The job (step id) during which the process is cancelled. */
  cancelAt?: string;
  /** A job whose revert fails after its retries. */
  revertFails?: string;
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
  plan: { jobs: readonly PlannedJob[]; nodes?: readonly PlanNode[] },
  definition: Pick<ProcessDefinition, 'steps'>,
  settings: PreviewSettings = {},
  scenario: PreviewScenario = {}
): PlanPreview {
  const nodes = plan.nodes ?? planNodes(definition);
  const jobs = new Map(plan.jobs.map((job) => [job.stepId, job]));
  const notes: string[] = [];
  const nodeOf = new Map<string, PlanNode>();
  for (const node of nodes) {
    nodeOf.set(node.id, node);
    for (const member of node.members) nodeOf.set(member, node);
  }
  for (const id of [scenario.failAt, scenario.cancelAt, scenario.revertFails]) {
    if (id !== undefined && !jobs.has(id)) throw new RangeError(`no job "${id}" in this process`);
  }

  // Forward, in lock step. A node is ready the tick after the last name it needs ended: each node counts the names it
  // still waits for, so a tick looks only at the nodes it readies (a whole preview is linear in the graph; scanning
  // every node each tick made `jipper plan`, a preview per job, cubic: 38 s for 1,000 jobs).
  const end = new Map<string, number>();
  const index = new Map(nodes.map((node, i) => [node, i]));
  const waitingFor = new Map<PlanNode, number>();
  const dependents = new Map<string, PlanNode[]>();
  let readyNext: PlanNode[] = [];
  for (const node of nodes) {
    const needs = new Set(node.needs);
    waitingFor.set(node, needs.size);
    if (!needs.size) readyNext.push(node);
    for (const name of needs) {
      const waiting = dependents.get(name);
      if (waiting) waiting.push(node);
      else dependents.set(name, [node]);
    }
  }
  const ended = (name: string, at: number) => {
    if (end.has(name)) return;
    end.set(name, at);
    for (const node of dependents.get(name) ?? []) {
      const left = (waitingFor.get(node) ?? 0) - 1;
      waitingFor.set(node, left);
      if (left === 0) readyNext.push(node);
    }
  };
  const forward: string[][] = [];
  const succeeded: string[] = [];
  const cancelled: string[] = [];
  const units: string[][] = [];
  let stopTick: number | undefined;
  let stoppedAt: PlanPreview['stoppedAt'];
  let pivotPassedAt: number | undefined;
  let failedJob: string | undefined;
  for (let tick = 0; stopTick === undefined; tick++) {
    // Each node is readied once (its count reaches 0 once); in list order, as the steps are written.
    const ready = readyNext.sort((a, b) => (index.get(a) ?? 0) - (index.get(b) ?? 0));
    readyNext = [];
    if (!ready.length) break;
    forward.push(ready.flatMap((node) => node.members));
    const ending: { node: PlanNode; ok: string[] }[] = [];
    for (const node of ready) {
      const ok: string[] = [];
      for (const member of node.members) {
        if (member === scenario.cancelAt) {
          stopTick = tick;
          stoppedAt = { stepId: member, by: 'cancel' };
        } else if (member === scenario.failAt) {
          stopTick = tick;
          stoppedAt = { stepId: member, by: 'failure' };
          failedJob = member;
        } else {
          ok.push(member);
        }
      }
      ending.push({ node, ok });
    }
    for (const { node, ok } of ending) {
      const cancelledHere = stoppedAt?.by === 'cancel' && stopTick === tick;
      if (cancelledHere) {
        // Every job running when the process is cancelled is cancelled.
        cancelled.push(...node.members.filter((m) => m !== stoppedAt?.stepId));
        continue;
      }
      succeeded.push(...ok);
      if (ok.length) units.push(ok);
      for (const member of ok) ended(member, tick + 1);
      const needed = groupNeeds(node);
      if (ok.length >= needed) {
        ended(node.id, tick + 1);
        if (node.pivot && pivotPassedAt === undefined) pivotPassedAt = tick + 1;
        if (node.group && ok.length < node.members.length && node.succeedWhen !== 'all') {
          notes.push(
            `group ${node.id} succeeds with ${ok.length} of ${node.members.length} members (${String(node.succeedWhen)})`
          );
          // A failed member does not fail a group whose policy is met.
          if (failedJob !== undefined && node.members.includes(failedJob) && stopTick === tick) {
            stopTick = undefined;
            stoppedAt = undefined;
            failedJob = undefined;
          }
        }
      }
    }
  }
  const startedIds = new Set(forward.flat());
  const notRun = plan.jobs.map((job) => job.stepId).filter((id) => !startedIds.has(id));

  /** The preview of a run that unwinds nothing: it succeeded, stopped past the pivot, or stopped on a failure it does not revert on. */
  const nothingUnwound = (status: PlanPreview['status'], stoppedPastPivot: boolean): PlanPreview => ({
    forward,
    succeeded,
    ...(stoppedAt ? { stoppedAt } : {}),
    cancelled,
    notRun,
    reverts: [],
    revertOrder: [],
    status,
    stoppedPastPivot,
    notes,
  });
  if (!stoppedAt) return nothingUnwound('succeeded', false);
  const stopped = jobs.get(stoppedAt.stepId) as PlannedJob;
  const pastPivot = pivotPassedAt !== undefined && pivotPassedAt <= (stopTick as number);
  if (pastPivot) {
    const afterPivot = stopped.options.afterPivot ?? (settings.onRevertFailure === 'park' ? 'park' : 'fail');
    notes.push(
      `the pivot has succeeded: nothing is unwound (afterPivot: ${typeof afterPivot === 'string' ? afterPivot : `recover with ${afterPivot.recover.job}`})`
    );
    const status =
      stoppedAt.by === 'cancel'
        ? 'cancelled'
        : afterPivot === 'park'
          ? 'parked'
          : afterPivot === 'fail'
            ? 'failed'
            : 'succeeded';
    return nothingUnwound(status, true);
  }
  const failureClass = stoppedAt.by === 'cancel' ? 'cancel' : 'business';
  const revertOn = stopped.options.revertOn;
  if (revertOn && !revertOn.includes(failureClass)) {
    const otherwise = stopped.options.otherwise ?? 'fail';
    notes.push(
      `a ${failureClass} failure of ${stopped.stepId} is not in its revertOn: ${otherwise === 'park' ? 'the process parks' : 'nothing is unwound'}`
    );
    return nothingUnwound(otherwise === 'park' ? 'parked' : stoppedAt.by === 'cancel' ? 'cancelled' : 'failed', false);
  }
  // The failed (or cancelled) jobs reverted after their own failure sit on top of the stack.
  const stoppedJobs = [stoppedAt.stepId, ...cancelled];
  const revertedAfterFailure = stoppedJobs.filter((id) => jobs.get(id)?.options.revertOnFailure);
  for (const id of stoppedJobs) {
    if (jobs.get(id)?.hasProbe) notes.push(`${id} has a probe: it decides whether ${id} is reverted too`);
  }
  if (revertedAfterFailure.length) units.push(revertedAfterFailure);
  const waves = revertWaves(units, { nodes, mode: settings.revertMode ?? 'sequential' });
  let status: PlanPreview['status'] = stoppedAt.by === 'cancel' ? 'cancelled' : 'reverted';
  const reverts = waves.map((wave) =>
    wave.map((stepId): PreviewRevert => {
      const job = jobs.get(stepId) as PlannedJob;
      const afterFailure = revertedAfterFailure.includes(stepId) ? { afterFailure: true } : {};
      if (!job.hasRevert) return { stepId, action: 'skip', ...afterFailure };
      if (stepId === scenario.revertFails) {
        status = settings.onRevertFailure === 'park' ? 'parked' : 'revert_failed';
        return { stepId, action: 'revert-failed', ...afterFailure };
      }
      return { stepId, action: 'revert', ...afterFailure };
    })
  );
  return {
    forward,
    succeeded,
    stoppedAt,
    cancelled,
    notRun,
    reverts,
    revertOrder: reverts
      .flat()
      .filter((r) => r.action !== 'skip')
      .map((r) => r.stepId),
    status,
    stoppedPastPivot: false,
    notes,
  };
}

/** How many members a node needs to have succeeded. */
function groupNeeds(node: PlanNode): number {
  if (!node.group || node.succeedWhen === undefined || node.succeedWhen === 'all') return node.members.length;
  return node.succeedWhen === 'any' ? 1 : node.succeedWhen;
}
