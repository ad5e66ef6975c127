/**
 * Outcome hooks, the parts both sides share: what the workflow sends the hook activity, what the report keeps of each
 * hook, and what a hook's `$report` references read. Plain JSON and sandbox-safe (the workflow imports it).
 */
import type { HookOutcome, HookStep } from '../schema/definition';
import type { HookRecord, ProcessReport } from './report';

export type { HookRecord };
import { errorText, parkedSteps, stepName } from './wording';

/** The activity that runs one hook: it resolves the hook's `$report` references and runs its job. */
export const HOOK_ACTIVITY = 'jipper.hook';
/** The local activity that answers the worker's default hooks (its configuration's `hooks`). */
export const HOOK_DEFAULTS_ACTIVITY = 'jipper.hook-defaults';

/** Hooks by outcome, as a definition's `on:` or a worker's configuration gives them. */
export type HookSet = Partial<Record<HookOutcome, HookStep[]>>;

/** What the workflow sends {@link HOOK_ACTIVITY}. */
export interface HookCall {
  processId: string;
  outcome: HookOutcome;
  /**
   * The hook's stable id within the process, `on.<outcome>.<n>` (`on.parked.<n>.<step>.<k>` for the k-th parking of a
   * step; `on.<outcome>.default.<n>` for a worker's default hook). With the process id it is the hook's idempotency
   * key, the same for every attempt, on any worker: `<processId>/<hookId>`.
   */
  hookId: string;
  job: string;
  /** The hook's args, `$param` references resolved; `$secret` and `$report` ones are resolved by the activity. */
  input: unknown;
  /** The report as it stood at the outcome. */
  report: ProcessReport;
}

/** The names a `{ $report: name }` reference may take. */
export const REPORT_FIELDS = [
  'status',
  'outcome',
  'name',
  'processId',
  'failedStep',
  'error',
  'revertOrder',
  'needsAttention',
  'subject',
  'text',
  'markdown',
  'html',
  'link',
  'decide',
  'report',
] as const;
export type ReportField = (typeof REPORT_FIELDS)[number];

/** A `{ $report: name }` reference: what the report says, filled in by the hook activity. */
export function reportRefName(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  const name = (value as { $report?: unknown }).$report;
  return keys.length === 1 && typeof name === 'string' ? name : undefined;
}

/** Rebuilds `value` with every `$report` reference replaced by what `replace` returns for its name. */
export function mapReportRefs(value: unknown, replace: (name: string) => unknown): unknown {
  const name = reportRefName(value);
  if (name !== undefined) return replace(name);
  if (Array.isArray(value)) return value.map((item) => mapReportRefs(item, replace));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapReportRefs(v, replace)]));
  }
  return value;
}

/** The `jipper decide` commands of the steps a parked process waits for, one a line. */
function decideLines(report: ProcessReport): string[] {
  return parkedSteps(report).map((p) => p.command);
}

/** `provision-volume reverted at step "export": QuotaError: ...` — one line, for a subject or a chat message. */
export function reportSubject(report: ProcessReport, outcome: HookOutcome): string {
  const status = outcome === 'deadline' ? `${report.status} (deadline reached)` : report.status;
  const where = report.failedStep ? ` at step "${report.failedStep}"` : '';
  const why = report.error ? `: ${errorText(report.error)}` : '';
  return `[jipper] ${report.name} ${status}${where}${why}`.slice(0, 200);
}

/** The report as plain text: status, error, reverts, what to run when parked, each job, and the Web UI link. */
export function reportText(report: ProcessReport, outcome: HookOutcome, link: string | undefined): string {
  const lines = [
    `Process ${report.name} (${report.processId}): ${report.status}${outcome === 'deadline' ? ' (deadline reached)' : ''}`,
    ...(report.failedStep ? [`Failed step: ${report.failedStep}`] : []),
    ...(report.error ? [`Error: ${errorText(report.error)}`] : []),
    ...(report.revertOrder.length ? [`Reverted, in order: ${report.revertOrder.join(', ')}`] : []),
    ...(report.needsAttention.length ? [`Needs a person: ${report.needsAttention.join(', ')}`] : []),
    ...decideLines(report).map((command) => `Decide with: ${command}`),
    '',
    'Jobs:',
    ...report.jobs.map((j) => {
      const error = j.error ? ` — ${errorText(j.error)}` : '';
      const revert = j.revert ? ` (revert: ${j.revert.status})` : '';
      return `  ${stepName(j)} · ${j.job} · ${j.status}${revert}${error}`;
    }),
    '',
    `Web UI: ${link ?? '(unknown: set webUi in the worker configuration)'}`,
  ];
  return lines.join('\n');
}

/** The report as Markdown (for chat webhooks, issue trackers). */
export function reportMarkdown(report: ProcessReport, outcome: HookOutcome, link: string | undefined): string {
  const lines = [
    `**${report.name}** · status **${report.status}**${outcome === 'deadline' ? ' (deadline reached)' : ''}`,
    ...(report.failedStep ? [`Failed at \`${report.failedStep}\``] : []),
    ...(report.error ? [`> ${errorText(report.error).replace(/\r?\n/g, ' ')}`] : []),
    ...(report.revertOrder.length
      ? [`Reverted, in order: ${report.revertOrder.map((s) => `\`${s}\``).join(', ')}`]
      : []),
    ...decideLines(report).map((command) => `Decide with: \`${command}\``),
    '',
    ...report.jobs.map(
      (j) => `- **${stepName(j)}** · ${j.job} · ${j.status}${j.revert ? ` (revert: ${j.revert.status})` : ''}`
    ),
    '',
    link ? `[Open in the Temporal Web UI](${link})` : 'Web UI: (unknown: set webUi in the worker configuration)',
  ];
  return lines.join('\n');
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/** The report as a small HTML page (an e-mail's HTML body): the text report, and the link as a link. */
export function reportHtml(report: ProcessReport, outcome: HookOutcome, link: string | undefined): string {
  const text = reportText(report, outcome, undefined).split('\n').slice(0, -1).join('\n');
  const anchor = link
    ? `<p><a href="${escapeHtml(link)}">Open in the Temporal Web UI</a></p>`
    : '<p>Web UI: unknown (set webUi in the worker configuration)</p>';
  return `<html><body><pre>${escapeHtml(text)}</pre>${anchor}</body></html>`;
}

/** What `{ $report: name }` reads, for a hook on `outcome` (see {@link REPORT_FIELDS}). */
export function reportField(
  name: ReportField,
  report: ProcessReport,
  outcome: HookOutcome,
  link: string | undefined
): unknown {
  switch (name) {
    case 'status':
      return report.status;
    case 'outcome':
      return outcome;
    case 'name':
      return report.name;
    case 'processId':
      return report.processId;
    case 'failedStep':
      return report.failedStep ?? '';
    case 'error':
      return report.error ? errorText(report.error) : '';
    case 'revertOrder':
      return report.revertOrder;
    case 'needsAttention':
      return report.needsAttention;
    case 'subject':
      return reportSubject(report, outcome);
    case 'text':
      return reportText(report, outcome, link);
    case 'markdown':
      return reportMarkdown(report, outcome, link);
    case 'html':
      return reportHtml(report, outcome, link);
    case 'link':
      return link ?? '';
    case 'decide':
      return decideLines(report).join('\n');
    case 'report':
      return report;
  }
}

/** One line per hook for the Web UI's details and the report: `on reverted · send-email · failed (5 attempts): ...`. */
export function hookLines(hooks: readonly HookRecord[] | undefined): string[] {
  return (hooks ?? []).map((h) => {
    const attempts = h.attempts !== undefined && h.attempts > 1 ? ` (${h.attempts} attempts)` : '';
    const error = h.error ? `: ${errorText(h.error)}` : '';
    return `on ${h.outcome} · ${h.job} · ${h.status}${attempts}${error}`;
  });
}
