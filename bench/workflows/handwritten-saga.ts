/**
 * The baseline: a saga written by hand in the style of Temporal's TypeScript samples — activities proxied with
 * `proxyActivities`, an array of compensations filled as steps succeed, and on failure the compensations run newest
 * first before the error is rethrown. It runs the same steps, with the same activity options, as the Jipper
 * definition the benchmark compares it with.
 */
import {
  ApplicationFailure,
  condition,
  defineSignal,
  log,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { HandwrittenActivities, ProcessShape, StepResult } from '../jobs';
import { REVERT_OPTIONS, RUN_OPTIONS } from './options';

const { benchStep } = proxyActivities<HandwrittenActivities>(RUN_OPTIONS);
const { undoBenchStep } = proxyActivities<HandwrittenActivities>(REVERT_OPTIONS);

/** Lets a parked saga (`park`) go on compensating. */
export const resumeSignal = defineSignal('resume');

type Compensation = () => Promise<void>;

export async function handwrittenSaga(shape: ProcessShape): Promise<StepResult[]> {
  const processId = workflowInfo().workflowId;
  const compensations: Compensation[] = [];
  const results: StepResult[] = [];
  try {
    for (let i = 1; i <= shape.steps; i++) {
      const stepId = `s${i}`;
      const result = await benchStep({ processId, stepId, fail: i === shape.failAt });
      results.push(result);
      compensations.unshift(() => undoBenchStep({ processId, stepId, result }));
    }
    return results;
  } catch (err) {
    if (shape.park) {
      let resumed = false;
      setHandler(resumeSignal, () => void (resumed = true));
      await condition(() => resumed);
    }
    await compensate(compensations);
    throw err;
  }
}

/** Runs every compensation, newest first; a compensation that fails does not stop the others, and is reported. */
async function compensate(compensations: Compensation[]): Promise<void> {
  const failures: string[] = [];
  for (const compensation of compensations) {
    try {
      await compensation();
    } catch (err) {
      log.error('compensation failed', { error: err instanceof Error ? err.message : String(err) });
      failures.push(err instanceof Error ? err.message : String(err));
    }
  }
  if (failures.length) {
    throw ApplicationFailure.nonRetryable(`compensations failed: ${failures.join('; ')}`, 'CompensationFailed');
  }
}
