/**
 * A process as a Mermaid flowchart (`jipper graph`): the forward path with solid edges (a parallel group fans out and
 * back in, the pivot is marked), and the revert path with dashed edges, newest step first, as an unwinding runs it.
 * Jobs without a revert appear on the revert path as skipped. Steps after the pivot are never unwound, so the revert
 * path holds only the steps before it.
 */
import type { ProcessDefinition } from '../schema/definition';
import { isGroupStep, stepJobs } from '../shared/steps';

function label(...lines: string[]): string {
  return `"${lines.join('<br/>').replace(/"/g, '#quot;')}"`;
}

/** Edges from every node of one layer to every node of the next: a chain, fanning out and in around groups. */
function chain(layers: string[][], arrow: string): string[] {
  const edges: string[] = [];
  for (let i = 1; i < layers.length; i++) {
    for (const from of layers[i - 1] as string[])
      for (const to of layers[i] as string[]) edges.push(`  ${from} ${arrow} ${to}`);
  }
  return edges;
}

export function processGraph(definition: ProcessDefinition, hasRevert: (job: string) => boolean): string {
  const lines = ['flowchart TD', `  %% ${definition.name}: forward path solid, revert path dashed (newest first)`];
  const classes = { pivot: [] as string[], skipped: [] as string[] };
  const forward: string[][] = [['start']];
  const reverse: string[][] = [];
  const pivotAt = definition.steps.findIndex((step) => step.pivot === true);
  let index = 0;
  lines.push(`  start([${label('start')}])`);
  definition.steps.forEach((step, s) => {
    const group = isGroupStep(step);
    const layer: string[] = [];
    const revertLayer: string[] = [];
    if (group) lines.push(`  subgraph g${s}[${label(`parallel: ${step.id ?? 'group'}`)}]`);
    for (const job of stepJobs(step)) {
      const id = `j${index}`;
      const revertId = `r${index}`;
      index++;
      const pivot = step.pivot === true;
      lines.push(
        `  ${group ? '  ' : ''}${id}[${label(`${pivot ? '⚑ ' : ''}${job.id}`, job.job, ...(pivot ? ['pivot: no way back'] : []))}]`
      );
      if (pivot) classes.pivot.push(id);
      layer.push(id);
      if (pivotAt >= 0 && s >= pivotAt) continue;
      revertLayer.push(revertId);
      if (!hasRevert(job.job)) classes.skipped.push(revertId);
    }
    if (group) lines.push('  end');
    forward.push(layer);
    if (revertLayer.length) reverse.unshift(revertLayer);
  });
  lines.push(`  done([${label('succeeded')}])`);
  forward.push(['done']);
  lines.push(...chain(forward, '-->'));

  if (reverse.length) {
    const byRevertId = new Map(definition.steps.flatMap(stepJobs).map((job, i) => [`r${i}`, job]));
    const trigger = pivotAt >= 0 ? 'a job before the pivot fails, or cancel' : 'a job fails, or cancel';
    lines.push(`  failure{{${label(trigger)}}}`);
    for (const id of reverse.flat()) {
      const job = byRevertId.get(id);
      if (!job) continue;
      const skipped = classes.skipped.includes(id);
      lines.push(`  ${id}[${label(skipped ? `skip ${job.id}` : `revert ${job.id}`, skipped ? 'no revert' : job.job)}]`);
    }
    lines.push(`  reverted([${label('reverted')}])`);
    lines.push(...chain([['failure'], ...reverse, ['reverted']], '-.->'));
  }

  lines.push('  classDef pivot stroke:#b45309,stroke-width:3px');
  lines.push('  classDef skipped stroke-dasharray:4 4,color:#888');
  if (classes.pivot.length) lines.push(`  class ${classes.pivot.join(',')} pivot`);
  if (classes.skipped.length) lines.push(`  class ${classes.skipped.join(',')} skipped`);
  return lines.join('\n');
}
