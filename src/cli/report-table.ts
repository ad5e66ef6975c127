/** A report as a terminal table (job, status, attempts, duration, detail, error, revert outcome), via cli-table3. */
import Table from 'cli-table3';
import type { JobReport, ProcessReport } from '../shared/report';
import { durationBetween } from '../shared/text';

export interface FormatOptions {
  /** ANSI colours for statuses. Default: when stdout is a TTY and NO_COLOR is unset. */
  color?: boolean;
}

const COLORS: Record<string, number> = {
  succeeded: 32,
  reverted: 36,
  waiting: 90,
  running: 33,
  reverting: 33,
  unwinding: 33,
  parked: 35,
  pending: 90,
  not_run: 90,
  skipped: 90,
  failed: 31,
  revert_failed: 31,
  cancelled: 33,
};

export function paint(text: string, status: string, color: boolean): string {
  const code = COLORS[status];
  return color && code ? `\u001b[${code}m${text}\u001b[0m` : text;
}

function revertCell(job: JobReport): string {
  const r = job.revert;
  if (!r) return '';
  const parts = [r.status, r.reason ?? r.detail, r.error ? `${r.error.type}: ${r.error.message}` : undefined];
  if (r.attempts && r.attempts > 1) parts.push(`${r.attempts} attempts`);
  return parts.filter(Boolean).join(' · ');
}

export function formatReport(report: ProcessReport, options: FormatOptions = {}): string {
  const color = options.color ?? (process.stdout.isTTY === true && !process.env.NO_COLOR);
  const header = [
    `${report.name}  ${report.processId}`,
    `status: ${paint(report.status, report.status, color)}` +
      (report.failedStep ? `  ·  failed at step ${report.failedStep}` : '') +
      (report.stoppedPastPivot ? '  ·  stopped past the pivot: nothing unwound' : '') +
      (report.endedAt ? `  ·  took ${durationBetween(report.startedAt, report.endedAt)}` : '') +
      (report.status === 'waiting' && report.startsAt ? `  ·  starts at ${report.startsAt}` : ''),
    ...(report.error ? [`error: ${report.error.type}: ${report.error.message}`] : []),
    ...(report.revertOrder.length ? [`reverted, newest first: ${report.revertOrder.join(' → ')}`] : []),
    ...(report.needsAttention.length ? [`needs a person: ${report.needsAttention.join(', ')}`] : []),
  ];
  const table = new Table({
    head: ['step', 'job', 'status', 'attempts', 'time', 'detail', 'error', 'revert'],
    style: { head: color ? ['bold'] : [], border: color ? ['grey'] : [] },
    wordWrap: true,
    colWidths: [18, 20, 15, 10, 8, 36, 30, 30],
  });
  for (const job of report.jobs) {
    table.push([
      (job.group ? `${job.group}/` : '') + job.stepId + (job.pivot ? ' ⚑' : ''),
      job.job,
      paint(job.status, job.status, color),
      job.attempts ?? '',
      durationBetween(job.startedAt, job.endedAt),
      job.detail ?? '',
      job.error ? `${job.error.type}: ${job.error.message}` : '',
      revertCell(job),
    ]);
  }
  return `${header.join('\n')}\n${table.toString()}`;
}
