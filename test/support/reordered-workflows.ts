/**
 * The process workflow after an incompatible change: the members of a parallel group are now started in reverse
 * order. Each run still does the same work, but it schedules its activities in another order than the histories of
 * runs started by the real code record, so replaying one of those is a determinism violation. Bundled only by
 * replay.test.ts, to prove such a change is caught.
 */
import type { ProcessInput } from '../../src/workflows/process-workflow';
import { jipperProcess as released } from '../../src/workflows/process-workflow';
import { isGroupStep } from '../../src/shared/steps';

export async function jipperProcess(input: ProcessInput) {
  const steps = input.definition.steps.map((step) =>
    isGroupStep(step) ? { ...step, parallel: [...step.parallel].reverse() } : step
  );
  return released({ ...input, definition: { ...input.definition, steps } });
}
