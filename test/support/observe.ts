/**
 * Watching a running process from outside, as an operator would: its live report, and Temporal's view of a pending
 * activity (attempt, state, last heartbeat), without touching the worker.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { getReport } from '../../src/client';
import type { ProcessReport } from '../../src/shared/report';

/** Polls `check` every `everyMs` until it returns a value other than undefined/false; throws after `timeoutMs`. */
export async function waitUntil<T>(
  check: () => Promise<T | undefined | false>,
  what: string,
  timeoutMs = 60_000,
  everyMs = 100
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Waits until the live report satisfies `check`, and returns it. */
export function waitForReportWhere(
  client: Client,
  processId: string,
  check: (report: ProcessReport) => boolean,
  what: string,
  timeoutMs = 60_000
): Promise<ProcessReport> {
  return waitUntil(
    async () => {
      const report = await getReport(client, processId);
      return check(report) && report;
    },
    what,
    timeoutMs
  );
}

export interface PendingActivity {
  activityId: string;
  attempt: number;
  /** SCHEDULED, STARTED or CANCEL_REQUESTED. */
  state: string;
  /** The last heartbeat's details, decoded. */
  heartbeat: unknown;
}

/** Temporal's view of a pending activity of the process (by activity id, e.g. `alloc.run`), or undefined. */
export async function pendingActivity(
  handle: WorkflowHandle,
  activityId: string
): Promise<PendingActivity | undefined> {
  const { raw } = await handle.describe();
  const pending = raw.pendingActivities?.find((a) => a.activityId === activityId);
  if (!pending) return undefined;
  const payload = pending.heartbeatDetails?.payloads?.[0];
  const state = temporal.api.enums.v1.PendingActivityState[pending.state ?? 0] ?? 'UNSPECIFIED';
  return {
    activityId,
    attempt: pending.attempt ?? 1,
    state: state.replace(/^PENDING_ACTIVITY_STATE_/, ''),
    heartbeat: payload ? defaultPayloadConverter.fromPayload(payload) : undefined,
  };
}
