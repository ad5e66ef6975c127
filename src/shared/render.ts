/**
 * Renders a report as Markdown: the Web UI's "current details" of a run, and `jipper report --markdown`. The Web UI
 * shows it in a narrow panel and draws tables without space between cells (a status and a time ran together as
 * "reverted65ms"), so each job is one list item whose parts are separated by " · ": step, job, status, time, and what
 * happened to it (its detail, its error, how its revert went). The header says how the process stands, the unwinding
 * step by step (a revert that failed or waits is never called reverted), and, when it is parked, the exact
 * `jipper decide` command each parked step waits for, and each revision an operator made (`jipper revise`).
 */
import type { ProcessDefinition } from '../schema/definition';
import { hookLines } from './hooks';
import { MAX_RENDERED_CELL_CHARS, MAX_RENDERED_ROWS } from './limits';
import type { JobReport, ProcessReport } from './report';
import { waitingLines } from './wait-wording';
import { isGroupStep, stepJobs } from './steps';
import {
  endedByTemporalLines,
  errorText,
  jobStory,
  jobTimes,
  parkedSteps,
  pauseText,
  revisionTexts,
  stepName,
  unwindingLine,
} from './wording';

/** Text of the report on one line, cut to a size the Web UI can show, with Markdown's emphasis characters escaped. */
function cell(text: string | undefined): string {
  return (text ?? '')
    .replace(/\r?\n/g, ' ')
    .slice(0, MAX_RENDERED_CELL_CHARS)
    .replace(/[\\`*_<|]/g, (c) => `\\${c}`);
}

/** What happened to the job: its detail, its error, and how its revert went. */
function story(job: JobReport): string {
  const { detail, error, revert } = jobStory(job);
  const parts = [
    detail !== undefined ? cell(detail) : undefined,
    error !== undefined ? `✖ ${cell(error)}` : undefined,
    revert !== undefined ? `↩ ${cell(revert)}` : undefined,
  ];
  return parts.filter(Boolean).join(' · ');
}

function statusText(job: JobReport): string {
  return job.attempts !== undefined && job.attempts > 1 ? `${job.status} (${job.attempts} attempts)` : job.status;
}

/** `3.1s`, or `3.1s (revert 56ms)` for a job whose revert ran. */
function timeText(j: JobReport): string {
  const { run, revert } = jobTimes(j);
  return revert ? `${run || '–'} (revert ${revert})` : run;
}

/** The list item of a job: `- **allocate** · allocate-volume · reverted · 974ms — allocated 32 MB · ↩ reverted: ...` */
function rowLine(j: JobReport): string {
  const head = [`**${cell(stepName(j))}**${j.pivot ? ' ⚑ pivot' : ''}`, cell(j.job), statusText(j), timeText(j)].filter(
    Boolean
  );
  const happened = story(j);
  return `- ${head.join(' · ')}${happened ? ` — ${happened}` : ''}`;
}

/** Everything a job's line shows, as one string: a line whose key is unchanged renders as before. */
function rowKey(j: JobReport): string {
  const { revert, error } = j;
  return `${j.stepId}\u0000${j.group}\u0000${j.pivot}\u0000${j.job}\u0000${j.status}\u0000${j.attempts}\u0000${j.startedAt}\u0000${j.endedAt}\u0000${j.detail}\u0000${error?.type}\u0000${error?.message}\u0000${revert?.status}\u0000${revert?.reason}\u0000${revert?.detail}\u0000${revert?.attempts}\u0000${revert?.startedAt}\u0000${revert?.endedAt}\u0000${revert?.error?.type}\u0000${revert?.error?.message}`;
}

/**
 * Rendered lines by job report. A running process re-renders its report at every step for the Web UI, and most lines
 * have not changed since the last time; the cache makes that cost a key per line instead of a line.
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

/** `reverts, newest first: ...` → `Reverts, newest first: ...` */
const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

export function reportToMarkdown(report: ProcessReport): string {
  const parked = parkedSteps(report);
  const waiting = new Set(parked.map((p) => p.stepId));
  const others = report.needsAttention.filter((s) => !waiting.has(s));
  const unwinding = unwindingLine(report);
  const head = [
    `**${cell(report.name)}** · status **${report.status}**` +
      (report.failedStep ? ` · failed at \`${report.failedStep}\`` : '') +
      (report.stoppedPastPivot ? ' · stopped past the pivot (nothing unwound)' : ''),
    report.error ? `> ${cell(errorText(report.error))}` : '',
    ...endedByTemporalLines(report).map((line) => cell(capitalized(line))),
    ...parked.map(
      (p) =>
        `Waiting for a decision on \`${p.stepId}\` (${p.kind === 'revert' ? 'its revert failed' : 'it failed past the pivot'}` +
        `${p.error ? `: ${cell(errorText(p.error))}` : ''}): \`${p.command}\``
    ),
    ...waitingLines(report).map((line) => cell(capitalized(line))),
    pauseText(report) ? capitalized(cell(pauseText(report))) : '',
    others.length ? `Needs a person: ${others.map((s) => `\`${s}\``).join(', ')}` : '',
    unwinding ? cell(capitalized(unwinding)) : '',
    ...revisionTexts(report).map((line) => cell(capitalized(line))),
    ...hookLines(report.hooks).map((line) => `Hook ${cell(line)}`),
  ].filter(Boolean);
  const rows = report.jobs.length > MAX_RENDERED_ROWS ? report.jobs.slice(-MAX_RENDERED_ROWS) : report.jobs;
  const list = rows.map(cachedRowLine);
  if (rows.length < report.jobs.length) list.unshift(`(${report.jobs.length - rows.length} earlier jobs not shown)\n`);
  return [...head, list.join('\n')].join('\n\n');
}

/**
 * A definition's outline as Markdown, for the Web UI's static details of a run: first the parameters this run uses
 * (the definition's defaults with the run's values over them: what the jobs get, where the Input pane shows the
 * defaults inside the definition), then its steps in order (parallel members joined by ∥, the pivot marked ⚑).
 */
export function outlineMarkdown(definition: ProcessDefinition, params: Record<string, unknown> = {}): string {
  const steps = definition.steps.map((step) => {
    const text = stepJobs(step)
      .map((job) => job.id)
      .join(' ∥ ');
    return `${isGroupStep(step) ? `(${text})` : text}${step.pivot ? ' ⚑' : ''}`;
  });
  const values = { ...(definition.params ?? {}), ...params };
  const entries = Object.entries(values);
  const lines = entries.length
    ? [`Params of this run: ${entries.map(([k, v]) => `\`${k}\`=${cell(JSON.stringify(v))}`).join(', ')}`]
    : [];
  lines.push(`Steps: ${steps.join(' → ')}`);
  return lines.join('\n\n');
}
