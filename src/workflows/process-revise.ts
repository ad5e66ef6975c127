/**
 * An operator's revision of the steps not yet started: a validated update (the history records each). The validator
 * plans the revision and refuses it when it cannot be made (a started step changed, a problem in the new steps);
 * nothing changes then.
 */
import { setHandler } from '@temporalio/workflow';
import { inputShapeProblems } from '../shared/input-shape';
import type { Plan } from '../shared/plan';
import { factsOf, formatProblems, paramProblems, planFromFacts, planNodes, planRows } from '../shared/plan';
import { canonicalJson, isRecord } from '../shared/text';
import { nowIso } from './clock';
import type { Engine } from './engine';
import type { ReviseRequest } from './messages';
import { reviseUpdate } from './messages';
import type { Forward } from './process-forward';
import type { ProcessContext } from './process-input';

/** Installs the revise update's handler. */
export function handleRevisions(ctx: ProcessContext, engine: Engine, forward: Forward): void {
  setHandler(
    reviseUpdate,
    (request) => {
      const { plan, state } = ctx;
      const revised = planRevision(ctx, forward, request);
      const before = new Set(plan.jobs.map((job) => job.stepId));
      const after = new Set(revised.jobs.map((job) => job.stepId));
      const added = [...after].filter((id) => !before.has(id));
      const removed = [...before].filter((id) => !after.has(id));
      for (const id of removed) engine.unplan(id);
      ctx.definition.steps = request.steps;
      Object.assign(plan, { jobs: revised.jobs, nodes: revised.nodes });
      forward.nodes = revised.nodes ?? planNodes(ctx.definition);
      forward.mapSteps();
      engine.register(revised.jobs, revised.nodes);
      for (const job of revised.jobs) if (added.includes(job.stepId)) engine.plan(job);
      // Rows in the revised definition's order.
      const order = new Map(planRows(ctx.definition).map((row, i) => [row.stepId, i]));
      state.report.jobs.sort((a, b) => (order.get(a.stepId) ?? 0) - (order.get(b.stepId) ?? 0));
      (state.report.revisions ??= []).push({
        at: nowIso(),
        ...(request.reason ? { reason: request.reason } : {}),
        added,
        removed,
      });
      engine.publish();
      forward.nudge();
      return { added, removed };
    },
    { validator: (request: ReviseRequest) => void planRevision(ctx, forward, request) }
  );
}

/** Plans a revision, or throws why it cannot be made (the update's validator: nothing changes then). */
function planRevision(ctx: ProcessContext, forward: Forward, request: ReviseRequest): Plan {
  const { definition, plan, workflowId } = ctx;
  const status = ctx.state.report.status;
  if (status !== 'running' && status !== 'paused') {
    throw new Error(`process ${workflowId} is ${status}: only a process going forward can be revised`);
  }
  if (!isRecord(request) || !Array.isArray(request.steps)) throw new Error('a revision needs the new list of steps');
  const revisedDefinition = { ...definition, steps: request.steps };
  const shapeProblems = inputShapeProblems({ definition: revisedDefinition });
  if (shapeProblems.length) throw new Error(`the revised steps are malformed: ${formatProblems(shapeProblems)}`);
  // The run's own parameters (a continued run's input carries none: they are in its plan).
  const revised = planFromFacts(revisedDefinition, plan.params, { ...factsOf(plan), ...(request.jobs ?? {}) });
  const problems = [...revised.problems, ...paramProblems(revisedDefinition, revised.params)];
  const revisedNodes = revised.nodes ?? [];
  for (const node of forward.nodes) {
    if (!forward.started.has(node.id)) continue;
    const i = revisedNodes.findIndex((n) => n.id === node.id);
    // Compared by meaning: the same keys in another order are the same step.
    const now = canonicalJson(revisedDefinition.steps[i]);
    if (i < 0 || now !== canonicalJson(forward.stepOf.get(node.id))) {
      problems.push({ path: `steps`, message: `step "${node.id}" has started: it must stay as it is` });
    }
  }
  if (problems.length) throw new Error(`the revision is refused: ${formatProblems(problems)}`);
  return revised;
}
