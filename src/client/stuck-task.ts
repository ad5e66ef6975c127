/**
 * Finds a process whose workflow task keeps failing, so it does not sit silently stuck.
 *
 * When the workflow code a worker runs cannot replay a process's history (a change that breaks running histories: a
 * determinism violation), or throws a bug, Temporal fails the workflow *task*, not the workflow, and retries it until a
 * worker with working code picks it up. Jipper keeps that default on purpose — it does not list `NondeterminismError`
 * in the worker's `workflowFailureErrorTypes`: failing the workflow would end the process on the spot, with no
 * unwinding, its completed jobs' effects left standing and no final report; a retried task instead resumes, exactly
 * where it was, once the right code is deployed (or the change is rolled back). The price is that nothing ends, so
 * this makes the stuck task visible: the attempt count and the failure, from the server, without needing a worker.
 *
 * ```ts
 * const stuck = await findStuckWorkflowTask(client, processId);
 * if (stuck) console.error(`${processId}: workflow task failing (${stuck.attempt} attempts): ${stuck.message}`);
 * ```
 */
import type { Client } from '@temporalio/client';
import { decodeOptionalFailureToOptionalError } from '@temporalio/common/lib/internal-non-workflow';

export interface StuckWorkflowTask {
  /** How many times the current workflow task has been tried (2 or more). */
  attempt: number;
  /**
   * The failure the worker reported, e.g. `[TMPRL1100] Nondeterminism error: ...`, decrypted with the client's data
   * converter when the worker encrypts failure messages (a client without the key sees `Encoded failure`).
   */
  message: string;
}

/**
 * The failing workflow task of a running process, or `undefined` when the process is not running or its workflow task
 * is not failing. Reads the server only (describe and history).
 */
export async function findStuckWorkflowTask(client: Client, processId: string): Promise<StuckWorkflowTask | undefined> {
  const handle = client.workflow.getHandle(processId);
  const description = await handle.describe();
  const attempt = description.raw.pendingWorkflowTask?.attempt ?? 0;
  if (description.status.name !== 'RUNNING' || attempt < 2) return undefined;
  const history = await handle.fetchHistory();
  const failed = history.events
    ?.filter((e) => e.workflowTaskFailedEventAttributes)
    .at(-1)?.workflowTaskFailedEventAttributes;
  const decoded = await decodeOptionalFailureToOptionalError(client.options.loadedDataConverter, failed?.failure).catch(
    () => undefined
  );
  return {
    attempt,
    message:
      decoded?.message ?? failed?.failure?.message ?? 'the workflow task keeps failing (no failure recorded yet)',
  };
}
