/**
 * The step ids of the process an activity runs for, so `ctx.results` can tell a read of another step's undeclared
 * result (an error that says what to declare) from any other key (a plain object's answer). A call that carries them
 * (`JobCall.steps`) answers at once; for one that does not, the activity reads them once per workflow run from the
 * run's first history event (its input holds the definition) and keeps them for later calls of the same run.
 */
import { Context } from '@temporalio/activity';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import type { JobCall } from '../shared/calls';
import { allJobSteps } from '../shared/steps';
import { isRecord } from '../shared/text';

/** How many runs' step ids a worker keeps; the oldest is dropped first. */
const KEPT_RUNS = 1_000;
const known = new Map<string, Promise<readonly string[] | undefined>>();

/**
 * The step ids of the call's process: the call's own `steps`, else those read from the run's input; undefined when
 * neither is at hand (a code-first workflow, a mock environment, a server that does not answer).
 */
export async function processStepIds(call: JobCall): Promise<readonly string[] | undefined> {
  if (call.steps) return call.steps;
  if (call.uses === undefined) return undefined;
  let activity: Context;
  try {
    activity = Context.current();
  } catch {
    return undefined;
  }
  const { workflowExecution, workflowNamespace } = activity.info;
  if (!workflowExecution || !workflowNamespace) return undefined;
  const runKey = `${workflowNamespace}/${workflowExecution.workflowId}/${workflowExecution.runId}`;
  let found = known.get(runKey);
  if (!found) {
    found = readStepIds(activity, workflowNamespace, workflowExecution);
    known.set(runKey, found);
    if (known.size > KEPT_RUNS) known.delete(known.keys().next().value as string);
  }
  return found;
}

async function readStepIds(
  activity: Context,
  namespace: string,
  execution: { workflowId: string; runId: string }
): Promise<readonly string[] | undefined> {
  try {
    const { client } = activity;
    const { history } = await client.workflowService.getWorkflowExecutionHistory({
      namespace,
      execution,
      maximumPageSize: 1,
    });
    const payloads = history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads;
    const input = await decodeFromPayloadsAtIndex<unknown>(client.options.loadedDataConverter, 0, payloads);
    const definition = isRecord(input) ? input.definition : undefined;
    if (!isRecord(definition) || !Array.isArray(definition.steps)) return undefined;
    return allJobSteps(definition as unknown as Parameters<typeof allJobSteps>[0]).map((step) => step.id);
  } catch {
    return undefined;
  }
}
