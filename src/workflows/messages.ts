/**
 * The messages a process answers: the live report (query) and an operator's decision for a parked job (update).
 * Clients import these definitions too; they carry names and types only.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { TokenRequest, TokensView } from '../core/tokens';
import type { Step } from '../schema/definition';
import type { JobFacts } from '../shared/plan';
import { TOKENS_REQUEST_SIGNAL } from '../shared/tokens';
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

/** A request for resource tokens, as the token keeper gets it. */
export type { TokenRequest, TokensView };

/** To the keeper: a request for tokens (sent with start by the `jipper.tokens.request` activity). */
export const tokensRequestSignal = defineSignal<[TokenRequest]>(TOKENS_REQUEST_SIGNAL);
/** To the keeper: the process stopped waiting for a request (its `waitFor` ran out, or it was cancelled). */
export const tokensWithdrawSignal = defineSignal<[{ requestId: string }]>('jipper.tokens.withdraw');
/** To the keeper: the process has ended; every token it holds goes back. */
export const tokensReleaseSignal = defineSignal<[{ processId: string }]>('jipper.tokens.release');
/** To a process: its request is granted, after waiting this long. */
export const tokensGrantedSignal = defineSignal<[{ requestId: string; waitedMs: number }]>('jipper.tokens.granted');
/** To a process: its request is refused (a capacity that disagrees, a wait that would deadlock). */
export const tokensRefusedSignal = defineSignal<[{ requestId: string; reason: string }]>('jipper.tokens.refused');
/** The keeper's tokens, holders and waiters. */
export const tokensQuery = defineQuery<TokensView>('jipper.tokens');

/** An operator's revision of a running process: its whole new list of steps, and the facts of any new jobs. */
export interface ReviseRequest {
  /** The new steps: every step that has started stays exactly as it is; the rest may change, go or be added. */
  steps: Step[];
  /** Facts (see `planFromFacts`) of jobs the process did not use before. */
  jobs?: Record<string, JobFacts>;
  reason?: string;
}

/**
 * Revises the steps not yet started. The validator plans the revision against the rules — steps that started (and
 * so the pivot, once passed) stay as they are; ids unique; needs, references and parameters resolve; every job has
 * facts — and refuses it with every problem listed; an accepted revision is in the report's `revisions`.
 */
export const reviseUpdate = defineUpdate<{ added: string[]; removed: string[] }, [ReviseRequest]>('jipper.revise');
