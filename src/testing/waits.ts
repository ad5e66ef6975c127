/**
 * Wait steps in a failure-matrix case: while the case runs, every wait it reaches is settled as a test author would —
 * an approval approved (as its first approver), an event wait sent the data the run's options give for its step (`{}`
 * otherwise) — except the case's own: a `reject` case rejects it, a `timeout` case lets it expire once (its
 * definition gives it a short timeout) and settles it if it opens again (parked, then retried).
 */
import type { Client } from '@temporalio/client';
import { WorkflowUpdateStage } from '@temporalio/client';
import { reportQuery } from '../workflows/messages';
import { waitUpdate } from '../workflows/wait-messages';
import type { WaitMessage } from '../workflows/wait-messages';
import type { ProcessReport } from '../shared/report';
import type { Scenario } from './outcome';

/** The identity a case decides approvals with, when a step names no approvers. */
const CASE_IDENTITY = 'jipper-testing';

/** Runs `run` (a case's steps, to its end) while the case's waits are settled. */
export async function withSettledWaits<T>(
  client: Client,
  processId: string,
  scenario: Scenario,
  events: Record<string, unknown>,
  run: () => Promise<T>
): Promise<T> {
  const ended = new AbortController();
  const settling = settleCaseWaits(client, processId, scenario, events, ended.signal);
  try {
    return await run();
  } finally {
    ended.abort();
    await settling;
  }
}

/** Settles the waits of a running case until `signal` aborts (the case ended). */
async function settleCaseWaits(
  client: Client,
  processId: string,
  scenario: Scenario,
  events: Record<string, unknown>,
  signal: AbortSignal
): Promise<void> {
  const handle = client.workflow.getHandle(processId);
  while (!signal.aborted) {
    let report: ProcessReport | undefined;
    try {
      report = await handle.query(reportQuery);
    } catch {
      report = undefined;
    }
    if (report?.endedAt !== undefined) return;
    for (const row of report?.jobs ?? []) {
      const wait = row.wait;
      if (!wait) continue;
      const mine = (scenario.kind === 'reject' || scenario.kind === 'timeout') && scenario.stepId === row.stepId;
      if (row.status !== 'running' || wait.outcome !== undefined) continue;
      // A timeout case's own wait expires; once it opens again (parked, then retried), it is settled like the rest.
      if (mine && scenario.kind === 'timeout' && (wait.opens ?? 1) < 2) continue;
      const by = wait.approvers?.[0] ?? CASE_IDENTITY;
      const message: WaitMessage =
        wait.kind === 'event'
          ? { action: 'event', event: wait.event ?? '', data: events[row.stepId] ?? {}, stepId: row.stepId }
          : mine && scenario.kind === 'reject'
            ? { action: 'reject', stepId: row.stepId, by, reason: 'rejected by the failure matrix' }
            : { action: 'approve', stepId: row.stepId, by };
      // Accepted is enough (the wait is settled then); a refusal (it expired meanwhile) is no error here.
      await handle
        .startUpdate(waitUpdate, { args: [message], waitForStage: WorkflowUpdateStage.ACCEPTED })
        .catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
