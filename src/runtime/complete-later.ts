/**
 * `ctx.completeLater`: a job's run that is completed from outside. The run makes a completion token
 * (`completion-token.ts`), heartbeats that it awaits completion (so `jipper status` and the Web UI can show it with
 * the command that settles it), hands the token out, and ends with Temporal's `CompleteAsyncError`: the worker lets
 * go of the attempt, which stays open on the server, with its timeouts, until someone completes or fails it with the
 * token (`src/client/callbacks.ts`).
 */
import { ApplicationFailure, CompleteAsyncError, Context } from '@temporalio/activity';
import type { JobCall } from '../shared/calls';
import { COMPLETE_LATER_REFUSED_TYPE } from '../shared/errors';
import { isRecord } from '../shared/text';
import type { JobContext } from '../jobs/job';
import { encodeCompletionToken } from './completion-token';

/** The heartbeat details of an attempt that awaits completion from outside. */
export interface AwaitingCompletion {
  awaitingCompletion: {
    /** The completion token: `jipper complete <token> --result JSON`. */
    token: string;
  };
  /** What the token's holder last heartbeated (`heartbeatJob`), if anything. */
  details?: unknown;
}

/** The awaited completion a pending attempt's last heartbeat records, if it records one. */
export function awaitingCompletionOf(heartbeat: unknown): AwaitingCompletion['awaitingCompletion'] | undefined {
  if (!isRecord(heartbeat) || !isRecord(heartbeat.awaitingCompletion)) return undefined;
  const { token } = heartbeat.awaitingCompletion;
  return typeof token === 'string' ? { token } : undefined;
}

/**
 * The run's `completeLater`: see {@link JobContext.completeLater}. `beat` is the attempt's heartbeat (it also keeps
 * the attempt's own deadline while `handOut` works).
 */
export function completeLaterFor(call: JobCall, beat: (details: unknown) => void): JobContext['completeLater'] {
  return async <T>(handOut: (token: string) => Promise<void> | void): Promise<T> => {
    const { info } = Context.current();
    const token = encodeCompletionToken({
      namespace: info.namespace,
      taskToken: info.taskToken,
      processId: call.processId,
      stepId: call.stepId,
      job: call.job,
      attempt: info.attempt,
    });
    const details: AwaitingCompletion = { awaitingCompletion: { token } };
    beat(details);
    await handOut(token);
    throw new CompleteAsyncError();
  };
}

/**
 * The `completeLater` of a revert, a probe or a local job's run: it fails the attempt for good (only an ordinary job's
 * run completes later; a local activity cannot).
 */
export function completeLaterRefused(
  call: JobCall,
  what: 'revert' | 'probe' | 'run as a local job'
): JobContext['completeLater'] {
  return async () => {
    const why =
      what === 'run as a local job'
        ? 'a local job runs inside its workflow task and cannot be completed from outside (drop "local")'
        : "only a job's run may be completed from outside";
    throw ApplicationFailure.create({
      type: COMPLETE_LATER_REFUSED_TYPE,
      message: `job "${call.job}" at step "${call.stepId}" called ctx.completeLater in its ${what}: ${why}`,
      nonRetryable: true,
    });
  };
}
