/**
 * The words every view of a report uses — `jipper status`, `jipper report`, the live view and the Markdown of the Web
 * UI's current details — so they tell one story: how an error reads, how the unwinding went for each step (a revert
 * that failed or waits for a decision is never called "reverted"), and the exact `jipper decide` command a parked step
 * waits for. Pure and sandbox-safe (the workflow renders the Markdown).
 */
import type { ErrorInfo, JobReport, ProcessReport, RevertReport } from './report';
import { durationBetween, formatDuration } from './text';

/**
 * An error as one phrase: `QuotaAboveLimitError: quota 64 MB is above ...`; the type is left out when the message
 * already says it (`cancelled`, not `cancelled: cancelled`; `the process was cancelled`, not `cancelled: the process
 * was cancelled`).
 */
export function errorText(error: ErrorInfo): string {
  const message = error.message.trim();
  if (!message) return error.type;
  return message.toLowerCase().includes(error.type.toLowerCase()) ? message : `${error.type}: ${message}`;
}

/** A step as the operator sees it: `prepare/quota` for a member of the group `prepare`. */
export function stepName(job: Pick<JobReport, 'stepId' | 'group'>): string {
  return job.group ? `${job.group}/${job.stepId}` : job.stepId;
}

/** How a revert ended (or where it is), in a few words: `reverted`, `revert failed`, `revert parked`... */
export function revertOutcome(revert: RevertReport): string {
  switch (revert.status) {
    case 'reverted':
      return revert.reason ? `reverted (${revert.reason})` : 'reverted';
    case 'skipped':
      return `revert skipped (${revert.reason ?? 'nothing to revert'})`;
    case 'revert_failed':
      return 'revert failed';
    case 'parked':
      return 'revert failed, parked: waiting for a decision';
    case 'running':
      return 'reverting';
  }
}

/** One step of the unwinding: the step whose revert ran (or runs, or waits), and how it went. */
export interface UnwoundStep {
  stepId: string;
  status: RevertReport['status'];
}

/** The reverts in the order they ran (`revertOrder`), each with how it ended so far. */
export function unwoundSteps(report: ProcessReport): UnwoundStep[] {
  return report.revertOrder.map((stepId) => ({
    stepId,
    status: report.jobs.find((j) => j.stepId === stepId)?.revert?.status ?? 'running',
  }));
}

/**
 * The unwinding in one line, newest first: `reverted, newest first: filesystem → allocate` when every revert ended
 * reverted; otherwise `reverts, newest first: lockfile (revert failed, parked: waiting for a decision) → allocate`, each
 * step that is not plainly reverted saying how it stands. `undefined` when no revert has run.
 */
export function unwindingLine(report: ProcessReport): string | undefined {
  const steps = unwoundSteps(report);
  if (!steps.length) return undefined;
  const plain = steps.every((s) => s.status === 'reverted');
  const text = steps
    .map(({ stepId, status }) => {
      if (status === 'reverted') return stepId;
      const revert = report.jobs.find((j) => j.stepId === stepId)?.revert;
      return `${stepId} (${revert ? revertOutcome(revert) : status})`;
    })
    .join(' → ');
  return `${plain ? 'reverted' : 'reverts'}, newest first: ${text}`;
}

/** A step that waits for an operator, what went wrong there, and the decisions it takes. */
export interface ParkedStep {
  stepId: string;
  /** `revert`: its revert failed while unwinding. `forward`: it failed past the pivot. */
  kind: 'revert' | 'forward';
  error?: ErrorInfo;
  decisions: string[];
  /** The command that settles it, with the real step and the decisions it accepts. */
  command: string;
}

/** The steps a parked process waits on, each with the `jipper decide` command that settles it. */
export function parkedSteps(report: ProcessReport): ParkedStep[] {
  if (report.status !== 'parked') return [];
  return report.needsAttention.map((stepId) => {
    const job = report.jobs.find((j) => j.stepId === stepId);
    const kind = job?.revert?.status === 'parked' ? 'revert' : 'forward';
    const decisions = kind === 'revert' ? ['retry', 'skip', 'mark-reverted'] : ['retry', 'skip'];
    const error = kind === 'revert' ? job?.revert?.error : job?.error;
    return {
      stepId,
      kind,
      ...(error ? { error } : {}),
      decisions,
      command: `jipper decide ${report.processId} ${stepId} ${decisions.join('|')}`,
    };
  });
}

/** `lockfile (its revert failed: LockBusyError: ...): jipper decide p-1 lockfile retry|skip|mark-reverted` */
export function parkedText(step: ParkedStep): string {
  const what = step.kind === 'revert' ? 'its revert failed' : 'it failed past the pivot';
  return `${step.stepId} (${what}${step.error ? `: ${errorText(step.error)}` : ''}): ${step.command}`;
}

/**
 * For a run Temporal ended (terminated, timed out): that nothing was unwound, what is left standing and what was
 * running, and where the jobs' states come from. `[]` for any other run.
 */
export function endedByTemporalLines(report: ProcessReport): string[] {
  if (report.lastKnown === undefined) return [];
  const standing = report.jobs.filter((j) => j.status === 'succeeded').map(stepName);
  const running = report.jobs.filter((j) => j.status === 'running' || j.revert?.status === 'running').map(stepName);
  const source =
    report.lastKnown === 'replay'
      ? 'jobs as the run last knew them (replayed by a worker)'
      : 'jobs as its event history shows them (no worker could replay it)';
  return [
    `nothing was unwound: ${standing.length ? `left as they are: ${standing.join(', ')}` : 'no job had succeeded'}` +
      (running.length ? `; running when it ended (outcome unknown): ${running.join(', ')}` : ''),
    source,
  ];
}

/**
 * A paused (or pausing) process in one phrase, with the command that resumes it and since when: `paused (maintenance
 * window): no further step starts; jipper resume p-1; paused since 2026-11-26T17:59:11.654Z (4m12s ago)`, or
 * `pausing: no further step starts once allocate settles; ...`. The time it has lasted is said when `now` (ms) is
 * given (the command line; the workflow's Markdown says since when only). `undefined` when no operator paused it.
 */
export function pauseText(report: ProcessReport, now?: number): string | undefined {
  const { pause } = report;
  if (!pause || (report.status !== 'running' && report.status !== 'paused')) return undefined;
  const why = pause.reason ? ` (${pause.reason})` : '';
  const lasted = now !== undefined ? Math.max(0, now - Date.parse(pause.at)) : undefined;
  const ago = lasted !== undefined ? ` (${formatDuration(lasted)} ago)` : '';
  const resume = `jipper resume ${report.processId}`;
  const settling = report.jobs.filter((j) => j.status === 'running').map(stepName);
  if (report.status === 'paused' || !settling.length) {
    return `paused${why}: no further step starts; ${resume}; paused since ${pause.at}${ago}`;
  }
  const verb = settling.length === 1 ? 'settles' : 'settle';
  return `pausing${why}: no further step starts once ${settling.join(', ')} ${verb}; ${resume}; asked at ${pause.at}${ago}`;
}

/**
 * Each revision an operator made (`jipper revise`), a phrase each: `revised at 2026-11-26T17:59:11.654Z (quota instead
 * of fs): added quota; removed filesystem`.
 */
export function revisionTexts(report: Pick<ProcessReport, 'revisions'>): string[] {
  return (report.revisions ?? []).map((revision) => {
    const parts = [
      revision.added.length ? `added ${revision.added.join(', ')}` : '',
      revision.removed.length ? `removed ${revision.removed.join(', ')}` : '',
    ].filter(Boolean);
    const why = revision.reason ? ` (${revision.reason})` : '';
    return `revised at ${revision.at}${why}: ${parts.length ? parts.join('; ') : 'steps changed'}`;
  });
}

/** What happened to a job, in parts: its own detail, its error, and how its revert went (each when there is one). */
export function jobStory(job: JobReport): { detail?: string; error?: string; revert?: string } {
  const revert = job.revert;
  let revertText: string | undefined;
  if (revert) {
    const parts: string[] = [];
    if (revert.error) parts.push(errorText(revert.error));
    if (revert.detail && revert.detail !== revert.reason) parts.push(revert.detail);
    if (revert.attempts !== undefined && revert.attempts > 1) parts.push(`${revert.attempts} attempts`);
    revertText = `${revertOutcome(revert)}${parts.length ? `: ${parts.join(' · ')}` : ''}`;
  }
  return {
    ...(job.detail ? { detail: job.detail } : {}),
    ...(job.error ? { error: errorText(job.error) } : {}),
    ...(revertText ? { revert: revertText } : {}),
  };
}

/**
 * How long a job took, and its revert when it ran one: `run` is the job's own time (`3.1s`), `revert` the revert's
 * (`56ms`), each `''` or absent when it has not ended. A reverted row shows both: the revert's time is not the run's.
 */
export function jobTimes(job: Pick<JobReport, 'startedAt' | 'endedAt' | 'revert'>): { run: string; revert?: string } {
  const revert = job.revert ? durationBetween(job.revert.startedAt, job.revert.endedAt) : '';
  return { run: durationBetween(job.startedAt, job.endedAt), ...(revert ? { revert } : {}) };
}

/** A count with its noun: `1 history`, `2 histories`, `0 jobs`. */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}
