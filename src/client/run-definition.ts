/**
 * The definition a process goes by now, and its parameters, read from its event history (no worker needed): the input
 * its current run started with (a run that continued as new carries the definition as it was then), with the steps of
 * every revision accepted since (`jipper.revise` updates that completed). What `jipper revise` compares a new
 * definition with, and checks it against.
 */
import type { Client } from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import type { ProcessDefinition } from '../schema/definition';
import { inputShapeProblems } from '../shared/input-shape';
import { formatProblems } from '../shared/plan';
import type { ReviseRequest } from '../workflows/messages';
import { reviseUpdate } from '../workflows/messages';
import type { ProcessInput } from '../workflows/process-workflow';

export interface RunDefinition {
  /** The definition as the process runs it now: revisions applied. */
  definition: ProcessDefinition;
  /** The run's parameters (as it was started with them; a continued run's: its plan's, defaults included). */
  params: Record<string, unknown>;
  /** How many revisions this run has accepted. */
  revisions: number;
}

/** Reads the current run's history: its start input, then each accepted revision's steps, in order. */
export async function runDefinition(client: Client, processId: string): Promise<RunDefinition> {
  const converter = client.options.loadedDataConverter;
  const handle = client.workflow.getHandle(processId);
  const history = await handle.fetchHistory();
  const events = history.events ?? [];
  const started = events[0]?.workflowExecutionStartedEventAttributes;
  const input = started ? await decodeFromPayloadsAtIndex<unknown>(converter, 0, started.input?.payloads) : undefined;
  const problems = inputShapeProblems(input);
  if (!started || problems.length) {
    throw new Error(
      `process ${processId} was not started with a definition Jipper can read: ${formatProblems(problems)}`
    );
  }
  const { definition, params, carried } = input as ProcessInput;
  const pending = new Map<string, ReviseRequest['steps']>();
  let steps = definition.steps;
  let revisions = 0;
  for (const event of events) {
    const accepted = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest;
    if (accepted?.input?.name === reviseUpdate.name && accepted.meta?.updateId) {
      const request = await decodeFromPayloadsAtIndex<ReviseRequest>(converter, 0, accepted.input.args?.payloads);
      pending.set(accepted.meta.updateId, request.steps);
    }
    const completed = event.workflowExecutionUpdateCompletedEventAttributes;
    const revised = completed?.meta?.updateId ? pending.get(completed.meta.updateId) : undefined;
    if (revised && completed?.outcome?.success) {
      steps = revised;
      revisions += 1;
    }
  }
  return {
    definition: { ...definition, steps },
    params: params ?? carried?.plan.params ?? {},
    revisions,
  };
}
