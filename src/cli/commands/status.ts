/** `jipper status <id>` and `jipper report <id>`: where a process is, and its full report. */
import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import { reportCoverage } from './report-coverage';
import { parseDuration } from '../time';
import type { ProcessReport } from '../../shared/report';
import { LIVE_PROCESS_STATUSES } from '../../shared/report';
import type { AwaitedJob } from '../../client';
import { awaitedJobs, getReport } from '../../client';
import { flatTree, withLiveChildren } from '../../client/children';
import { findStuckWorkflowTask } from '../../client/stuck-task';
import { pausesFromHistory } from '../../client/report';
import { reportToMarkdown } from '../../shared/render';
import { out, printJson } from '../io';
import { runLink, webUiLine } from '../links';
import { reportForStdout } from '../report-table';
import { summaryLine } from '../report-summary';
import { UsageError } from '../errors';
import { action, withClient } from '../context';
import { processId } from '../args';

const GRPC_DEADLINE_EXCEEDED = 4;

/** How long a running process's worker has to answer the report query. */
const QUERY_TIMEOUT_MS = 10_000;

/** The report of a process (live while it runs, which needs a worker to answer). */
export async function readReport(client: Client, processId: string): Promise<ProcessReport> {
  try {
    return await client.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () => getReport(client, processId));
  } catch (err) {
    if (err instanceof Error && err.name === 'WorkflowNotFoundError') throw err;
    // A workflow task that keeps failing (a key the workers lack, code that cannot replay) answers no query: say so.
    const stuck = await findStuckWorkflowTask(client, processId).catch(() => undefined);
    if (stuck) {
      throw new Error(
        `${processId} is running but stuck: its workflow task failed ${stuck.attempt} times: ${stuck.message}`,
        { cause: err }
      );
    }
    const cause = (err as { cause?: { code?: unknown } }).cause;
    if (cause?.code === GRPC_DEADLINE_EXCEEDED) {
      const { taskQueue } = await client.workflow.getHandle(processId).describe();
      throw new Error(
        `no worker answered for ${processId} within ${QUERY_TIMEOUT_MS / 1000} s; is one running on task queue "${taskQueue}"? (jipper worker)`,
        { cause: err }
      );
    }
    throw err;
  }
}

/** A job that awaits completion from outside, with the command that settles it. */
function awaitingLine(job: AwaitedJob): string {
  return `  ${job.stepId}: waiting for completion (jipper complete ${job.token} --result JSON | --fail MESSAGE)`;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('One line about a process: its status, the step it is at, how it ended.')
    .argument('<id>', 'workflow id of the process', processId)
    .option(
      '--json',
      'print { id, name, status, current, needsAttention, startsAt?, summary, awaitingCompletion? } as JSON'
    )
    .action(
      action(async (id: string, options: { json?: boolean }) =>
        withClient(async (client) => {
          // A child process's steps are the parent's to show, by path (db/grant), and its parks the parent's to decide.
          const report = flatTree(await withLiveChildren(client, await readReport(client, id)));
          const live = (LIVE_PROCESS_STATUSES as readonly string[]).includes(report.status);
          const awaited = live ? await awaitedJobs(client, report.processId) : [];
          if (options.json) {
            const current = report.jobs.filter((j) => ['running', 'reverting'].includes(j.status)).map((j) => j.stepId);
            printJson({
              id: report.processId,
              name: report.name,
              status: report.status,
              current,
              needsAttention: report.needsAttention,
              ...(report.startsAt ? { startsAt: report.startsAt } : {}),
              ...(report.lastKnown ? { lastKnown: report.lastKnown } : {}),
              summary: summaryLine(report),
              ...(awaited.length ? { awaitingCompletion: awaited } : {}),
            });
          } else out(summaryLine(report), ...awaited.map(awaitingLine));
        })
      )
    );

  program
    .command('report')
    .description(
      "A process's report: every job's status, attempts, time, detail, error and revert. The table fits the terminal (text wraps); --wide keeps every line whole."
    )
    .argument('[id]', 'workflow id of the process', processId)
    .option('--json', 'print the report as JSON')
    .option('--markdown', 'print the report as Markdown (as the Web UI shows it)')
    .option('--wide', 'do not fit the table to the terminal: every line of text whole')
    .option('--coverage', 'instead of one report: the processes that ended partly compensated, by process and step')
    .option('--since <duration>', 'with --coverage: how far back (default 7d)', parseDuration)
    .action(
      action(async (id: string | undefined, options: ReportOptions) => {
        if (options.coverage || options.since !== undefined) return reportCoverageCommand(id, options);
        if (id === undefined) throw new UsageError("missing required argument 'id' (or --coverage, for every process)");
        const formats = ['json', 'markdown', 'wide'].filter((f) => options[f as keyof typeof options]);
        if (formats.length > 1) throw new UsageError(`choose one of ${formats.map((f) => `--${f}`).join(' and ')}`);
        return withClient(async (client, config, server) => {
          const tree = await withLiveChildren(client, await readReport(client, id));
          if (options.json) return printJson(tree);
          const report = flatTree(tree);
          if (options.markdown) return out(reportToMarkdown(report));
          const pauses = await pausesFromHistory(client, report.processId, report.runId);
          out(reportForStdout(report, options.wide, pauses));
          const link = runLink(server.uiUrl, config.namespace, report.processId, report.runId);
          if (link) out(webUiLine(link));
        });
      })
    );
}

interface ReportOptions {
  json?: boolean;
  markdown?: boolean;
  wide?: boolean;
  coverage?: boolean;
  since?: string;
}

function reportCoverageCommand(id: string | undefined, options: ReportOptions): Promise<void> {
  if (!options.coverage) throw new UsageError('--since goes with --coverage');
  if (id !== undefined) throw new UsageError('--coverage covers every process: name no id');
  if (options.markdown || options.wide) throw new UsageError('--coverage prints a table or --json');
  return reportCoverage(options);
}
