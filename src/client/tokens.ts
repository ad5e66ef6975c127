/** The resource tokens of a task queue: each token in use or waited for, with its holders and waiters. */
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { tokenKeeperId } from '../shared/tokens';
import type { TokensView } from '../workflows/messages';
import { tokensQuery } from '../workflows/messages';

/** Asks the task queue's token keeper (a query, answered by a worker); no keeper yet means no tokens. */
export async function listTokens(client: Client, taskQueue: string): Promise<TokensView> {
  try {
    return await client.workflow.getHandle(tokenKeeperId(taskQueue)).query(tokensQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { tokens: [] };
    throw err;
  }
}
