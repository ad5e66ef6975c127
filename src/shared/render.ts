/**
 * Renders a report as Markdown: the Web UI's "current details" of a run, and `jipper report --markdown`. The Web UI
 * shows it in a narrow panel, so each job is one row of five columns; what happened to the job (its detail, its error,
 * how its revert ended) shares one cell.
 */
import type { ProcessDefinition } from '../schema/definition';
import { MAX_RENDERED_CELL_CHARS, MAX_RENDERED_ROWS } from './limits';
import type { JobReport, ProcessReport } from './report';
import { isGroupStep, stepJobs } from './steps';
import { durationBetween } from './text';

function cell(text: string | undefined): string {
  return (text ?? '').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ').slice(0, MAX_RENDERED_CELL_CHARS);
}

function revertText(job: JobReport): string | undefined {
  const revert = job.revert;
  if (!revert) return undefined;
  switch (revert.status) {
    case 'reverted':
      return `↩ reverted${(revert.reason ?? revert.detail) ? `: ${revert.reason ?? revert.detail}` : ''}`;
    case 'skipped':
      return `revert skipped: ${revert.reason ?? 'nothing to revert'}`;
    case 'revert_failed':
      return `**revert failed**: ${revert.error ? `${revert.error.type}: ${revert.error.message}` : 'unknown error'}`;
    case 'parked':
      return `**revert parked**: waiting for an operator's decision`;
    case 'running':
      return 'reverting…';
  }
}

/** What happened to the job: its detail, its error, and how its revert ended. */
function story(job: JobReport): string {
  const parts = [job.detail, job.error ? `**${job.error.type}**: ${job.error.message}` : undefined, revertText(job)];
  return cell(parts.filter(Boolean).join(' · '));
}

function statusText(job: JobReport): string {
  return job.attempts !== undefined && job.attempts > 1 ? `${job.status} (${job.attempts} attempts)` : job.status;
}

/** The table row of a job. */
function rowLine(j: JobReport): string {
  return `| ${cell(j.group ? `${j.group}/${j.stepId}` : j.stepId)}${j.pivot ? ' ⚑ pivot' : ''} | ${cell(j.job)} | ${statusText(j)} | ${durationBetween(j.startedAt, j.endedAt)} | ${story(j)} |`;
}

/** Everything a job's row shows, as one string: a row whose key is unchanged renders as before. */
function rowKey(j: JobReport): string {
  const { revert, error } = j;
  return `${j.stepId}\u0000${j.group}\u0000${j.pivot}\u0000${j.job}\u0000${j.status}\u0000${j.attempts}\u0000${j.startedAt}\u0000${j.endedAt}\u0000${j.detail}\u0000${error?.type}\u0000${error?.message}\u0000${revert?.status}\u0000${revert?.reason}\u0000${revert?.detail}\u0000${revert?.error?.type}\u0000${revert?.error?.message}`;
}

/**
 * Rendered rows by job report. A running process re-renders its report at every step for the Web UI, and most rows
 * have not changed since the last time; the cache makes that cost a key per row instead of a row.
 */
const renderedRows = new WeakMap<JobReport, { key: string; line: string }>();

function cachedRowLine(j: JobReport): string {
  const key = rowKey(j);
  const cached = renderedRows.get(j);
  if (cached?.key === key) return cached.line;
  const line = rowLine(j);
  renderedRows.set(j, { key, line });
  return line;
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
  const rows = report.jobs.length > MAX_RENDERED_ROWS ? report.jobs.slice(-MAX_RENDERED_ROWS) : report.jobs;
  const table = ['| step | job | status | time | what happened |', '|---|---|---|---|---|', ...rows.map(cachedRowLine)];
  if (rows.length < report.jobs.length) table.push(`\n(${report.jobs.length - rows.length} earlier jobs not shown)`);
  return [...head, table.join('\n')].join('\n\n');
}

/**
 * A definition's outline as Markdown, for the Web UI's static details of a run: its steps in order (parallel members
 * joined by ∥, the pivot marked ⚑) and the run's parameters.
 */
export function outlineMarkdown(definition: ProcessDefinition, params: Record<string, unknown> = {}): string {
  const steps = definition.steps.map((step) => {
    const text = stepJobs(step)
      .map((job) => job.id)
      .join(' ∥ ');
    return `${isGroupStep(step) ? `(${text})` : text}${step.pivot ? ' ⚑' : ''}`;
  });
  const values = { ...(definition.params ?? {}), ...params };
  const lines = [`Steps: ${steps.join(' → ')}`];
  const entries = Object.entries(values);
  if (entries.length)
    lines.push(`Params: ${entries.map(([k, v]) => `\`${k}\`=${cell(JSON.stringify(v))}`).join(', ')}`);
  return lines.join('\n\n');
}
