/**
 * Child processes in the simulation: a tree of simulated processes, where a child step of a parent is a job of the
 * parent whose revert is the child's own unwind. `simulateTree` runs the core's `simulate` at each level and expands
 * the children: a failure (or cancellation, or a failed revert) inside a child is named by its path, `db/grant`
 * (the child step's id, then the step inside the child, and so on for grandchildren); the child unwinds itself first,
 * then its parent; a child that succeeded and is reverted by its parent has its own unwind put at its place in the
 * parent's waves (its jobs' ids prefixed with the child step's: `db/grant`). `jipper plan --fail-at db/grant` reads it.
 */
import type { PlanNode } from '../shared/plan';
import type { SimJob, SimRevert, SimRun, SimScenario, SimSettings } from './simulate';
import { simulate } from './simulate';
import { revertAction, revertWaves } from './unwinding';

/** A simulated process and its children, by the step id that runs each. */
export interface SimTree {
  nodes: readonly PlanNode[];
  jobs: readonly SimJob[];
  settings: SimSettings;
  children: Readonly<Record<string, SimTree>>;
}

/** A scenario whose step ids may be paths into children (`db/grant`). */
export type TreeScenario = Omit<SimScenario, 'deadlineAt'>;

const SEPARATOR = '/';

/** Whether `path` (`db/grant`, or a plain step id) names a job of the tree. */
export function treeHasJob(tree: SimTree, path: string): boolean {
  const found = intoChild(tree, path);
  if (found) return treeHasJob(tree.children[found.child] as SimTree, found.rest);
  return tree.jobs.some((job) => job.stepId === path);
}

/** Splits `db/grant` into the child step `db` and the rest, when `db` is a child of `tree`. */
function intoChild(tree: SimTree, path: string | undefined): { child: string; rest: string } | undefined {
  if (path === undefined) return undefined;
  const at = path.indexOf(SEPARATOR);
  if (at < 0) return undefined;
  const child = path.slice(0, at);
  return Object.hasOwn(tree.children, child) ? { child, rest: path.slice(at + 1) } : undefined;
}

/** The part of a scenario that concerns the child `child`. */
function childScenario(tree: SimTree, scenario: TreeScenario, child: string): TreeScenario {
  const inner = (path: string | undefined) => {
    const found = intoChild(tree, path);
    return found?.child === child ? found.rest : undefined;
  };
  const failAt = (scenario.failAt ?? []).flatMap((p) => inner(p) ?? []);
  const cancelAt = inner(scenario.cancelAt);
  const revertFails = (scenario.revertFails ?? []).flatMap((p) => inner(p) ?? []);
  return {
    ...(failAt.length ? { failAt } : {}),
    ...(cancelAt !== undefined ? { cancelAt } : {}),
    ...(revertFails.length ? { revertFails } : {}),
  };
}

/** The scenario at this level: a path into a child becomes the child step itself (failing, or cancelled while it runs). */
function ownScenario(tree: SimTree, scenario: TreeScenario): SimScenario {
  const own = (path: string) => intoChild(tree, path)?.child ?? path;
  return {
    ...(scenario.failAt ? { failAt: scenario.failAt.map(own) } : {}),
    ...(scenario.cancelAt !== undefined ? { cancelAt: own(scenario.cancelAt) } : {}),
    // A failed revert inside a child is the child's: the child step's own revert fails with it.
    ...(scenario.revertFails ? { revertFails: scenario.revertFails.map(own) } : {}),
    ...(scenario.probe ? { probe: scenario.probe } : {}),
  };
}

const prefixed = (prefix: string, waves: readonly SimRevert[][]): SimRevert[][] =>
  waves.map((wave) => wave.map((r) => ({ ...r, stepId: `${prefix}${SEPARATOR}${r.stepId}` })));

/** A child's own unwind of everything it did (it succeeded; its parent unwinds past it), children expanded. */
function fullUnwind(tree: SimTree, scenario: TreeScenario): SimRevert[][] {
  const run = simulate(tree.nodes, tree.jobs, tree.settings, {});
  const byId = new Map(tree.jobs.map((job) => [job.stepId, job]));
  const waves = revertWaves(run.units, { nodes: tree.nodes, mode: tree.settings.revertMode ?? 'sequential' });
  const reverts = waves.map((wave) =>
    wave.map((stepId): SimRevert => {
      const job = byId.get(stepId) as SimJob;
      if (revertAction(job) === 'skip') return { stepId, action: 'skip' };
      return { stepId, action: scenario.revertFails?.includes(stepId) ? 'revert-failed' : 'revert' };
    })
  );
  return expandReverts(tree, reverts, scenario);
}

/** Puts each reverted child's own unwind at its place in the waves (after the rest of its wave). */
function expandReverts(tree: SimTree, waves: readonly SimRevert[][], scenario: TreeScenario): SimRevert[][] {
  const out: SimRevert[][] = [];
  for (const wave of waves) {
    const kids = wave.filter((r) => r.action !== 'skip' && !r.afterFailure && Object.hasOwn(tree.children, r.stepId));
    const others = wave.filter((r) => !kids.includes(r));
    if (others.length) out.push(others);
    for (const kid of kids) {
      const child = tree.children[kid.stepId] as SimTree;
      out.push(...prefixed(kid.stepId, fullUnwind(child, childScenario(tree, scenario, kid.stepId))));
    }
  }
  return out;
}

/**
 * Simulates a process tree for a scenario whose ids may be paths into children. The run is the top level's, with its
 * children expanded: a child that stopped the process adds its own run's successes and unwind (ids prefixed, first);
 * a child reverted by its parent adds its own unwind at its place.
 */
export function simulateTree(tree: SimTree, scenario: TreeScenario = {}): SimRun {
  const run = simulate(tree.nodes, tree.jobs, tree.settings, ownScenario(tree, scenario));
  const stopper = run.stoppedAt?.stepId;
  const first: SimRevert[][] = [];
  if (stopper !== undefined && Object.hasOwn(tree.children, stopper)) {
    const child = tree.children[stopper] as SimTree;
    const inner = simulateTree(child, childScenario(tree, scenario, stopper));
    run.succeeded = [...run.succeeded, ...inner.succeeded.map((id) => `${stopper}${SEPARATOR}${id}`)];
    first.push(...prefixed(stopper, inner.reverts));
    if (inner.stoppedPastPivot) run.notes.push(`child ${stopper} stopped past its pivot: nothing in it is unwound`);
  }
  // A child that succeeded: its jobs follow it in the list of successes.
  run.succeeded = run.succeeded.flatMap((id) =>
    Object.hasOwn(tree.children, id)
      ? [id, ...simulateTree(tree.children[id] as SimTree).succeeded.map((j) => `${id}${SEPARATOR}${j}`)]
      : [id]
  );
  run.reverts = [...first, ...expandReverts(tree, run.reverts, scenario)];
  return run;
}
