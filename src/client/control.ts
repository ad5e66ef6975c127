/** An operator acting on a running process: cancel it, pause and resume it, or settle a parked job with a decision. */

import type { Client } from '@temporalio/client';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { DecisionRejectedError, RequestRejectedError } from './errors';
import type { Decision } from '../shared/report';
import { decideUpdate, pauseUpdate, resumeUpdate } from '../workflows/messages';
import type { DecideResponse } from '../workflows/messages';

/** Runs an update; a validator's refusal becomes `rejected(message)`, thrown. */
async function update<T>(run: () => Promise<T>, rejected: (message: string) => Error): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError && err.cause) throw rejected(err.cause.message);
    throw err;
  }
}

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
  return update(
    () => client.workflow.getHandle(processId).executeUpdate(decideUpdate, { args: [{ stepId, decision }] }),
    (message) => new DecisionRejectedError(message)
  );
}

/** Requests cancellation: forward progress stops and the process unwinds as after a failure. */
export async function cancelProcess(client: Client, processId: string): Promise<void> {
  await client.workflow.getHandle(processId).cancel();
}

/**
 * Pauses a running process: no further step starts; the jobs already running settle, and then its status is `paused`
 * (searchable: `JipperStatus = 'paused'`). Cancelling a paused process unwinds it; {@link resumeProcess} goes on.
 * Throws {@link RequestRejectedError} with the process's reason when it is not running (already paused, unwinding,
 * parked).
 */
export async function pauseProcess(client: Client, processId: string, reason?: string): Promise<void> {
  await update(
    () =>
      client.workflow
        .getHandle(processId)
        .executeUpdate(pauseUpdate, { args: [reason !== undefined ? { reason } : {}] }),
    (message) => new RequestRejectedError(message)
  );
}

/** Resumes a paused process. Throws {@link RequestRejectedError} with the process's reason when it is not paused. */
export async function resumeProcess(client: Client, processId: string): Promise<void> {
  await update(
    () => client.workflow.getHandle(processId).executeUpdate(resumeUpdate),
    (message) => new RequestRejectedError(message)
  );
}
