/**
 * A report for the terminal (`jipper report`, the end of `start --wait`): a header that says how the process stands,
 * then a table with one row per job — step, job, status, time, and what happened (its detail, its error, and how its
 * revert went, a line each). The table fits the width it is given (the terminal's); text wraps, it is never cut.
 */
import type { PauseSpan } from '../client/report';
import type { JobReport, ProcessReport } from '../shared/report';
import { durationBetween, formatDuration } from '../shared/text';
import { waitingLines } from '../shared/wait-wording';
import {
  endedByTemporalLines,
  errorText,
  jobStory,
  jobTimes,
  parkedSteps,
  parkedText,
  pauseText,
  revisionTexts,
  stepName,
  unwindingLine,
} from '../shared/wording';
import { io } from './io';
import { colorsFor, paint, style } from './style';
import { outputWidth, renderTable } from './table';

export interface FormatOptions {
  /** The run's pauses (`pausesFromHistory`): the head says a resumed run was paused, and for how long. */
  pauses?: readonly PauseSpan[];
  /** Colour statuses and the head. Default: no colour. */
  color?: boolean;
  /** Fit the table to this width; `undefined`: no limit. */
  width?: number;
}

/** What happened to a job, a line per part: its detail, `✖` its error, `↩` its revert. */
function happened(job: JobReport): string {
  const { detail, error, revert } = jobStory(job);
  return [detail, error && `✖ ${error}`, revert && `↩ ${revert}`].filter(Boolean).join('\n');
}

function statusCell(job: JobReport): string {
  return job.attempts !== undefined && job.attempts > 1 ? `${job.status}\n${job.attempts} attempts` : job.status;
}

/** The job's time, and under it its revert's (`↩ 56ms`): a reverted row's time is not its revert's. */
function timeCell(job: JobReport): string {
  const { run, revert } = jobTimes(job);
  return revert ? `${run}\n↩ ${revert}` : run;
}

/** The lines above the table: the process, its status and how it ended, what it waits for, how the unwinding went. */
export function reportHeader(report: ProcessReport, color = false): string[] {
  const parked = parkedSteps(report);
  const waiting = new Set(parked.map((p) => p.stepId));
  const others = report.needsAttention.filter((s) => !waiting.has(s));
  const unwinding = unwindingLine(report);
  return [
    `${report.name}  ${report.processId}`,
    `status: ${paint(report.status, report.status, color)}` +
      (report.failedStep ? `  ·  failed at step ${report.failedStep}` : '') +
      (report.stoppedPastPivot ? '  ·  stopped past the pivot: nothing unwound' : '') +
      (report.endedAt ? `  ·  took ${durationBetween(report.startedAt, report.endedAt)}` : '') +
      (report.status === 'waiting' && report.startsAt ? `  ·  starts at ${report.startsAt}` : ''),
    ...(report.error ? [`error: ${errorText(report.error)}`] : []),
    ...endedByTemporalLines(report),
    ...parked.map((p) => `waiting for a decision on ${parkedText(p)}`),
    ...waitingLines(report),
    ...(pauseText(report, Date.now()) ? [pauseText(report, Date.now()) as string] : []),
    ...revisionTexts(report),
    ...(others.length ? [`needs a person: ${others.join(', ')}`] : []),
    ...(unwinding ? [unwinding] : []),
  ];
}

/**
 * `paused 2 times by an operator, 4m12s in all: at 2026-...Z for 4m2s; at 2026-...Z for 10s`, for the pauses that
 * ended (one that lasts is said by the head's pause line); `undefined` when none ended.
 */
export function pausedLine(pauses: readonly PauseSpan[]): string | undefined {
  const ended = pauses.filter((p): p is Required<PauseSpan> => p.resumedAt !== undefined);
  if (!ended.length) return undefined;
  const lasted = (p: Required<PauseSpan>) => Math.max(0, Date.parse(p.resumedAt) - Date.parse(p.at));
  const total = ended.reduce((sum, p) => sum + lasted(p), 0);
  const times = ended.length === 1 ? 'once' : `${ended.length} times`;
  const each = ended.map((p) => `at ${p.at} for ${formatDuration(lasted(p))}`).join('; ');
  return `paused ${times} by an operator, ${formatDuration(total)} in all: ${each}`;
}

export function formatReport(report: ProcessReport, options: FormatOptions = {}): string {
  const color = options.color ?? false;
  const table = renderTable({
    head: ['step', 'job', 'status', 'time', 'what happened'],
    rows: report.jobs.map((job) => [
      stepName(job) + (job.pivot ? ' ⚑' : ''),
      job.job,
      statusCell(job),
      timeCell(job),
      happened(job),
    ]),
    ...(options.width !== undefined ? { width: options.width } : {}),
    // Step ids and job names are never broken: a person copies them into `decide`, `plan --fail-at` and searches.
    whole: [0, 1],
    paint: (row, column, text) => {
      if (row < 0) return style('bold', text, color);
      const job = report.jobs[row];
      return column === 2 && job && text === job.status ? paint(text, job.status, color) : text;
    },
  });
  const paused = pausedLine(options.pauses ?? []);
  return `${[...reportHeader(report, color), ...(paused ? [paused] : [])].join('\n')}\n${table}`;
}

/** The report as a table for stdout: fitted to the terminal (or `COLUMNS`), or every line whole with `wide`. */
export function reportForStdout(report: ProcessReport, wide = false, pauses?: readonly PauseSpan[]): string {
  const { stdout } = io();
  const width = wide ? undefined : outputWidth(stdout);
  return formatReport(report, {
    color: colorsFor(stdout),
    ...(width !== undefined ? { width } : {}),
    ...(pauses ? { pauses } : {}),
  });
}
