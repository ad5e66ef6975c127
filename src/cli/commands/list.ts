/**
 * `jipper list`: recent process runs, filtered by status and process name (a visibility query). It reads only what
 * visibility stores in plaintext (ids, times, the search attributes), so it lists encrypted runs — its own and other
 * teams' — without a key ring.
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { decodeTypedSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes';
import { tsToDate } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import type { Command } from 'commander';
import { Option } from 'commander';
import { z } from 'zod';
import { isWaiting } from '../../client/report';
import { SCHEDULED_BY_ATTRIBUTE, SCHEDULED_BY_KEY } from '../../client/schedules';
import { scheduleIdSchema } from '../../schema/definition';
import { ENDED_BY_TEMPORAL_STATUSES, FINAL_PROCESS_STATUSES, LIVE_PROCESS_STATUSES } from '../../shared/report';
import { PROCESS_NAME_KEY, PROCESS_STATUS_KEY } from '../../shared/search-attributes';
import { io, out, printJson } from '../io';
import { colorsFor, paint, style } from '../style';
import { outputWidth, renderTable, textWidth } from '../table';
import { parseWith } from '../args';
import { action, withClient } from '../context';

const STATUSES = [...LIVE_PROCESS_STATUSES, ...FINAL_PROCESS_STATUSES, ...ENDED_BY_TEMPORAL_STATUSES] as const;
const LIVE: readonly string[] = LIVE_PROCESS_STATUSES;
const FINAL: readonly string[] = FINAL_PROCESS_STATUSES;

/** Temporal's execution status (as the visibility query spells it) of the runs Temporal itself ended. */
const EXECUTION_STATUS_OF: Record<string, string> = { terminated: 'Terminated', timed_out: 'TimedOut' };

/** A visibility query string literal: quotes and backslashes escaped. */
export function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * The visibility query for the filters: every Jipper run (the latest run of a process that continued as new), by
 * status, process name and the schedule that started it. `JipperStatus` is what the process last wrote; a run Temporal ended (terminated, timed out)
 * never wrote its end, so live statuses also require a running execution, and `terminated` / `timed_out` are
 * Temporal's execution statuses.
 */
export function listQuery(filters: { status?: string; process?: string; schedule?: string }): string {
  const clauses = [`${PROCESS_NAME_KEY.name} IS NOT NULL`, `ExecutionStatus != 'ContinuedAsNew'`];
  const { status } = filters;
  if (status !== undefined && EXECUTION_STATUS_OF[status] !== undefined) {
    clauses.push(`ExecutionStatus = ${quote(EXECUTION_STATUS_OF[status])}`);
  } else if (status !== undefined) {
    clauses.push(`${PROCESS_STATUS_KEY.name} = ${quote(status)}`);
    if (LIVE.includes(status)) clauses.push(`ExecutionStatus = 'Running'`);
  }
  if (filters.process !== undefined) clauses.push(`${PROCESS_NAME_KEY.name} = ${quote(filters.process)}`);
  if (filters.schedule !== undefined) clauses.push(`${SCHEDULED_BY_ATTRIBUTE} = ${quote(filters.schedule)}`);
  return clauses.join(' AND ');
}

/**
 * A run's status as told: Jipper's (`JipperStatus`) while it runs and once it ended by itself; `terminated` or
 * `timed_out` when Temporal ended it (its `JipperStatus` still says where it was); Temporal's own status for a closed
 * run that wrote no final status (a workflow that failed outside Jipper's control).
 */
export function runStatus(info: Pick<WorkflowExecutionInfo, 'status' | 'typedSearchAttributes'>): string {
  const written = info.typedSearchAttributes.get(PROCESS_STATUS_KEY);
  switch (info.status.name) {
    case 'RUNNING':
      return written ?? 'running';
    case 'TERMINATED':
      return 'terminated';
    case 'TIMED_OUT':
      return 'timed_out';
    default:
      return written !== undefined && FINAL.includes(written) ? written : info.status.name.toLowerCase();
  }
}

const limitSchema = z.coerce.number({ error: 'expected a number' }).int('expected a whole number').min(1).max(1000);
const processSchema = z.string().min(1, 'expected a process name');

export interface ListedRun {
  id: string;
  runId: string;
  process: string | undefined;
  status: string;
  startedAt: string;
  /** A delayed start that has not begun: when it begins. */
  startsAt?: string;
  closedAt: string | undefined;
  /** The schedule that started it, if one did. */
  schedule?: string;
}

/** A visibility row in the SDK's words: Temporal's status name (`RUNNING`...), the search attributes, the times. */
function toRun(info: temporal.api.workflow.v1.IWorkflowExecutionInfo): ListedRun {
  const typedSearchAttributes = decodeTypedSearchAttributes(info.searchAttributes?.indexedFields);
  const statusName = (temporal.api.enums.v1.WorkflowExecutionStatus[info.status ?? 0] ?? '').replace(
    /^WORKFLOW_EXECUTION_STATUS_/,
    ''
  );
  const status = { name: statusName } as WorkflowExecutionInfo['status'];
  const executionTime = info.executionTime ? tsToDate(info.executionTime) : undefined;
  const schedule = typedSearchAttributes.get(SCHEDULED_BY_KEY);
  return {
    id: info.execution?.workflowId ?? '',
    runId: info.execution?.runId ?? '',
    process: typedSearchAttributes.get(PROCESS_NAME_KEY),
    status: runStatus({ status, typedSearchAttributes }),
    startedAt: info.startTime ? tsToDate(info.startTime).toISOString() : '',
    ...(isWaiting({ status, executionTime, ...(info.startTime ? { startTime: tsToDate(info.startTime) } : {}) }) &&
    executionTime
      ? { startsAt: executionTime.toISOString() }
      : {}),
    closedAt: info.closeTime ? tsToDate(info.closeTime).toISOString() : undefined,
    ...(schedule !== undefined ? { schedule } : {}),
  };
}

/** The runs the query finds, newest first, straight from visibility (no payload is decoded). */
async function* listRuns(client: Client, query: string, pageSize: number): AsyncGenerator<ListedRun> {
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await client.workflowService.listWorkflowExecutions({
      namespace: client.options.namespace,
      query,
      pageSize,
      ...(nextPageToken ? { nextPageToken } : {}),
    });
    for (const info of page.executions ?? []) yield toRun(info);
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
}

const time = (iso: string | undefined) => (iso ? iso.replace('T', ' ').slice(0, 19) : '');

/** `2026-12-07 14:38:09 → 14:38:10 UTC` (the close's date only when it is another day), or `started ... UTC`. */
function span(startedAt: string, closedAt: string | undefined): string {
  if (!closedAt) return `started ${time(startedAt)} UTC`;
  const closed = time(closedAt);
  return `${time(startedAt)} → ${closed.slice(0, 10) === startedAt.slice(0, 10) ? closed.slice(11) : closed} UTC`;
}

export function registerList(program: Command): void {
  program
    .command('list')
    .description('Recent process runs, newest first: id, process, status, start and close time (UTC).')
    .addOption(new Option('--status <status>', 'only runs with this status').choices(STATUSES))
    .option('--process <name>', 'only runs of this process (its definition name)', parseWith(processSchema))
    .option('--schedule <id>', 'only runs started by this schedule', parseWith(scheduleIdSchema))
    .option('--limit <n>', 'at most this many runs', parseWith(limitSchema), 20)
    .option('--json', 'print the runs as JSON')
    .action(
      action(async (options: { status?: string; process?: string; schedule?: string; limit: number; json?: boolean }) =>
        withClient(async (client) => {
          const runs: ListedRun[] = [];
          const query = listQuery(options);
          for await (const run of listRuns(client, query, Math.min(options.limit, 100))) {
            runs.push(run);
            if (runs.length >= options.limit) break;
          }
          if (options.json) return printJson(runs);
          if (!runs.length) return void out('no runs found');
          const { stdout } = io();
          const color = colorsFor(stdout);
          const width = outputWidth(stdout);
          const status = (run: ListedRun) => (run.startsAt ? `${run.status} till ${time(run.startsAt)}` : run.status);
          const table = renderTable({
            head: ['id', 'process', 'status', 'started (UTC)', 'closed (UTC)'],
            rows: runs.map((run) => [run.id, run.process ?? '', status(run), time(run.startedAt), time(run.closedAt)]),
            ...(width !== undefined ? { width } : {}),
            whole: [0, 1],
            paint: (row, column, text) => {
              if (row < 0) return style('bold', text, color);
              return column === 2 ? paint(text, runs[row]?.status ?? text, color) : text;
            },
          });
          // An id (and a process name) is never wrapped, as it is copied: when the table cannot fit them whole, a block per run.
          if (width !== undefined && textWidth(table) > width) {
            return out(
              ...runs.flatMap((run) => [
                style('bold', run.id, color),
                `  ${run.process ?? '?'} · ${paint(status(run), run.status, color)}`,
                `  ${span(run.startedAt, run.closedAt)}`,
              ])
            );
          }
          out(table);
        })
      )
    );
}
