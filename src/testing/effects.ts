/**
 * Checking each job's effect against the report: a job whose report says its effect stands (succeeded; skipped while
 * unwinding because it has no revert; its revert failed) must have left it, and every other job that was called
 * (reverted, failed, cancelled) must have left none, except one the report says may have left it (a timeout that
 * nothing reverts): either is right. A revert that did not undo its job, or a job that ran without saying so, fails
 * the check. Each job of the definition needs a probe that looks at the world and says whether that step's effect is
 * there.
 */
import type { JobReport } from '../shared/report';
import { OUTCOME_UNKNOWN_REASON } from '../shared/report';
import type { TestRun } from './worker';

/** The step a probe is asked about. */
export interface ProbedCall {
  processId: string;
  stepId: string;
  /** The run's result, when it returned one. */
  result?: unknown;
}

/** Whether the effect of one step of one process is there. `input` is the job's input, as its run received it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each job's probe takes that job's own input type
export type EffectProbe = (input: any, call: ProbedCall) => boolean | Promise<boolean>;

/** An effect probe per job name. */
export type EffectProbes = Record<string, EffectProbe>;

/** Thrown by {@link expectEffects}: the world does not match the report. */
export class EffectMismatchError extends Error {
  override readonly name = 'EffectMismatchError';
}

/**
 * `stands`, `absent`, or `unknown`: a failed job whose own revert failed (its effect may be partial), or one that
 * timed out with nothing to revert it (the report says its effect may stand).
 */
function expectedEffect(row: JobReport): 'stands' | 'absent' | 'unknown' {
  switch (row.status) {
    case 'succeeded':
    case 'revert_failed':
      return 'stands';
    case 'skipped':
      // No revert, or an operator chose to leave it: either way it was not undone.
      return 'stands';
    case 'failed':
      if (row.revert?.status === 'skipped' && row.revert.reason === OUTCOME_UNKNOWN_REASON) return 'unknown';
      return row.revert?.status === 'revert_failed' || row.revert?.status === 'parked' ? 'unknown' : 'absent';
    default:
      return 'absent';
  }
}

/** What the report says of a step, in words: `step quota (job set-quota) was reverted`. */
function said(row: JobReport): string {
  const step = `step ${row.stepId} (job ${row.job})`;
  switch (row.status) {
    case 'reverted':
      return `${step} was reverted`;
    case 'failed':
      return row.revert?.status === 'reverted' ? `${step} failed and was reverted` : `${step} failed`;
    case 'revert_failed':
      return `${step} could not be reverted`;
    case 'not_run':
      return `${step} did not run`;
    default:
      return `${step} ${row.status}`;
  }
}

/** Why an effect that is still there is wrong. */
function why(row: JobReport): string {
  if (row.status === 'reverted' || row.revert?.status === 'reverted') return 'its revert did not undo it';
  if (row.status === 'failed') return 'a failed job must leave none, or be reverted (revertOnFailure)';
  return 'nothing should have left it';
}

/**
 * Checks every job of a run against its probe (see the module comment); throws {@link EffectMismatchError} listing
 * each step whose effect disagrees with the report. A job that never ran (`not_run`) must not have been called at all.
 */
export async function expectEffects(run: TestRun, probes: EffectProbes): Promise<void> {
  const problems: string[] = [];
  for (const row of run.report.jobs) {
    const calls = run.calls.filter((call) => call.stepId === row.stepId && call.side === 'run');
    if (row.status === 'not_run' || row.status === 'pending') {
      if (calls.length) problems.push(`${row.stepId} (${row.job}) is ${row.status} but its run was called`);
      continue;
    }
    const probe = probes[row.job];
    if (probe === undefined) {
      problems.push(`no effect probe for job "${row.job}" (give one for every job of the definition)`);
      continue;
    }
    const last = calls[calls.length - 1];
    if (last === undefined) {
      problems.push(`${row.stepId} (${row.job}) is ${row.status} but its run was never called`);
      continue;
    }
    const expected = expectedEffect(row);
    if (expected === 'unknown') continue;
    const ok = calls.find((call) => call.outcome === 'ok');
    const there = await probe(last.input, {
      processId: run.processId,
      stepId: row.stepId,
      ...(ok?.result !== undefined ? { result: ok.result } : {}),
    });
    if (there && expected === 'absent') problems.push(`${said(row)}, yet its effect is still there: ${why(row)}`);
    if (!there && expected === 'stands') problems.push(`${said(row)}, yet its effect is not there`);
  }
  if (problems.length) {
    throw new EffectMismatchError(
      `the effects of ${run.processId} do not match its report:\n  - ${problems.join('\n  - ')}`
    );
  }
}
