/**
 * A process tree as operators see it (see docs/sub-processes.md): a parent's report with its children's reports
 * read live while they run, a flat view whose rows and decisions name a child's steps by path (`db/grant`), and a
 * decision on such a path sent to the child process that waits for it.
 */
import type { Client } from '@temporalio/client';
import { MAX_CHILD_DEPTH } from '../shared/children';
import type { ChildRecord } from '../shared/children';
import type { JobReport, ProcessReport } from '../shared/report';
import { getReport } from './report';

export { flatTree } from '../shared/children';

/** The child workflow a row's step is at now: its unwind for the parent once that started, else its forward run. */
function currentChildId(row: JobReport, child: ChildRecord): string {
  return child.revertId && row.revert ? child.revertId : child.processId;
}

/** Whether a row's child may still be moving (its report in the row is not final). */
function live(row: JobReport): boolean {
  return row.status === 'running' || row.revert?.status === 'running' || row.revert?.status === 'parked';
}

/**
 * The report with each running child's report read live (a child that has ended is in the row already), down to
 * grandchildren. A child that cannot be read keeps what the row has.
 */
export async function withLiveChildren(
  client: Client,
  report: ProcessReport,
  read: (client: Client, id: string) => Promise<ProcessReport> = getReport,
  depth = 0
): Promise<ProcessReport> {
  if (depth > MAX_CHILD_DEPTH || !report.jobs.some((row) => row.child)) return report;
  const jobs = await Promise.all(
    report.jobs.map(async (row) => {
      const child = row.child;
      if (!child) return row;
      // A child the parent holds no report of (a cancelled child's failure carries none) is read too.
      const fresh =
        live(row) || !child.report ? await read(client, currentChildId(row, child)).catch(() => undefined) : undefined;
      const childReport = fresh ?? child.report;
      if (!childReport) return row;
      return { ...row, child: { ...child, report: await withLiveChildren(client, childReport, read, depth + 1) } };
    })
  );
  return { ...report, jobs };
}

/**
 * The process a decision on `path` goes to, and the step there: a plain step id is the process's own; `db/grant` is
 * step `grant` of the child that step `db` runs (its unwind for the parent, when that is where it waits).
 */
export async function decisionTarget(
  client: Client,
  processId: string,
  path: string,
  read: (client: Client, id: string) => Promise<ProcessReport> = getReport
): Promise<{ processId: string; stepId: string }> {
  const at = path.indexOf('/');
  if (at < 0) return { processId, stepId: path };
  const head = path.slice(0, at);
  const report = await read(client, processId);
  const row = report.jobs.find((r) => r.stepId === head);
  if (!row?.child) throw new Error(`${processId}: step "${head}" runs no child process`);
  return decisionTarget(client, currentChildId(row, row.child), path.slice(at + 1), read);
}
