/**
 * The messages a process answers: the live report (query) and an operator's decision for a parked job (update).
 * Clients import these definitions too; they carry names and types only.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { Decision, ProcessReport } from '../shared/report';

export interface DecideRequest {
  stepId: string;
  decision: Decision;
}

export interface DecideResponse {
  stepId: string;
  decision: Decision;
  accepted: true;
}

/** The live report: every job's status so far. */
export const reportQuery = defineQuery<ProcessReport>('jipper.report');

/**
 * An operator's decision for a parked job: `retry` runs it (or its revert) again; `skip` moves on without it;
 * `mark-reverted` records that a person undid it by hand. Rejected (with the reason) when the step is not parked.
 */
export const decideUpdate = defineUpdate<DecideResponse, [DecideRequest]>('jipper.decide');

export interface PauseRequest {
  /** Why, for the report and the Web UI. */
  reason?: string;
}

/**
 * Pauses forward progress: no further step starts; running jobs settle, then the status is `paused`. Rejected unless
 * the process is running (not unwinding, parked or finished). Cancelling a paused process unwinds it.
 */
export const pauseUpdate = defineUpdate<{ paused: true }, [PauseRequest]>('jipper.pause');

/** Resumes a paused process's forward progress. Rejected when it is not paused. */
export const resumeUpdate = defineUpdate<{ resumed: true }, []>('jipper.resume');
