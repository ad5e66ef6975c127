/**
 * The live view of a running process (`jipper start --wait`). On a terminal: a progress bar and one line per job,
 * redrawn in place at every report. Elsewhere (a pipe, a CI log): a line for each status change, forward changes in
 * definition order and revert changes in the order the reverts ran.
 */
import type { JobReport, ProcessReport } from '../shared/report';
import { isFinalStatus } from '../shared/report';
import { durationBetween } from '../shared/text';
import { errorText, jobTimes } from '../shared/wording';
import type { OutStream } from './io';
import { currentActivity, forwardProgress, revertProgress, startsLine, stepName } from './report-summary';
import { colorsFor, paint } from './style';
import { wrap } from './table';

export interface LiveView {
  /** Shows the latest report; call it with every report polled, and once with the final one. */
  update(report: ProcessReport): void;
}

export interface LiveViewOptions {
  /** Redraw in place. Default: the stream is a TTY. */
  tty?: boolean;
  /** Colours. Default: as Node decides for the stream (`NO_COLOR`, `FORCE_COLOR`; see `colorsFor`). */
  color?: boolean;
}

export function liveView(stream: OutStream, options: LiveViewOptions = {}): LiveView {
  const tty = options.tty ?? stream.isTTY === true;
  const color = options.color ?? colorsFor(stream);
  return tty ? new TerminalView(stream, color) : new LineView(stream);
}

/** A job's status as shown: a failed job that is itself reverted (`revertOnFailure`) shows its revert too. */
export function shownStatus(job: JobReport): string {
  return job.status === 'failed' && job.revert ? `failed, revert ${job.revert.status}` : job.status;
}

/** The job is being (or has been) unwound. */
function inRevert(job: JobReport): boolean {
  return job.revert !== undefined || ['reverting', 'reverted', 'revert_failed'].includes(job.status);
}

/** The most telling text about a job now: its error, its revert's detail or error, or its own detail. */
function note(job: JobReport): string {
  const revert = job.revert;
  if (revert && (revert.status !== 'running' || job.status !== 'failed')) {
    const text = revert.error ? errorText(revert.error) : (revert.reason ?? revert.detail);
    if (text) return text;
  }
  if (job.error) return errorText(job.error);
  return job.detail ?? '';
}

const ICONS: Record<string, string> = {
  pending: '·',
  running: '▸',
  succeeded: '✔',
  failed: '✖',
  reverting: '↺',
  reverted: '↩',
  revert_failed: '✖',
  skipped: '–',
  not_run: ' ',
};

function bar(done: number, total: number, width = 24): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${done}/${total}`;
}

function fit(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}

/** The time a row shows: the job's (`…` while it runs), then its revert's (`↩ 56ms`, `↩ 1.2s…` while reverting). */
function timeNow(job: JobReport): string {
  const now = new Date().toISOString();
  const run = job.status === 'running' && job.startedAt ? `${durationBetween(job.startedAt, now)}…` : jobTimes(job).run;
  const revert = job.revert;
  if (!revert?.startedAt) return run;
  const reverting = revert.status === 'running';
  return `${run} ↩ ${durationBetween(revert.startedAt, reverting ? now : revert.endedAt)}${reverting ? '…' : ''}`;
}

class TerminalView implements LiveView {
  private drawn = 0;
  private last = '';

  constructor(
    private readonly stream: OutStream,
    private readonly color: boolean
  ) {}

  update(report: ProcessReport): void {
    const width = Math.max(40, (this.stream.columns || 100) - 1);
    const unwinding = report.status === 'unwinding' || report.revertOrder.length > 0;
    const progress = unwinding ? revertProgress(report) : forwardProgress(report);
    const header =
      `${report.name}  ${paint(report.status, report.status, this.color)}  ` +
      `${unwinding ? 'reverts ' : 'jobs '}${bar(progress.done, progress.total)}` +
      (report.status === 'waiting' && report.startsAt ? `  ${startsLine(report.startsAt)}` : '');
    const rows = report.jobs.map((job) => ({ job, status: shownStatus(job), time: timeNow(job) }));
    // Every column is as wide as its widest cell, so running, failed and reverted rows line up.
    const stepWidth = Math.max(...report.jobs.map((j) => stepName(j).length), 4);
    const jobWidth = Math.max(...report.jobs.map((j) => j.job.length), 3);
    const statusWidth = Math.max(...rows.map((r) => r.status.length));
    const timeWidth = Math.max(...rows.map((r) => r.time.length), 6);
    const lines = rows.map(({ job, status, time }) => {
      const head = `  ${ICONS[job.status] ?? ' '} ${stepName(job).padEnd(stepWidth)}  ${job.job.padEnd(jobWidth)}  `;
      const tail = `${' '.repeat(statusWidth - status.length)}  ${time.padEnd(timeWidth)}  ${note(job)}`.replace(
        /\s*\n\s*/g,
        ' '
      );
      const room = width - head.length - status.length;
      return `${head}${paint(status, job.status, this.color)}${room > 0 ? fit(tail, room) : ''}`.trimEnd();
    });
    // A parked process says which decision it waits for, with the command (wrapped: a line is never cut).
    const waiting =
      report.status === 'parked' || report.status === 'waiting' || report.pause ? currentActivity(report) : undefined;
    const hint = waiting ? wrap(waiting, width - 2).map((line) => `  ${line}`) : [];
    const frame = [header, ...lines, ...hint].join('\n');
    if (frame === this.last) return;
    const up = this.drawn ? `\u001b[${this.drawn}F\u001b[0J` : '';
    this.stream.write(`${up}${frame}\n`);
    this.drawn = lines.length + hint.length + 1;
    this.last = frame;
  }
}

/** Job statuses that mean the job succeeded first (it is being, or was, reverted). */
const SUCCEEDED_BEFORE = new Set(['reverting', 'reverted', 'revert_failed']);

/** `  allocate: succeeded (1.2s)`: the forward end of a job the reports showed only once it was reverting. */
function succeededLine(job: JobReport): string {
  const time = job.endedAt ? ` (${durationBetween(job.startedAt, job.endedAt)})` : '';
  return `  ${stepName(job)}: succeeded${time}${job.detail ? ` · ${job.detail}` : ''}`.replace(/\s*\n\s*/g, ' ');
}

/** `  allocate: reverted (56ms) · released 32 MB`: a job's new status, the time of that phase, and its note. */
function changeLine(job: JobReport): string {
  const text = note(job);
  const timed = inRevert(job) ? job.revert : job;
  const time = timed?.endedAt ? ` (${durationBetween(timed.startedAt, timed.endedAt)})` : '';
  return `  ${stepName(job)}: ${shownStatus(job)}${time}${text ? ` · ${text}` : ''}`.replace(/\s*\n\s*/g, ' ');
}

class LineView implements LiveView {
  private readonly seen = new Map<string, string>();
  /** Steps whose success a line has said. */
  private readonly succeeded = new Set<string>();
  private status: string | undefined;

  constructor(private readonly stream: OutStream) {}

  update(report: ProcessReport): void {
    const changed = report.jobs.filter((job) => this.seen.get(job.stepId) !== shownStatus(job));
    // A job that succeeded and was being reverted by the next report still says it succeeded, before its revert.
    const skipped = changed.filter((job) => SUCCEEDED_BEFORE.has(job.status) && !this.succeeded.has(job.stepId));
    for (const job of changed) {
      this.seen.set(job.stepId, shownStatus(job));
      if (job.status === 'succeeded' || SUCCEEDED_BEFORE.has(job.status)) this.succeeded.add(job.stepId);
    }
    // Forward changes in definition order, then unwinding changes newest job first (the order reverts run in).
    const total = report.jobs.length;
    const order = (job: JobReport) =>
      inRevert(job) ? 2 * total + 1 - (job.completedOrder ?? total + 1) : report.jobs.indexOf(job);
    const entries = [
      ...skipped.map((job) => ({ at: report.jobs.indexOf(job), line: succeededLine(job) })),
      ...changed.filter((job) => job.status !== 'pending').map((job) => ({ at: order(job), line: changeLine(job) })),
    ];
    entries.sort((a, b) => a.at - b.at);
    const lines = entries.map((e) => e.line);
    if (report.status !== this.status) {
      this.status = report.status;
      const waiting =
        report.status === 'parked' || report.status === 'waiting' || report.pause ? currentActivity(report) : undefined;
      const starts = report.status === 'waiting' && report.startsAt ? ` · ${startsLine(report.startsAt)}` : '';
      const line = `${report.name}: ${report.status}${starts}${waiting ? ` · ${waiting}` : ''}`;
      if (isFinalStatus(report.status)) lines.push(line);
      else lines.unshift(line);
    }
    if (lines.length) this.stream.write(`${lines.join('\n')}\n`);
  }
}
