/**
 * The revert plan of a definition, before anything runs: what would run in which order and parallelism, and what would
 * be reverted in which order for a failure (or a cancellation) at a step — the same function the engine unwinds by.
 */
import type { JobRegistry } from '../runtime/registry';
import type { PlanPreview, PreviewScenario } from '../shared/revert-plan';
import { previewPlan } from '../shared/revert-plan';
import { planFromFacts } from '../shared/plan';
import { planDefinition } from './start';

/** Checks `definition` against the registry (throws `DefinitionError` listing every problem) and previews a scenario. */
export function previewProcess(
  definition: unknown,
  options: { registry: JobRegistry; params?: Record<string, unknown>; source?: string },
  scenario: PreviewScenario = {}
): PlanPreview {
  const { definition: checked, jobs } = planDefinition(definition, options);
  const plan = planFromFacts(checked, options.params ?? {}, jobs ?? {});
  return previewPlan(plan, checked, checked.options ?? {}, scenario);
}
