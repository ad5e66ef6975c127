/**
 * Settling wait steps from a program: {@link approve} and {@link reject} an approval, {@link sendEvent} to the
 * processes waiting for an event. Each is a Temporal Update, so the caller learns at once whether it applied; one that
 * does not fit the process's state now is refused ({@link OperatorActionRejectedError}, one line) and changes nothing.
 *
 * @example
 * ```ts
 * await approve(client, 'order-17', 'manager-ok', { as: 'alice', reason: 'checked the invoice' });
 * const { delivered } = await sendEvent(client, 'payment.settled', { orderId: 'o-17' });
 * ```
 */
import { userInfo } from 'node:os';
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { z } from 'zod';
import { WAITING_FOR_KEY } from '../shared/search-attributes';
import type { WaitMessage, WaitResponse } from '../workflows/wait-messages';
import { waitUpdate } from '../workflows/wait-messages';
import { OperatorActionRejectedError } from './errors';

export interface DecisionOptions {
  /** Why; required for a rejection. */
  reason?: string;
  /** Who decides (checked against the step's `approvers`). Default: `JIPPER_IDENTITY`, else the OS user. */
  as?: string;
}

/** Who a decision is from when nobody says: `JIPPER_IDENTITY`, else the OS user. */
export function defaultIdentity(): string {
  const fromEnv = process.env.JIPPER_IDENTITY?.trim();
  if (fromEnv) return fromEnv;
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

async function settle(client: Client, processId: string, message: WaitMessage): Promise<WaitResponse> {
  try {
    return await client.workflow.getHandle(processId).executeUpdate(waitUpdate, { args: [message] });
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError && err.cause) throw new OperatorActionRejectedError(err.cause.message);
    if (err instanceof WorkflowNotFoundError) {
      throw new OperatorActionRejectedError(`no running process ${processId}: ${err.message}`);
    }
    throw err;
  }
}

/** Approves the approval step `stepId` of a process: the step succeeds and the process goes on. */
export function approve(
  client: Client,
  processId: string,
  stepId: string,
  options: DecisionOptions = {}
): Promise<WaitResponse> {
  const by = options.as ?? defaultIdentity();
  return settle(client, processId, {
    action: 'approve',
    stepId,
    by,
    ...(options.reason ? { reason: options.reason } : {}),
  });
}

/** Rejects the approval step `stepId`: the step fails (a `business` failure) and the process unwinds. */
export async function reject(
  client: Client,
  processId: string,
  stepId: string,
  options: DecisionOptions & { reason: string }
): Promise<WaitResponse> {
  if (!options.reason?.trim()) throw new OperatorActionRejectedError('a rejection needs a reason');
  return await settle(client, processId, {
    action: 'reject',
    stepId,
    by: options.as ?? defaultIdentity(),
    reason: options.reason,
  });
}

export const eventNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]*$/, 'an event name is letters, digits, ".", "_", ":", "/", "-"')
  .max(200);

/** How many processes `sendEvent` sends to at once (each an Update that waits for the process to take it). */
const SEND_CONCURRENCY = 20;

export interface SendEventOptions {
  /** Send to this process only (else: to every running process waiting for the event's name). */
  to?: string;
}

export interface SentEvent {
  /** The processes whose wait the event settled, with the step it settled. */
  delivered: { processId: string; stepId: string }[];
  /** The processes waiting for the name that refused it (their `match` does not hold), with their reason. */
  refused: { processId: string; reason: string }[];
}

/**
 * Sends an event. With `to`, to that process (a refusal throws {@link OperatorActionRejectedError}); without, to every
 * running process the `JipperWaitingFor` search attribute lists for `name` (never by reading histories): each one's
 * open wait of that name whose `match` holds is settled.
 */
export async function sendEvent(
  client: Client,
  name: string,
  data: unknown,
  options: SendEventOptions = {}
): Promise<SentEvent> {
  const checked = eventNameSchema.safeParse(name);
  if (!checked.success) throw new OperatorActionRejectedError(`event "${name}": ${checked.error.issues[0]?.message}`);
  const message: WaitMessage = { action: 'event', event: name, data };
  if (options.to !== undefined) {
    const response = await settle(client, options.to, message);
    return { delivered: [{ processId: options.to, stepId: response.stepId }], refused: [] };
  }
  const sent: SentEvent = { delivered: [], refused: [] };
  const query = `${WAITING_FOR_KEY.name} = '${name}' AND ExecutionStatus = 'Running'`;
  const ids: string[] = [];
  for await (const execution of client.workflow.list({ query })) ids.push(execution.workflowId);
  const deliver = async (processId: string): Promise<void> => {
    try {
      const response = await settle(client, processId, message);
      sent.delivered.push({ processId, stepId: response.stepId });
    } catch (err) {
      if (!(err instanceof OperatorActionRejectedError)) throw err;
      sent.refused.push({ processId, reason: err.message });
    }
  };
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < ids.length) await deliver(ids[next++] as string);
  };
  await Promise.all(Array.from({ length: Math.min(SEND_CONCURRENCY, ids.length) }, lane));
  return sent;
}
