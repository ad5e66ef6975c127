/**
 * The simulated tree of a process with child steps (see `simulateTree` in src/core/children.ts): each child planned
 * from the facts its parent's plan carries, with its own options. Pure and zod-free.
 */
import type { SimTree } from '../core';
import { childDefinition, embeddedChildren } from './children';
import type { JobFacts, PlanNode, PlannedJob } from './plan';
import { planFromFacts, planNodes } from './plan';
import type { ProcessDefinition } from '../schema/definition';

/**
 * The tree of a planned definition, or undefined when it has no child steps (or a child cannot be planned from the
 * facts at hand: the preview then treats the child step as one job).
 */
export function childTree(
  plan: { jobs: readonly PlannedJob[]; nodes?: readonly PlanNode[]; facts?: Record<string, JobFacts> },
  definition: Pick<ProcessDefinition, 'steps'>,
  settings: SimTree['settings']
): SimTree | undefined {
  const found = embeddedChildren(definition);
  if (!found.length) return undefined;
  const children: Record<string, SimTree> = {};
  for (const { step } of found) {
    const child = childDefinition(step);
    if (!child?.steps) return undefined;
    const childPlan = planFromFacts(child, {}, plan.facts ?? {});
    if (childPlan.problems.length) return undefined;
    const options = child.options ?? {};
    const sub = childTree(childPlan, child, options) ?? {
      nodes: childPlan.nodes ?? planNodes(child),
      jobs: childPlan.jobs,
      settings: options,
      children: {},
    };
    children[step.id] = sub;
  }
  return { nodes: plan.nodes ?? planNodes(definition), jobs: plan.jobs, settings, children };
}

/** Every job of a tree by its path (`account`, `db/create`, `db/grant`), in definition order; child steps expanded. */
export function treeJobPaths(tree: SimTree, prefix = ''): string[] {
  return tree.jobs.flatMap((job) => {
    const child = Object.hasOwn(tree.children, job.stepId) ? tree.children[job.stepId] : undefined;
    return child ? treeJobPaths(child, `${prefix}${job.stepId}/`) : [`${prefix}${job.stepId}`];
  });
}

/** The jobs a preview may name: their step ids, or with child steps, their paths (see {@link treeJobPaths}). */
export function previewJobIds(
  plan: { jobs: readonly PlannedJob[]; nodes?: readonly PlanNode[]; facts?: Record<string, JobFacts> },
  definition: Pick<ProcessDefinition, 'steps'>
): string[] {
  const tree = childTree(plan, definition, {});
  return tree ? treeJobPaths(tree) : plan.jobs.map((job) => job.stepId);
}
