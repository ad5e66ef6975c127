import type { Problem } from '../shared/plan';
import { formatProblems } from '../shared/plan';

/**
 * The errors the client helpers throw, each with a one-line message that says what is wrong and where. Classify them
 * by `name` where `instanceof` may fail (another copy of the package). The connection errors (`ConfigError`,
 * `TemporalUnreachableError`) come from the configuration and are re-exported here.
 */
export { ConfigError, TemporalUnreachableError } from '../config/errors';

/** A definition (or its args) has problems; nothing was started. */
export class DefinitionError extends Error {
  override readonly name = 'DefinitionError';
  constructor(
    readonly problems: Problem[],
    readonly source = 'definition'
  ) {
    super(`${source}: ${formatProblems(problems)}`);
  }
}

/** The start input is too large for Temporal; nothing was started. */
export class PayloadTooLargeError extends Error {
  override readonly name = 'PayloadTooLargeError';
}

/** The process refused an operator's decision (the step is not parked, or the decision does not fit it). */
export class DecisionRejectedError extends Error {
  override readonly name = 'DecisionRejectedError';
}

/** A delayed start that cannot be: a start time in the past, a delay that is not positive, or both kinds given. */
export class StartTimeError extends Error {
  override readonly name = 'StartTimeError';
}

/**
 * The process id is taken: a run with it is going on, or one ended and the start did not ask for a rerun (or asked
 * for one, but that run succeeded). Nothing was started. `existing` says which run holds the id and how it stands.
 */
export class ProcessAlreadyStartedError extends Error {
  override readonly name = 'ProcessAlreadyStartedError';
  constructor(
    readonly existing: ExistingRun,
    readonly rerunAsked: boolean
  ) {
    super(describeExisting(existing, rerunAsked, 'ask for a rerun (`rerun: true`)'));
  }
}

/** A run that holds a process id. */
export interface ExistingRun {
  processId: string;
  runId: string;
  /** The process name (its definition's), when the run is one of Jipper's. */
  process: string | undefined;
  /** Jipper's status (`succeeded`, `reverted`, `running`...) or, for a run Jipper did not end, Temporal's (`terminated`). */
  status: string;
  /** Still going (`waiting`, `running`, `unwinding`, `parked`). */
  live: boolean;
  startedAt: string;
  closedAt: string | undefined;
}

/** The one line about a taken process id; `rerunHint` is how the caller asks for a rerun (a flag, an option). */
export function describeExisting(existing: ExistingRun, rerunAsked: boolean, rerunHint: string): string {
  const what = `${existing.process ?? 'a workflow'} run ${existing.runId}`;
  const id = `process id "${existing.processId}"`;
  if (existing.live) return `${id} is in use: ${what} is ${existing.status} (since ${existing.startedAt})`;
  const ended = `${what} ended ${existing.status}${existing.closedAt ? ` at ${existing.closedAt}` : ''}`;
  if (existing.status === 'succeeded') {
    return `${id} is used: ${ended}; a process that succeeded is not run again${rerunAsked ? ', even on a rerun' : ''}`;
  }
  return `${id} is used: ${ended}; ${rerunHint} to start it again`;
}

/** Temporal refused a schedule's spec (a cron expression it cannot read, an unknown time zone...). Nothing changed. */
export class ScheduleSpecError extends Error {
  override readonly name = 'ScheduleSpecError';
}

/** The process refused an operator's action (pause, resume, revise): the message is its reason. */
export class OperatorActionRejectedError extends Error {
  override readonly name = 'OperatorActionRejectedError';
}
