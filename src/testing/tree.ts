/**
 * The failure matrix inside child processes (see docs/sub-processes.md): the jobs of a process tree by their paths
 * (`db/grant`, as `jipper plan --fail-at` takes them), the run failure that makes such a job's revert run, and a
 * report read as one tree — child rows by path, a child step in the revert order replaced by its child's own reverts —
 * so a case compares it with the prediction of `simulateTree` as it does for top-level jobs.
 */
import type { SimTree } from '../core';
import { childTree } from '../shared/child-plans';
import { embeddedChildren, flatTree } from '../shared/children';
import type { ProcessDefinition } from '../schema/definition';
import type { PlannedJob } from '../shared/plan';
import type { ProcessReport } from '../shared/report';
import { previewPlan } from '../shared/revert-plan';
import type { ExpectedOutcome, ProcessModel } from './outcome';

/** One job of a tree: its path and the planned job (its name, whether it has a revert). */
export interface TreeJob {
  path: string;
  job: PlannedJob;
}

function walk(tree: SimTree, prefix: string): TreeJob[] {
  return (tree.jobs as readonly PlannedJob[]).flatMap((job) => {
    const child = Object.hasOwn(tree.children, job.stepId) ? tree.children[job.stepId] : undefined;
    return child ? walk(child, `${prefix}${job.stepId}/`) : [{ path: `${prefix}${job.stepId}`, job }];
  });
}

/** The model's jobs, child steps expanded into their children's jobs by path, in definition order. */
export function treeJobs(model: ProcessModel): TreeJob[] {
  const tree = childTree(model.plan, model.definition, model.definition.options ?? {});
  return tree ? walk(tree, '') : model.plan.jobs.map((job) => ({ path: job.stepId, job }));
}

/** The latest job (by path, in definition order) whose failure makes the revert of `path` run; none when none does. */
export function treeRevertTrigger(model: ProcessModel, path: string): string | undefined {
  const jobs = treeJobs(model);
  if (!jobs.find((j) => j.path === path)?.job.hasRevert) return undefined;
  // A wait is no trigger: nothing can make it fail but a decision, and the kit injects failures into jobs.
  for (const candidate of [...jobs].reverse().filter((j) => j.job.wait === undefined)) {
    const run = previewPlan(model.plan, model.definition, model.definition.options ?? {}, { failAt: candidate.path });
    if (run.reverts.flat().some((r) => r.stepId === path && r.action === 'revert')) return candidate.path;
  }
  return undefined;
}

/** The reverts of a report, each child step's replaced by its child's own (by path), down to grandchildren. */
function treeRevertOrder(report: ProcessReport, prefix = ''): string[] {
  const rows = new Map(report.jobs.map((row) => [row.stepId, row]));
  const expand = (stepId: string): string[] => {
    const child = rows.get(stepId)?.child?.report;
    return child ? treeRevertOrder(child, `${prefix}${stepId}/`) : [`${prefix}${stepId}`];
  };
  // A child that failed unwound itself before its parent unwound anything.
  const failed = report.jobs.filter((row) => row.status === 'failed' && row.child?.report);
  const first = failed.flatMap((row) => (report.revertOrder.includes(row.stepId) ? [] : expand(row.stepId)));
  return [...first, ...report.revertOrder.flatMap(expand)];
}

/** The report as one tree: child rows by path (`flatTree`), and the revert order of every level, by path. */
export function treeReport(report: ProcessReport): ProcessReport {
  if (!report.jobs.some((row) => row.child?.report)) return report;
  return { ...flatTree(report), revertOrder: treeRevertOrder(report) };
}

/**
 * The path of the job a call ran in a process tree, relative to `root`: a call of step `grant` in the child
 * `<root>/db` (or in its unwind `<root>/db/revert`) is `db/grant`; undefined when the call is not under `root`.
 */
export function pathUnder(root: string, processId: string, stepId: string): string | undefined {
  if (processId === root) return stepId;
  if (!processId.startsWith(`${root}/`)) return undefined;
  const levels = processId
    .slice(root.length + 1)
    .split('/')
    .filter((part) => !/^revert(-\d+)?$/.test(part));
  return [...levels, stepId].join('/');
}

/** The ids that are jobs, not child steps: a child step (`db`) is left out when a path inside it (`db/x`) is there. */
export function jobsOnly(ids: readonly string[]): string[] {
  return ids.filter((id) => !ids.some((other) => other.startsWith(`${id}/`)));
}

/** `db` and `db/sub` for `db/sub/grant`: the child steps a path runs inside. */
const ancestors = (path: string): string[] =>
  path
    .split('/')
    .slice(0, -1)
    .map((_, i, parts) => parts.slice(0, i + 1).join('/'));

/**
 * The rows of the child steps whose children's jobs are reverted (a child that succeeded, unwound by its parent):
 * `reverted`, or `revert_failed` and needing a person when a revert inside failed and the unwind went on. A child
 * step that failed keeps its row.
 */
export function markChildSteps(
  jobs: ExpectedOutcome['jobs'],
  needsAttention: string[],
  reverts: readonly { stepId: string; action: string }[][],
  continueOnFailure: boolean
): void {
  for (const item of reverts.flat()) {
    if (item.action === 'skip') continue;
    for (const id of ancestors(item.stepId)) {
      const row = (jobs[id] ??= { status: 'succeeded' });
      if (row.status === 'failed') continue;
      if (item.action === 'revert-failed' && continueOnFailure) {
        row.status = 'revert_failed';
        if (!needsAttention.includes(id)) needsAttention.push(id);
      } else if (row.status !== 'revert_failed') row.status = 'reverted';
    }
  }
}

/** Keys whose values are data or names, never a policy. */
const NOT_POLICIES = new Set(['args', 'params', 'outputs', 'id', 'job', 'name', 'needs', 'description', 'tokens']);

/** Whether a definition sets `park` anywhere but in its data and names (a policy that may park). */
function mayPark(value: unknown, key = ''): boolean {
  if (NOT_POLICIES.has(key)) return false;
  if (value === 'park') return true;
  if (Array.isArray(value)) return value.some((item) => mayPark(item));
  if (typeof value === 'object' && value !== null) return Object.entries(value).some(([k, v]) => mayPark(v, k));
  return false;
}

/**
 * The path of a child step (`db`, `db/dns`) whose child may park, which the matrix's cases do not cover (the case's
 * expectation does not include an operator's decision inside a child); undefined when none may.
 */
export function parkingChild(definition: Pick<ProcessDefinition, 'steps'>, prefix = ''): string | undefined {
  for (const { step, definition: child } of embeddedChildren(definition)) {
    if (!child) continue;
    const path = `${prefix}${step.id}`;
    const { steps, ...rest } = child;
    if (mayPark(rest) || mayPark(steps)) return path;
    const inner = parkingChild(child, `${path}/`);
    if (inner !== undefined) return inner;
  }
  return undefined;
}
