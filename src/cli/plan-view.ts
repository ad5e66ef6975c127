/**
 * The revert-plan preview (`jipper plan`) for people: the forward path wave by wave, and for a failure or a
 * cancellation at a step — or, without one, for a failure at every step — what would run, what would never start, and
 * what would be reverted in which order, as text or as a Mermaid flowchart. The preview itself is
 * `previewPlan` (src/shared/revert-plan.ts), the function the engine's semantics are tested against.
 */
import type { ProcessDefinition } from '../schema/definition';
import type { Plan, PlannedJob } from '../shared/plan';
import { planNodes } from '../shared/plan';
import { forwardEdges } from './graph';
import type { PlanPreview, PreviewScenario, PreviewSettings } from '../shared/revert-plan';
import { previewPlan } from '../shared/revert-plan';
import { previewJobIds } from '../shared/child-plans';

/** A preview, with the scenario it is for. */
export interface ScenarioPreview extends PlanPreview {
  scenario: PreviewScenario;
}

export interface PlanView {
  name: string;
  settings: Required<PreviewSettings>;
  /** The steps as they start when every job succeeds: each wave starts together. */
  forward: string[][];
  /** One preview per scenario asked for; without one, a failure at every job in turn. */
  previews: ScenarioPreview[];
}

/** The previews for `scenario`, or, when it names no step, for a failure at every job in definition order. */
export function planView(definition: ProcessDefinition, plan: Plan, scenario: PreviewScenario): PlanView {
  const settings: Required<PreviewSettings> = {
    revertMode: definition.options?.revertMode ?? 'sequential',
    onRevertFailure: definition.options?.onRevertFailure ?? 'continue',
  };
  const preview = (s: PreviewScenario): ScenarioPreview => ({
    scenario: s,
    ...previewPlan(plan, definition, settings, s),
  });
  const asked = scenario.failAt !== undefined || scenario.cancelAt !== undefined || scenario.timeoutAt !== undefined;
  const previews = asked
    ? [preview(scenario)]
    : previewJobIds(plan, definition).map((id) => preview({ ...scenario, failAt: id }));
  return { name: definition.name, settings, forward: preview({}).forward, previews };
}

function jobLabel(job: PlannedJob | undefined, stepId: string): string {
  if (!job) return stepId;
  const marks = [job.pivot ? '⚑ pivot' : '', job.hasRevert ? '' : 'no revert'].filter(Boolean);
  return marks.length ? `${stepId} (${marks.join(', ')})` : stepId;
}

function revertText(preview: PlanPreview): string {
  if (!preview.reverts.length) {
    return preview.stoppedPastPivot ? 'nothing is unwound (past the pivot)' : 'nothing to revert';
  }
  return preview.reverts
    .map((wave) =>
      wave
        .map(
          (r) =>
            `${r.stepId}${r.action === 'skip' ? ' (no revert)' : r.action === 'revert-failed' ? ' (revert fails)' : ''}`
        )
        .join(' ∥ ')
    )
    .join(' → ');
}

function scenarioTitle(scenario: PreviewScenario): string {
  const parts = [
    scenario.failAt !== undefined ? `${scenario.failAt} fails` : '',
    scenario.cancelAt !== undefined ? `the process is cancelled during ${scenario.cancelAt}` : '',
    scenario.revertFails !== undefined ? `the revert of ${scenario.revertFails} fails` : '',
    scenario.timeoutAt !== undefined ? `the wait ${scenario.timeoutAt} expires` : '',
  ].filter(Boolean);
  return parts.length ? `if ${parts.join(', and ')}` : 'if every job succeeds';
}

/** The preview as text: the forward waves, then each scenario (in full for one, a line each for all). */
export function planText(view: PlanView, jobs: readonly PlannedJob[]): string {
  const byId = new Map(jobs.map((job) => [job.stepId, job]));
  const lines = [
    `${view.name}: ${jobs.length} ${jobs.length === 1 ? 'job' : 'jobs'} · reverts ${view.settings.revertMode} · a revert that fails: ${view.settings.onRevertFailure}`,
    'forward (a line per wave; jobs on one line start together):',
    ...view.forward.map((wave, i) => `  ${i + 1}  ${wave.map((id) => jobLabel(byId.get(id), id)).join(' ∥ ')}`),
  ];
  if (view.previews.length === 1) {
    const [p] = view.previews as [ScenarioPreview];
    lines.push(`${scenarioTitle(p.scenario)}:`);
    if (p.succeeded.length) lines.push(`  succeed first: ${p.succeeded.join(', ')}`);
    if (p.cancelled.length) lines.push(`  cancelled with it: ${p.cancelled.join(', ')}`);
    if (p.notRun.length) lines.push(`  never start: ${p.notRun.join(', ')}`);
    if (p.reverts.length) {
      lines.push('  reverted (a line per wave, newest first; jobs on one line side by side):');
      p.reverts.forEach((wave, i) =>
        lines.push(
          `    ${i + 1}  ${wave.map((r) => `${r.stepId}${r.action === 'skip' ? ' (no revert: skipped)' : r.action === 'revert-failed' ? ' (its revert fails)' : ''}${r.afterFailure ? ' (after its own failure)' : ''}`).join(' ∥ ')}`
        )
      );
    } else {
      lines.push(`  ${revertText(p)}`);
    }
    lines.push(`  ends: ${p.status}`);
    for (const note of p.notes) lines.push(`  note: ${note}`);
    return lines.join('\n');
  }
  lines.push('a failure at each job (reverted newest first; ∥ side by side):');
  const width = Math.max(...view.previews.map((p) => (p.scenario.failAt ?? '').length));
  for (const p of view.previews) {
    const notes = p.notes.length ? ` (${p.notes.join('; ')})` : '';
    lines.push(`  ${(p.scenario.failAt ?? '').padEnd(width)}  ${revertText(p)} · ends ${p.status}${notes}`);
  }
  return lines.join('\n');
}

/** A Mermaid node id for a step. */
const nodeId = (prefix: string, index: number) => `${prefix}${index}`;
const label = (...lines: string[]) => `"${lines.join('<br/>').replace(/"/g, '#quot;')}"`;

/**
 * The preview as a Mermaid flowchart: the forward graph (solid), and for one scenario the job that stops the process
 * (red), the jobs that never start (grey), and the reverts wave by wave (dashed, newest first).
 */
export function planMermaid(view: PlanView, definition: ProcessDefinition, jobs: readonly PlannedJob[]): string {
  const preview = view.previews.length === 1 ? view.previews[0] : undefined;
  const title = preview ? scenarioTitle(preview.scenario) : 'every job succeeds';
  const lines = ['flowchart TD', `  %% ${view.name}: ${title}`, '  start([start])'];
  const index = new Map(jobs.map((job, i) => [job.stepId, i]));
  const byId = new Map(jobs.map((job) => [job.stepId, job]));
  const forwardId = (stepId: string) => nodeId('j', index.get(stepId) ?? -1);
  for (const job of jobs) {
    lines.push(`  ${forwardId(job.stepId)}[${label(job.pivot ? `⚑ ${job.stepId}` : job.stepId, job.job)}]`);
  }
  const { starts, edges, ends: last } = forwardEdges(planNodes(definition));
  for (const job of starts) lines.push(`  start --> ${forwardId(job)}`);
  for (const [from, to] of edges) lines.push(`  ${forwardId(from)} --> ${forwardId(to)}`);
  if (!preview || preview.status === 'succeeded') {
    lines.push('  done([succeeded])');
    for (const job of last) lines.push(`  ${forwardId(job)} --> done`);
  }
  if (preview) {
    const ends = `ended([${preview.status}])`;
    const waves = preview.reverts.map((wave, w) =>
      wave.map((r, i) => {
        const id = `r${w}_${i}`;
        const what = r.action === 'skip' ? 'no revert' : r.action === 'revert-failed' ? 'revert fails' : 'revert';
        lines.push(`  ${id}[${label(`${what} ${r.stepId}`, byId.get(r.stepId)?.job ?? '')}]`);
        return id;
      })
    );
    const stop = preview.stoppedAt;
    let previous = stop ? [forwardId(stop.stepId)] : [];
    for (const wave of waves) {
      for (const from of previous) for (const to of wave) lines.push(`  ${from} -.-> ${to}`);
      previous = wave;
    }
    if (stop) {
      lines.push(`  ${ends}`);
      for (const from of previous) lines.push(`  ${from} -.-> ended`);
    }
    lines.push('  classDef stopped fill:#fdd,stroke:#c00', '  classDef notrun fill:#eee,stroke:#999,color:#999');
    lines.push('  classDef revert stroke-dasharray:4 3');
    if (stop) lines.push(`  class ${forwardId(stop.stepId)} stopped`);
    if (preview.cancelled.length) lines.push(`  class ${preview.cancelled.map(forwardId).join(',')} stopped`);
    if (preview.notRun.length) lines.push(`  class ${preview.notRun.map(forwardId).join(',')} notrun`);
    if (waves.flat().length) lines.push(`  class ${waves.flat().join(',')} revert`);
  }
  return lines.join('\n');
}
