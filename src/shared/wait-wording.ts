/**
 * How a report says what its wait steps wait for, with the command that settles each — one wording for `jipper
 * status`, `report`, `watch` and the Web UI's details. Sandbox-safe (the workflow renders the Web UI's details).
 */
import type { JobReport, ProcessReport } from './report';

/** The wait steps open now (a wait step's row is `running` while it waits). */
export function openWaits(report: Pick<ProcessReport, 'jobs'>): JobReport[] {
  return report.jobs.filter((j) => j.wait !== undefined && j.status === 'running' && j.wait.outcome === undefined);
}

/**
 * `approval gate ("Charge the card?", approvers: alice, bob; until 2026-...Z): jipper approve p-1 gate (or: ...)`,
 * or `event payment.settled at pay (match: ...; until ...): jipper send-event ...`.
 */
export function waitText(job: JobReport): string {
  const wait = job.wait;
  if (!wait) return job.stepId;
  const until = wait.expiresAt ? `until ${wait.expiresAt}` : '';
  const what =
    wait.kind === 'approve'
      ? `approval ${job.stepId} ("${wait.prompt ?? ''}"${wait.approvers ? `, approvers: ${wait.approvers.join(', ')}` : ''}; ${until})`
      : `event ${wait.event ?? ''} at ${job.stepId} (${wait.match ? `match: ${wait.match}; ` : ''}${until})`;
  return `${what}: ${wait.settle}`;
}

/** `waiting for approval gate (...): jipper approve ...`, one line per open wait. */
export function waitingLines(report: Pick<ProcessReport, 'jobs'>): string[] {
  return openWaits(report).map((job) => `waiting for ${waitText(job)}`);
}
