/** An operator acting on a running process: cancel it, or settle a parked job with a decision. */

import type { Client } from '@temporalio/client';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { DecisionRejectedError } from './errors';
import type { Decision } from '../shared/report';
import { decideUpdate } from '../workflow';
import type { DecideResponse } from '../workflows/messages';

/**
 * Sends an operator's decision to a parked job. Throws {@link DecisionRejectedError} with the process's reason when
 * that step is not parked or the decision does not fit.
 */
export async function decide(
  client: Client,
  processId: string,
  stepId: string,
  decision: Decision
): Promise<DecideResponse> {
  try {
    return await client.workflow.getHandle(processId).executeUpdate(decideUpdate, { args: [{ stepId, decision }] });
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError && err.cause) throw new DecisionRejectedError(err.cause.message);
    throw err;
  }
}

/** Requests cancellation: forward progress stops and the process unwinds as after a failure. */
export async function cancelProcess(client: Client, processId: string): Promise<void> {
  await client.workflow.getHandle(processId).cancel();
}
