/**
 * The local run activity (`jipper.local-run`): the jobs of a run of local jobs (`localRun` in `src/core/local.ts`),
 * one after another in this worker, each through the same wrapper as a job's own activity (`runJob`: secrets, input
 * schema, idempotency key, result checks) with its own attempt timeout. It stops at the first failure and answers what
 * succeeded and how that one failed; the workflow records each job as if it had run alone, and goes on with the
 * failed one as a local activity of its own (its retry policy from its second attempt).
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { JobFailureDetails, LocalRunCall, LocalRunFailure, LocalRunOutcome } from '../shared/calls';
import type { HookSet } from '../shared/hooks';
import type { AnyJob } from '../jobs/job';
import type { Fingerprints } from './activities';
import { runJob } from './activities';
import type { SecretProvider } from './secrets';

export async function runLocalRun(
  run: LocalRunCall,
  jobOf: (name: string) => AnyJob | undefined,
  registry: Fingerprints,
  secrets: SecretProvider,
  hookDefaults: HookSet | undefined
): Promise<LocalRunOutcome> {
  const outcomes: LocalRunOutcome['outcomes'] = [];
  let failure: LocalRunFailure | undefined;
  // The process's results grow with each job of the run, as the workflow counts them (see `JobCall.resultsBytes`).
  let added = 0;
  const times: [number, number][] = [];
  const runStart = Date.now();
  for (const [index, member] of run.members.entries()) {
    const { timeoutMs } = member;
    const call =
      member.call.resultsBytes !== undefined
        ? { ...member.call, resultsBytes: member.call.resultsBytes + added }
        : member.call;
    const job = jobOf(call.job);
    if (!job) {
      failure = {
        index,
        type: 'MissingJob',
        message: `this worker does not have job "${call.job}"`,
        nonRetryable: true,
      };
      break;
    }
    const startedAt = Date.now();
    const time: [number, number] = [startedAt - runStart, startedAt - runStart];
    times.push(time);
    try {
      const outcome = await runJob(job, call, registry, secrets, { timeoutMs, first: index === 0 });
      outcomes.push(outcome);
      time[1] = Date.now() - runStart;
      added += JSON.stringify(outcome.result).length;
    } catch (err) {
      time[1] = Date.now() - runStart;
      failure = failureOf(index, err, Date.now() - startedAt >= timeoutMs);
      break;
    }
  }
  return {
    outcomes,
    times,
    ...(failure ? { failure } : {}),
    ...(run.hookDefaults ? { hookDefaults: hookDefaults ?? {} } : {}),
  };
}

function failureOf(index: number, err: unknown, timedOut: boolean): LocalRunFailure {
  if (timedOut) return { index, type: 'timeout', message: 'start-to-close timeout', nonRetryable: false, timedOut };
  if (err instanceof ApplicationFailure) {
    const first: unknown = err.details?.[0];
    const detail =
      typeof first === 'object' && first !== null ? (first as Partial<JobFailureDetails>).detail : undefined;
    return {
      index,
      type: err.type ?? 'Error',
      message: err.message,
      nonRetryable: err.nonRetryable ?? false,
      ...(detail !== undefined ? { detail } : {}),
    };
  }
  const error = err instanceof Error ? err : new Error(String(err));
  return { index, type: error.name, message: error.message, nonRetryable: false };
}
