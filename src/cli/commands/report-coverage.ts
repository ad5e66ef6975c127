/**
 * `jipper report --coverage [--since 7d]`: the processes that ended partly compensated — a revert that failed, one an
 * operator settled by `skip` or `mark-reverted`, reverts skipped (jobs without one), or effects not unwound (past the
 * pivot, a failure class) — grouped by process name and step, from visibility and memos only.
 */
import type { CompensationReport } from '../../client/compensation-report';
import { compensationReport } from '../../client/compensation-report';
import { durationToMs } from '../../shared/text';
import { plural } from '../../shared/wording';
import { io, out, printJson } from '../io';
import { outputWidth, renderTable } from '../table';
import { withClient } from '../context';

function coverageRows(report: CompensationReport): string {
  const rows = report.rows.map((row) => [
    row.process,
    row.stepId,
    row.job,
    Object.entries(row.counts)
      .map(([how, n]) => `${how} ×${n}`)
      .join('\n'),
    String(row.runs.length),
  ]);
  return renderTable({ head: ['PROCESS', 'STEP', 'JOB', 'HOW', 'RUNS'], rows, width: outputWidth(io().stdout) });
}

export async function reportCoverage(options: { since?: string; json?: boolean }): Promise<void> {
  const window = options.since ?? '7d';
  const since = new Date(Date.now() - durationToMs(window));
  const report = await withClient((client) => compensationReport(client, since));
  if (options.json) return printJson(report);
  const unreadable = report.unreadable ? ` (${report.unreadable} not readable without their encryption key)` : '';
  const head = `${plural(report.ended, 'process', 'processes')} ended in the last ${window}; ${report.partly} partly compensated${unreadable}`;
  out(report.rows.length ? `${head}\n${coverageRows(report)}` : head);
}
