/** One-line summaries of a report: where a process is now, for `jipper status` and the live view of `start --wait`. */
import type { JobReport, ProcessReport } from '../shared/report';
import { formatDuration } from '../shared/text';

/** Job statuses that end a job's forward pass. */
const FORWARD_DONE = new Set(['succeeded', 'failed', 'skipped', 'reverting', 'reverted', 'revert_failed']);

/** How far the forward pass is: jobs that have run (whatever the outcome), of all jobs. */
export function forwardProgress(report: ProcessReport): { done: number; total: number } {
  const done = report.jobs.filter((j) => FORWARD_DONE.has(j.status)).length;
  return { done, total: report.jobs.length };
}

/** How far the unwinding is: reverts that ended, of the reverts started or ended so far. */
export function revertProgress(report: ProcessReport): { done: number; total: number } {
  const reverts = report.jobs.filter((j) => j.revert && j.revert.reason !== 'the job has no revert');
  return { done: reverts.filter((j) => j.revert?.status !== 'running').length, total: reverts.length };
}

/** A step as the operator sees it: `prepare/quota` for a member of the group `prepare`. */
export function stepName(job: Pick<JobReport, 'stepId' | 'group'>): string {
  return job.group ? `${job.group}/${job.stepId}` : job.stepId;
}

/** What the process is doing now: the steps running, reverting, or waiting for a decision. */
export function currentActivity(report: ProcessReport): string | undefined {
  if (report.needsAttention.length && report.status === 'parked') {
    return `waiting for a decision on ${report.needsAttention.join(', ')} (jipper decide ${report.processId} <step> retry|skip|mark-reverted)`;
  }
  const running = report.jobs.filter((j) => j.status === 'running' || j.revert?.status === 'running');
  if (!running.length) return undefined;
  const verb = report.status === 'unwinding' ? 'reverting' : 'step';
  return `${verb} ${running.map((j) => `${stepName(j)} (${j.job})`).join(', ')}`;
}

/** `starts at 2026-11-27T03:00:00.000Z (in 1h59m)`: when a waiting (delayed) process begins. */
export function startsLine(startsAt: string, now = Date.now()): string {
  const left = Date.parse(startsAt) - now;
  return `starts at ${startsAt}${left > 0 ? ` (in ${formatDuration(left)})` : ''}`;
}

/** `provision-volume-1: provision-volume reverted · failed at quota: QuotaAboveLimitError: ... · 3/6 jobs ran`. */
export function summaryLine(report: ProcessReport): string {
  const { done, total } = forwardProgress(report);
  const parts = [`${report.processId}: ${report.name} ${report.status}`];
  if (report.status === 'waiting' && report.startsAt) parts.push(startsLine(report.startsAt));
  const now = currentActivity(report);
  if (now) parts.push(now);
  if (report.failedStep) {
    parts.push(
      `failed at ${report.failedStep}` + (report.error ? `: ${report.error.type}: ${report.error.message}` : '')
    );
  } else if (report.error && report.error.type !== 'cancelled') {
    parts.push(`${report.error.type}: ${report.error.message}`);
  }
  if (report.stoppedPastPivot) parts.push('stopped past the pivot, nothing unwound');
  if (report.revertOrder.length) parts.push(`reverted ${report.revertOrder.join(' → ')}`);
  if (report.needsAttention.length && report.status !== 'parked') {
    parts.push(`needs a person: ${report.needsAttention.join(', ')}`);
  }
  parts.push(`${done}/${total} jobs ran`);
  return parts.join(' · ').replace(/\s*\n\s*/g, ' ');
}
