/**
 * The worker's log: Temporal's `DefaultLogger` output, one line per entry. A failure Jipper or a job raised on purpose
 * (an `ApplicationFailure`: a job's error, which Jipper rethrows as one with the error's class name as its type; a
 * process that ended failed or reverted) is written as its type and message, once: the SDK would print its stack and
 * its causes' for every attempt and again for the workflow. Any other error — a fault of Jipper's own, or of the SDK —
 * keeps its stack.
 *
 * `jipper worker` (and `startWorker`) installs it; a program that builds its own Temporal `Runtime` can pass
 * `new DefaultLogger('INFO', jipperLogFunction)` as its logger.
 */
import { formatWithOptions } from 'node:util';
import type { LogEntry } from '@temporalio/worker';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { oneLine } from '../shared/text';

const colors = process.stderr.isTTY && !process.env.NO_COLOR;

interface FailureLike {
  name?: unknown;
  stack?: unknown;
  type?: unknown;
  message?: unknown;
  nonRetryable?: unknown;
  cause?: unknown;
}

/** Failures that wrap the one that says what happened (an activity's, a child workflow's). */
const WRAPPERS = new Set(['ActivityFailure', 'ChildWorkflowFailure']);

const KEY_ERRORS = new Set(['NoKeyRingError', 'UnknownKeyError', 'PayloadDecryptError']);

/**
 * The failure a job or Jipper raised on purpose, as one line: its type and message (the innermost failure of an
 * activity's); undefined for any other error. Checks names, not classes: a workflow's log entry reaches the worker
 * copied out of the workflow sandbox.
 */
export function expectedFailureLine(error: unknown): string | undefined {
  let failure = error as FailureLike | undefined;
  while (failure && typeof failure === 'object' && WRAPPERS.has(String(failure.name)) && failure.cause) {
    failure = failure.cause;
  }
  if (!failure || typeof failure !== 'object') return undefined;
  // A payload under a key the worker lacks: the message names the key and the ring; its stack says nothing more.
  if (KEY_ERRORS.has(String(failure.name))) return oneLine(`${String(failure.name)}: ${String(failure.message)}`);
  // Copied out of the workflow sandbox, an ApplicationFailure may keep only its stack's first line as its name.
  const application = failure.name === 'ApplicationFailure' || String(failure.stack).startsWith('ApplicationFailure:');
  if (!application) return undefined;
  const type = typeof failure.type === 'string' ? failure.type : 'ApplicationFailure';
  return oneLine(`${type}: ${String(failure.message)}${failure.nonRetryable === true ? ' (not retried)' : ''}`);
}

/** Writes one log entry to stderr, as `DefaultLogger` does, with an expected failure as one line. */
export function jipperLogFunction(entry: LogEntry): void {
  const { level, timestampNanos, message, meta } = entry;
  const date = new Date(Number(timestampNanos / 1_000_000n)).toISOString();
  let shown = meta;
  const error = (meta as { error?: unknown } | undefined)?.error;
  const line = error === undefined ? undefined : expectedFailureLine(error);
  if (line !== undefined) shown = { ...meta, error: line };
  const rest =
    shown === undefined
      ? ''
      : ` ${formatWithOptions({ colors, breakLength: Infinity, compact: true, depth: 4 }, shown)}`;
  process.stderr.write(`${date} [${level}] ${message}${rest}\n`);
}

/**
 * Installs Temporal's runtime with Jipper's worker log (at `level`, default INFO) unless a runtime is already there,
 * which is then kept as it is.
 */
export function installJipperRuntime(level: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' = 'INFO'): void {
  try {
    Runtime.install({ logger: new DefaultLogger(level, jipperLogFunction) });
  } catch {
    // A runtime was installed already (by the program, or a worker created before): keep it.
  }
}
