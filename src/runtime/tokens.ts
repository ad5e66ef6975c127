/**
 * The activities behind resource tokens: sending a request to the token keeper (starting the keeper if it is not
 * running), and telling the keeper which holders have ended without releasing what they hold. Both use the worker's
 * own client (`Context.current().client`).
 */
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { TokenClaim } from '../shared/tokens';
import {
  TOKEN_KEEPER_WORKFLOW,
  TOKENS_ENDED_ACTIVITY,
  TOKENS_REQUEST_ACTIVITY,
  TOKENS_REQUEST_SIGNAL,
  tokenKeeperId,
} from '../shared/tokens';

/** What a process sends to ask for tokens (see the keeper's `TokenRequest`). */
export interface TokenRequestCall {
  taskQueue: string;
  request: { requestId: string; processId: string; claims: TokenClaim[]; priority: number };
}

const sweepEvery = Number(process.env.JIPPER_TOKEN_SWEEP_MS) || undefined;

/** Sends the request to the keeper of the task queue, with start: the keeper runs from the first request on. */
async function requestTokens(call: TokenRequestCall): Promise<void> {
  await Context.current().client.workflow.signalWithStart(TOKEN_KEEPER_WORKFLOW, {
    workflowId: tokenKeeperId(call.taskQueue),
    taskQueue: call.taskQueue,
    // How often the keeper looks for holders that ended without releasing (default 30 s; tests shorten it).
    args: [sweepEvery ? { sweepEveryMs: sweepEvery } : {}],
    signal: TOKENS_REQUEST_SIGNAL,
    signalArgs: [call.request],
    staticSummary: `Jipper's resource tokens for task queue ${call.taskQueue}`,
  });
}

/** The processes among `ids` that are no longer running (or never existed). */
async function endedProcesses(ids: string[]): Promise<string[]> {
  const { client } = Context.current();
  const ended: string[] = [];
  for (const id of ids) {
    try {
      const { status } = await client.workflow.getHandle(id).describe();
      if (status.name !== 'RUNNING') ended.push(id);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) ended.push(id);
      else throw err;
    }
  }
  return ended;
}

export function tokenActivities(): Record<string, (...args: never[]) => Promise<unknown>> {
  return {
    [TOKENS_REQUEST_ACTIVITY]: requestTokens,
    [TOKENS_ENDED_ACTIVITY]: endedProcesses,
  };
}
