/**
 * How the `jipper` command ends: its exit codes, and every error as one line on stderr (`jipper: <message>`). A stack
 * trace is printed only with `JIPPER_DEBUG=1`.
 *
 * Errors are classified by name, not `instanceof`, so an error from another copy of a library is classified too.
 */

import type { ExistingRun } from '../client/errors';
import { describeExisting } from '../client/errors';
import { credentialsRefused } from '../config/errors';
import { oneLine } from '../shared/text';
import { err } from './io';

export const EXIT_OK = 0;
/** The process ended not succeeded, or the command failed (server unreachable, replay mismatch...). */
export const EXIT_FAILED = 1;
/** Usage or bad input: a missing file, bad YAML, an invalid definition, an unknown id or step. */
export const EXIT_USAGE = 2;

/** The operator asked for something that cannot be: exit code 2 with the message. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A definition file has problems: each is a line of its own, `file:line:col: path: message` (exit code 2). */
export class DefinitionProblemsError extends Error {
  override readonly name = 'DefinitionProblemsError';
  constructor(readonly lines: string[]) {
    super(lines.join('; '));
  }
}

/** Errors that mean bad input (exit code 2). Anything else is a failure (exit code 1). */
const INPUT_ERRORS = new Set([
  'UsageError',
  'CommanderError',
  'InvalidArgumentError',
  'ConfigError',
  'KeyRingError',
  'DefinitionFileError',
  'DefinitionError',
  'DefinitionProblemsError',
  'PayloadTooLargeError',
  'LibraryLoadError',
  'BundleLoadError',
  'DuplicateJobError',
  'WorkflowNotFoundError',
  'WorkflowExecutionAlreadyStartedError',
  'DecisionRejectedError',
  'ProcessAlreadyStartedError',
  'StartTimeError',
  'ScheduleSpecError',
  'ScheduleConflictError',
  'ScheduleAlreadyRunning',
  'ScheduleNotFoundError',
  'OperatorActionRejectedError',
  'CompletionTokenError',
  'CompletionInputError',
]);

export function exitCodeOf(err: unknown): number {
  const name = err instanceof Error ? err.name : undefined;
  return name !== undefined && INPUT_ERRORS.has(name) ? EXIT_USAGE : EXIT_FAILED;
}

/** The one line an error is shown as, after `jipper: `. */
export function errorLine(err: unknown): string {
  if (err instanceof Error && err.name === 'WorkflowNotFoundError') {
    const { workflowId } = err as Error & { workflowId?: string };
    const reason = oneLine(err);
    if (/already completed/i.test(reason)) return `process "${workflowId}" has already ended`;
    // The server's not-found message is sometimes empty (an id with a trailing space): it is still not found.
    return reason === '' || /not found/i.test(reason)
      ? `no process with id "${workflowId}"`
      : `process "${workflowId}": ${reason}`;
  }
  if (err instanceof Error && err.name === 'WorkflowExecutionAlreadyStartedError') {
    const { workflowId } = err as Error & { workflowId?: string };
    return `a process with id "${workflowId}" is already running; choose another --id`;
  }
  if (err instanceof Error && err.name === 'ProcessAlreadyStartedError') {
    const { existing, rerunAsked } = err as Error & { existing: ExistingRun; rerunAsked: boolean };
    return describeExisting(existing, rerunAsked, 'add --rerun');
  }
  if (err instanceof Error && err.name === 'ScheduleNotFoundError') {
    const { scheduleId } = err as Error & { scheduleId?: string };
    return `no schedule with id "${scheduleId}" (jipper schedule list)`;
  }
  if (err instanceof Error && err.name === 'ScheduleAlreadyRunning') {
    const { scheduleId } = err as Error & { scheduleId?: string };
    return `a schedule with id "${scheduleId}" exists; change it with jipper schedule apply, or delete it first (jipper schedule delete ${scheduleId})`;
  }
  const line = oneLine(err).replace(/^error: /, '');
  const refused = err instanceof Error && err.name !== 'TemporalAccessError' ? credentialsRefused(err) : undefined;
  if (refused) {
    return `${line.replace(/\.$/, '')}: the server refused it (${refused.reason}); check TEMPORAL_API_KEY (or what the client certificate is allowed)`;
  }
  if (/Unknown encoding: binary\/encrypted/.test(line)) {
    return "the run's payloads are encrypted and no key ring is configured: set JIPPER_ENCRYPTION_KEYS or JIPPER_ENCRYPTION_KEYS_FILE to the key ring they were encrypted with";
  }
  return line;
}

/** Prints the error as `jipper: <message>` (plus its stack with JIPPER_DEBUG=1) and returns the exit code. */
export function reportError(error: unknown): number {
  const lines = error instanceof DefinitionProblemsError ? error.lines : [errorLine(error)];
  err(...lines.map((line) => `jipper: ${line}`));
  if (process.env.JIPPER_DEBUG === '1' && error instanceof Error && error.stack) err(error.stack);
  return exitCodeOf(error);
}
