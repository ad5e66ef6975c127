/** Renders a report as a Markdown table: the Web UI's "current details" of a run, and `jipper report --markdown`. */
import type { JobReport, ProcessReport } from './report';

const MAX_ROWS = 60;

function cell(text: string | undefined): string {
  return (text ?? '').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ').slice(0, 160);
}

function durationOf(job: { startedAt?: string; endedAt?: string }): string {
  if (!job.startedAt || !job.endedAt) return '';
  const ms = Date.parse(job.endedAt) - Date.parse(job.startedAt);
  return ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(1)}s`;
}

function revertText(job: JobReport): string {
  if (!job.revert) return '';
  const { status, reason, error } = job.revert;
  return [status, reason, error?.message].filter(Boolean).join(': ');
}

export function reportToMarkdown(report: ProcessReport): string {
  const head = [
    `**${report.name}** · status **${report.status}**` +
      (report.failedStep ? ` · failed at \`${report.failedStep}\`` : '') +
      (report.stoppedPastPivot ? ' · stopped past the pivot (nothing unwound)' : ''),
    report.error ? `> ${cell(report.error.message)}` : '',
    report.needsAttention.length ? `Needs a person: ${report.needsAttention.map((s) => `\`${s}\``).join(', ')}` : '',
    report.revertOrder.length ? `Reverted, in order: ${report.revertOrder.join(' → ')}` : '',
  ].filter(Boolean);
  const rows = report.jobs.length > MAX_ROWS ? report.jobs.slice(-MAX_ROWS) : report.jobs;
  const table = [
    '| step | job | status | attempts | time | detail | error | revert |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (j) =>
        `| ${cell(j.group ? `${j.group}/${j.stepId}` : j.stepId)}${j.pivot ? ' (pivot)' : ''} | ${cell(j.job)} | ${j.status} | ${j.attempts ?? ''} | ${durationOf(j)} | ${cell(j.detail)} | ${cell(j.error ? `${j.error.type}: ${j.error.message}` : '')} | ${cell(revertText(j))} |`
    ),
  ];
  if (rows.length < report.jobs.length) table.push(`\n(${report.jobs.length - rows.length} earlier jobs not shown)`);
  return [...head, '', ...table].join('\n');
}
