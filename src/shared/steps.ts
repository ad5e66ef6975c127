/** Pure helpers over a definition's steps. Zod-free, so workflow code can import them without the schema library. */
import type { GroupStep, JobStep, ProcessDefinition, Step } from '../schema/definition';

export function isGroupStep(step: Step): step is GroupStep {
  return 'parallel' in step;
}

/** The jobs of a step: itself, or the members of its parallel group. */
export function stepJobs(step: Step): JobStep[] {
  return isGroupStep(step) ? step.parallel : [step];
}

/** Every job step of a definition, in definition order. */
export function allJobSteps(definition: Pick<ProcessDefinition, 'steps'>): JobStep[] {
  return definition.steps.flatMap(stepJobs);
}

/** A readable label for a step: its id, or the ids of its group's members. */
export function stepLabel(step: Step): string {
  return isGroupStep(step) ? (step.id ?? `parallel(${step.parallel.map((s) => s.id).join(', ')})`) : step.id;
}
