/**
 * A process as a Mermaid flowchart (`jipper graph`): the forward path with solid edges — the graph of steps as the
 * planner makes it (`planNodes`: `needs`, `$from`, `uses`, and the list order of steps without `needs`), a parallel
 * group fanning out and back in, the pivot marked — and the revert path with dashed edges, wave by wave as an
 * unwinding runs it (`revertWaves`, the function the engine unwinds by: newest first, steps that do not depend on each
 * other side by side, `revertMode: parallel` all at once). Jobs without a revert appear on the revert path as
 * skipped. Once the pivot has succeeded nothing is unwound, so the revert path holds only the jobs that can complete
 * before it does.
 */
import type { ProcessDefinition } from '../schema/definition';
import type { PlanNode, PlannedJob } from '../shared/plan';
import { embeddedChildren } from '../shared/children';
import { planNodes } from '../shared/plan';
import { previewPlan, revertWaves } from '../shared/revert-plan';

/** A node's second line: its job, or what its wait waits for (`approval: <prompt>`, `event: <name>`). */
function jobLine(job: PlannedJob | undefined): string {
  const wait = job?.wait;
  if (!wait) return job?.job ?? '';
  return wait.kind === 'approve' ? `approval: ${wait.prompt}` : `event: ${wait.event}`;
}

/** A child definition's steps in one line: `create → (grant ∥ audit) → dns(register → notify)`. */
function childSteps(definition: ProcessDefinition | undefined): string {
  if (!definition?.steps) return 'not read';
  const nested = new Map(embeddedChildren(definition).map((c) => [c.step.id, childSteps(c.definition)]));
  const one = (id: string) => (nested.has(id) ? `${id}(${nested.get(id)})` : id);
  return definition.steps
    .map((step) => ('parallel' in step ? `(${step.parallel.map((m) => one(m.id)).join(' ∥ ')})` : one(step.id)))
    .join(' → ');
}

function label(...lines: string[]): string {
  return `"${lines.join('<br/>').replace(/"/g, '#quot;')}"`;
}

/** The forward graph between jobs: where it starts, each edge (job step ids), and the jobs nothing waits for. */
export interface ForwardEdges {
  starts: string[];
  edges: [from: string, to: string][];
  ends: string[];
}

/**
 * The edges of the forward graph, job to job: a node's members each get an edge from every job the node waits for (a
 * group it needs: every member of it), except an edge another of its needs already implies (`register` reads
 * `allocate` and needs `export`, which waits for `allocate`: no edge from `allocate`), so a plain list draws as a
 * chain. Jobs that wait for nothing start; jobs that nothing waits for end.
 */
export function forwardEdges(nodes: readonly PlanNode[]): ForwardEdges {
  const jobsOf = new Map<string, readonly string[]>();
  const nodeOfJob = new Map<string, PlanNode>();
  for (const node of nodes) {
    jobsOf.set(node.id, node.members);
    for (const member of node.members) {
      jobsOf.set(member, [member]);
      nodeOfJob.set(member, node);
    }
  }
  /** The jobs a node waits for directly. */
  const direct = (node: PlanNode) => [...new Set(node.needs.flatMap((name) => jobsOf.get(name) ?? []))];
  const ancestors = new Map<string, Set<string>>();
  /** Every job `job` waits for, directly or not. */
  const ancestorsOf = (job: string, seen = new Set<string>()): Set<string> => {
    const known = ancestors.get(job);
    if (known) return known;
    const result = new Set<string>();
    const node = nodeOfJob.get(job);
    if (!node || seen.has(job)) return result;
    seen.add(job);
    for (const before of direct(node)) {
      result.add(before);
      for (const earlier of ancestorsOf(before, seen)) result.add(earlier);
    }
    ancestors.set(job, result);
    return result;
  };
  const starts: string[] = [];
  const edges: [string, string][] = [];
  const waitedFor = new Set<string>();
  for (const node of nodes) {
    const before = direct(node);
    for (const job of before) waitedFor.add(job);
    const from = before.filter((job) => !before.some((other) => other !== job && ancestorsOf(other).has(job)));
    for (const member of node.members) {
      if (!from.length) starts.push(member);
      for (const job of from) edges.push([job, member]);
    }
  }
  const ends = nodes.flatMap((node) => node.members).filter((job) => !waitedFor.has(job));
  return { starts, edges, ends };
}

/**
 * The revert path: the waves that would unwind every job that can be reverted, had they all completed in the order
 * the forward path runs them (`previewPlan`'s waves). Once the pivot has succeeded nothing is unwound, so that is the
 * jobs that start no later than the first pivot does (those beside it included), the pivot itself left out.
 */
export function revertPath(
  definition: Pick<ProcessDefinition, 'steps' | 'options'>,
  jobs: readonly PlannedJob[],
  nodes: readonly PlanNode[]
): string[][] {
  const { forward } = previewPlan({ jobs, nodes }, definition);
  const waveOf = new Map(forward.flatMap((wave, w) => wave.map((job) => [job, w] as const)));
  const pivotWaves = nodes.filter((node) => node.pivot).flatMap((node) => node.members.map((m) => waveOf.get(m) ?? 0));
  const lastWave = pivotWaves.length ? Math.min(...pivotWaves) : Infinity;
  const units: string[][] = [];
  forward.forEach((wave, w) => {
    if (w > lastWave) return;
    for (const node of nodes) {
      if (node.pivot || !node.members.some((member) => wave.includes(member))) continue;
      units.push([...node.members]);
    }
  });
  return revertWaves(units, { nodes, mode: definition.options?.revertMode ?? 'sequential' });
}

/** The flowchart. `jobs` are the planned jobs (whether each has a revert); `nodes` the graph (default: planned). */
export function processGraph(
  definition: ProcessDefinition,
  jobs: readonly PlannedJob[],
  nodes: readonly PlanNode[] = planNodes(definition)
): string {
  const lines = ['flowchart TD', `  %% ${definition.name}: forward path solid, revert path dashed (newest first)`];
  const index = new Map(jobs.map((job, i) => [job.stepId, i]));
  const byId = new Map(jobs.map((job) => [job.stepId, job]));
  const forwardId = (stepId: string) => `j${index.get(stepId) ?? -1}`;
  const revertId = (stepId: string) => `r${index.get(stepId) ?? -1}`;
  const pivots: string[] = [];
  // A child step shows its child's steps (and theirs, nested): `create → grant`.
  const children = new Map(embeddedChildren(definition).map((c) => [c.step.id, childSteps(c.definition)]));
  lines.push(`  start([${label('start')}])`);
  definition.steps.forEach((_step, s) => {
    const node = nodes[s];
    if (!node) return;
    if (node.group) lines.push(`  subgraph g${s}[${label(`parallel: ${node.id}`)}]`);
    for (const member of node.members) {
      const job = byId.get(member);
      const pivot = node.pivot === true;
      const inside = children.get(member);
      lines.push(
        `  ${node.group ? '  ' : ''}${forwardId(member)}[${label(`${pivot ? '⚑ ' : ''}${member}`, jobLine(job), ...(inside ? [inside] : []), ...(pivot ? ['pivot: no way back'] : []))}]`
      );
      if (pivot) pivots.push(forwardId(member));
    }
    if (node.group) lines.push('  end');
  });
  lines.push(`  done([${label('succeeded')}])`);
  const { starts, edges, ends } = forwardEdges(nodes);
  lines.push(
    ...starts.map((job) => `  start --> ${forwardId(job)}`),
    ...edges.map(([from, to]) => `  ${forwardId(from)} --> ${forwardId(to)}`),
    ...ends.map((job) => `  ${forwardId(job)} --> done`)
  );

  const skipped: string[] = [];
  // Within a wave, in definition order (the jobs of a wave are reverted side by side).
  const waves = revertPath(definition, jobs, nodes).map((wave) =>
    [...wave].sort((a, b) => (index.get(a) ?? 0) - (index.get(b) ?? 0))
  );
  if (waves.length) {
    const trigger = pivots.length ? 'a job before the pivot fails, or cancel' : 'a job fails, or cancel';
    lines.push(`  failure{{${label(trigger)}}}`);
    for (const stepId of waves.flat()) {
      const job = byId.get(stepId);
      const hasRevert = job?.hasRevert ?? false;
      if (!hasRevert) skipped.push(revertId(stepId));
      lines.push(
        `  ${revertId(stepId)}[${label(hasRevert ? `revert ${stepId}` : `skip ${stepId}`, hasRevert ? (job?.job ?? '') : 'no revert')}]`
      );
    }
    lines.push(`  reverted([${label('reverted')}])`);
    const chain = [['failure'], ...waves.map((wave) => wave.map(revertId)), ['reverted']];
    for (let i = 1; i < chain.length; i++) {
      for (const from of chain[i - 1] as string[])
        for (const to of chain[i] as string[]) lines.push(`  ${from} -.-> ${to}`);
    }
  }

  lines.push('  classDef pivot stroke:#b45309,stroke-width:3px');
  lines.push('  classDef skipped stroke-dasharray:4 4,color:#888');
  if (pivots.length) lines.push(`  class ${pivots.join(',')} pivot`);
  if (skipped.length) lines.push(`  class ${skipped.join(',')} skipped`);
  return lines.join('\n');
}
