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

/** The process refused an operator's action (pause, resume, revise): the message is its reason. */
export class OperatorActionRejectedError extends Error {
  override readonly name = 'OperatorActionRejectedError';
}
