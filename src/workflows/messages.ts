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
