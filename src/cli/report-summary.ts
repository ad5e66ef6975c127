/** One-line summaries of a report: where a process is now, for `jipper status` and the live view of `start --wait`. */
import { hookLines } from '../shared/hooks';
import type { ProcessReport } from '../shared/report';
import { formatDuration } from '../shared/text';
import { errorText, parkedSteps, parkedText, pauseText, stepName, unwindingLine } from '../shared/wording';
import { waitingLines } from '../shared/wait-wording';

export { stepName };

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

/** What the process is doing now: the steps running or reverting, or the decisions it waits for. */
export function currentActivity(report: ProcessReport): string | undefined {
  const parked = parkedSteps(report);
  if (parked.length) return `waiting for a decision on ${parked.map(parkedText).join('; ')}`;
  const waits = waitingLines(report);
  if (waits.length) return waits.join('; ');
  const paused = pauseText(report, Date.now());
  if (paused) return paused;
  const running = report.jobs.filter((j) => j.status === 'running' || j.revert?.status === 'running');
  if (!running.length) return undefined;
  const verb = report.lastKnown !== undefined ? 'was at' : report.status === 'unwinding' ? 'reverting' : 'running';
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
    parts.push(`failed at ${report.failedStep}` + (report.error ? `: ${errorText(report.error)}` : ''));
  } else if (report.error && report.error.type !== 'cancelled') {
    parts.push(errorText(report.error));
  }
  if (report.stoppedPastPivot) parts.push('stopped past the pivot, nothing unwound');
  if (report.lastKnown !== undefined) {
    const standing = report.jobs.filter((j) => j.status === 'succeeded').map(stepName);
    parts.push(`nothing unwound${standing.length ? `; left as they are: ${standing.join(', ')}` : ''}`);
  }
  const unwinding = unwindingLine(report);
  if (unwinding) parts.push(unwinding);
  const waiting = new Set(parkedSteps(report).map((p) => p.stepId));
  const others = report.needsAttention.filter((s) => !waiting.has(s));
  if (others.length) parts.push(`needs a person: ${others.join(', ')}`);
  const failedHooks = (report.hooks ?? []).filter((h) => h.status === 'failed');
  if (failedHooks.length) parts.push(`hook failed: ${hookLines(failedHooks).join('; ')}`);
  parts.push(`${done}/${total} jobs ran`);
  return parts.join(' · ').replace(/\s*\n\s*/g, ' ');
}
