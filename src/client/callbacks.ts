/**
 * Completing a job from outside: the job's run handed out a completion token (`ctx.completeLater`), and whoever holds
 * it completes the job with a result, fails it, or heartbeats it meanwhile. Results and failures go through the
 * client's data converter (encrypted when a key ring is configured), like every payload.
 *
 * ```ts
 * await completeJob(client, token, { chargeId: 'ch_42' }); // the job succeeds with this result
 * await failJob(client, token, 'card declined'); // the job fails (not retried): the process unwinds
 * ```
 *
 * A token that is malformed, from another namespace, unknown to the server or already used is a
 * {@link CompletionTokenError} with one line, and nothing changes.
 */
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { z } from 'zod';
import type { JobFailureDetails, JobOutcome } from '../shared/calls';
import { FAILED_FROM_OUTSIDE_TYPE } from '../shared/errors';
import { MAX_DETAIL_CHARS, MAX_JOB_RESULT_BYTES } from '../shared/limits';
import { oneLine } from '../shared/text';
import type { CompletionToken } from '../runtime/completion-token';
import { parseCompletionToken } from '../runtime/completion-token';
import type { AwaitingCompletion } from '../runtime/complete-later';
import { awaitingCompletionOf } from '../runtime/complete-later';

/** A completion token that cannot be used: malformed, of another namespace, unknown, or used already. */
export class CompletionTokenError extends Error {
  override readonly name = 'CompletionTokenError';
  constructor(
    message: string,
    /** `malformed` (or of another namespace): the token is wrong; `unknown`: no job awaits it (used, timed out, ended). */
    readonly reason: 'malformed' | 'unknown',
    options?: ErrorOptions
  ) {
    super(message, options);
  }
}

/** A result or failure message that cannot be sent (not JSON, too large, empty); nothing was sent. */
export class CompletionInputError extends Error {
  override readonly name = 'CompletionInputError';
}

const messageSchema = z
  .string()
  .trim()
  .min(1, 'expected a failure message')
  .max(MAX_DETAIL_CHARS, `a failure message has at most ${MAX_DETAIL_CHARS} characters`);

const detailSchema = z.string().max(MAX_DETAIL_CHARS, `a detail has at most ${MAX_DETAIL_CHARS} characters`);

export interface CompleteJobOptions {
  /** The job's detail in the report ("paid by card ending 4242"). Default: none. */
  detail?: string;
}

export interface FailJobOptions {
  /**
   * Let the job's retry policy run it again (a new attempt, which hands out a new token). Default false: the failure
   * is final, and the process unwinds (or, past its pivot, does what the step's `afterPivot` says).
   */
  retry?: boolean;
}

/** The job a token settled. */
export interface SettledJob {
  processId: string;
  stepId: string;
  job: string;
  attempt: number;
}

const settled = (token: CompletionToken): SettledJob => ({
  processId: token.processId,
  stepId: token.stepId,
  job: token.job,
  attempt: token.attempt,
});

/** What the token names, for messages: `process "p", step "s", attempt 1`. */
function where(token: CompletionToken): string {
  return `process "${token.processId}", step "${token.stepId}" (job "${token.job}", attempt ${token.attempt})`;
}

/** The token decoded; a malformed one is a {@link CompletionTokenError} (nothing is sent anywhere). */
export function decodeCompletionToken(text: string): SettledJob & { namespace: string } {
  const parsed = parseCompletionToken(text);
  if (!parsed.ok) throw new CompletionTokenError(parsed.problem, 'malformed');
  return { ...settled(parsed.token), namespace: parsed.token.namespace };
}

/** The token, decoded and checked against the client's namespace; else a {@link CompletionTokenError}. */
function tokenFor(client: Client, text: string): CompletionToken {
  const parsed = parseCompletionToken(text);
  if (!parsed.ok) throw new CompletionTokenError(parsed.problem, 'malformed');
  const { namespace } = client.options;
  if (parsed.token.namespace !== namespace) {
    throw new CompletionTokenError(
      `the completion token of ${where(parsed.token)} is for namespace "${parsed.token.namespace}", and this client is connected to "${namespace}"`,
      'malformed'
    );
  }
  return parsed.token;
}

/** Runs a completion call, turning the server's refusals into one-line {@link CompletionTokenError}s. */
async function send(token: CompletionToken, call: () => Promise<void>): Promise<void> {
  try {
    await call();
  } catch (err) {
    const name = (err as { name?: unknown } | null)?.name;
    if (name === 'ActivityNotFoundError') {
      throw new CompletionTokenError(
        `no job awaits completion with this token (${where(token)}): it was completed or failed already, its attempt timed out, or its process ended`,
        'unknown',
        { cause: err }
      );
    }
    // The server's answer to a token it cannot read ("Error deserializing task token."); other failures pass as they are.
    if (name === 'ActivityCompletionError' && /task token/i.test(oneLine(err))) {
      throw new CompletionTokenError(
        `the server refused the completion token of ${where(token)}: ${oneLine(err)}`,
        'malformed',
        {
          cause: err,
        }
      );
    }
    throw err;
  }
}

/** The outcome a job completed from outside records; a result that is not JSON or too large is refused. */
function outcomeOf(token: CompletionToken, result: unknown, options: CompleteJobOptions): JobOutcome {
  const detail = options.detail === undefined ? undefined : detailSchema.safeParse(options.detail);
  if (detail && !detail.success) throw new CompletionInputError(`detail: ${detail.error.issues[0]?.message}`);
  const outcome: JobOutcome = {
    result: result ?? null,
    attempt: token.attempt,
    ...(detail?.data !== undefined ? { detail: detail.data } : {}),
  };
  let json: string;
  try {
    json = JSON.stringify(outcome);
  } catch (err) {
    throw new CompletionInputError(`the result for ${where(token)} is not JSON: ${oneLine(err)}`);
  }
  const bytes = Buffer.byteLength(json);
  if (bytes > MAX_JOB_RESULT_BYTES) {
    throw new CompletionInputError(
      `the result for ${where(token)} is ${bytes} bytes; a job's result may be at most ${MAX_JOB_RESULT_BYTES} bytes: return a reference to large data instead`
    );
  }
  return JSON.parse(json) as JobOutcome;
}

/**
 * Completes the job that handed out `token` with `result` (JSON, at most 256 KB): the job succeeds, later steps read
 * the result with `$from`, and its revert gets it if the process unwinds later.
 *
 * @throws CompletionTokenError when the token is malformed, of another namespace, unknown or used already.
 * @throws CompletionInputError when the result is not JSON or too large.
 */
export async function completeJob(
  client: Client,
  token: string,
  result: unknown,
  options: CompleteJobOptions = {}
): Promise<SettledJob> {
  const parsed = tokenFor(client, token);
  const outcome = outcomeOf(parsed, result, options);
  await send(parsed, () => client.activity.complete(parsed.taskToken, outcome));
  return settled(parsed);
}

/**
 * Fails the job that handed out `token` with `message` (type `JipperFailedFromOutside`): not retried unless
 * `options.retry`, so its process unwinds as after any failure, reverting the finished jobs newest first.
 *
 * @throws CompletionTokenError when the token is malformed, of another namespace, unknown or used already.
 * @throws CompletionInputError when the message is empty or too long.
 */
export async function failJob(
  client: Client,
  token: string,
  message: string,
  options: FailJobOptions = {}
): Promise<SettledJob> {
  const parsed = tokenFor(client, token);
  const text = messageSchema.safeParse(message);
  if (!text.success) throw new CompletionInputError(`failure message: ${text.error.issues[0]?.message}`);
  const details: JobFailureDetails = { attempt: parsed.attempt };
  const failure = ApplicationFailure.create({
    type: FAILED_FROM_OUTSIDE_TYPE,
    message: text.data,
    nonRetryable: options.retry !== true,
    details: [details],
  });
  await send(parsed, () => client.activity.fail(parsed.taskToken, failure));
  return settled(parsed);
}

/**
 * Tells that the job that handed out `token` stopped because its process asked to cancel it (a cancel, a deadline:
 * {@link heartbeatJob} says `cancelRequested`). The job ends cancelled, and its process goes on cancelling (or, for a
 * deadline, unwinding) as it does when a running job is cancelled.
 *
 * @throws CompletionTokenError when the token is malformed, of another namespace, unknown or used already.
 */
export async function reportJobCancelled(client: Client, token: string): Promise<SettledJob> {
  const parsed = tokenFor(client, token);
  await send(parsed, () => client.activity.reportCancellation(parsed.taskToken));
  return settled(parsed);
}

/**
 * Heartbeats the job that handed out `token`, for a job with a heartbeat timeout (the worker no longer does). Resolves
 * `{ cancelRequested: true }` when its process asked to cancel it (a cancel, a deadline): then stop, and say so with
 * {@link reportJobCancelled}.
 *
 * @throws CompletionTokenError when the token is malformed, of another namespace, unknown or used already.
 */
export async function heartbeatJob(
  client: Client,
  token: string,
  details?: unknown
): Promise<SettledJob & { cancelRequested: boolean }> {
  const parsed = tokenFor(client, token);
  const beat: AwaitingCompletion = {
    awaitingCompletion: { token: token.trim() },
    ...(details !== undefined ? { details } : {}),
  };
  try {
    await send(parsed, () => client.activity.heartbeat(parsed.taskToken, beat));
  } catch (err) {
    if ((err as { name?: unknown } | null)?.name === 'ActivityCancelledError')
      return { ...settled(parsed), cancelRequested: true };
    throw err;
  }
  return { ...settled(parsed), cancelRequested: false };
}

/** A job of a running process that awaits completion from outside. */
export interface AwaitedJob {
  stepId: string;
  /** Its completion token: `jipper complete <token> --result JSON`. */
  token: string;
  /** When its attempt started (ISO 8601), if the server says. */
  since?: string;
}

/**
 * The jobs of a running process that await completion from outside, as its pending activities' last heartbeats record
 * them (decoded with the client's data converter). Empty for a process that has ended or awaits none.
 */
export async function awaitedJobs(client: Client, processId: string): Promise<AwaitedJob[]> {
  const { raw } = await client.workflow.getHandle(processId).describe();
  const converter = client.options.loadedDataConverter;
  const jobs: AwaitedJob[] = [];
  for (const pending of raw.pendingActivities ?? []) {
    const activityId = pending.activityId ?? '';
    if (!activityId.endsWith('.run') || !pending.heartbeatDetails?.payloads?.length) continue;
    const heartbeat = await decodeFromPayloadsAtIndex<unknown>(converter, 0, pending.heartbeatDetails.payloads).catch(
      () => undefined
    );
    const awaiting = awaitingCompletionOf(heartbeat);
    if (!awaiting) continue;
    const started = pending.lastStartedTime?.seconds;
    jobs.push({
      stepId: activityId.slice(0, -'.run'.length),
      token: awaiting.token,
      ...(started !== undefined && started !== null ? { since: new Date(Number(started) * 1000).toISOString() } : {}),
    });
  }
  return jobs;
}
