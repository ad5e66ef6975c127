/**
 * `jipper list`: recent process runs, filtered by status and process name (a visibility query). It reads only what
 * visibility stores in plaintext (ids, times, the search attributes), so it lists encrypted runs — its own and other
 * teams' — without a key ring.
 */
import type { Client } from '@temporalio/client';
import { decodeTypedSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes';
import { tsToDate } from '@temporalio/common/lib/time';
import type { temporal } from '@temporalio/proto';
import Table from 'cli-table3';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { z } from 'zod';
import { FINAL_PROCESS_STATUSES, LIVE_PROCESS_STATUSES } from '../../shared/report';
import { PROCESS_NAME_KEY, PROCESS_STATUS_KEY } from '../../shared/search-attributes';
import { paint } from '../report-table';
import { action, printJson, withClient } from '../context';

const STATUSES = [...LIVE_PROCESS_STATUSES, ...FINAL_PROCESS_STATUSES] as const;

/** A visibility query string literal: quotes and backslashes escaped. */
export function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** The visibility query for the filters: every Jipper run, by status and process name. */
export function listQuery(filters: { status?: string; process?: string }): string {
  const clauses = [`${PROCESS_NAME_KEY.name} IS NOT NULL`];
  if (filters.status !== undefined) clauses.push(`${PROCESS_STATUS_KEY.name} = ${quote(filters.status)}`);
  if (filters.process !== undefined) clauses.push(`${PROCESS_NAME_KEY.name} = ${quote(filters.process)}`);
  return clauses.join(' AND ');
}

function parseWith<T>(schema: z.ZodType<T>): (value: string) => T {
  return (value) => {
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw new InvalidArgumentError(parsed.error.issues[0]?.message ?? 'invalid value');
    return parsed.data;
  };
}

const statusSchema = z.enum(STATUSES, { error: `expected one of ${STATUSES.join(', ')}` });
const limitSchema = z.coerce.number({ error: 'expected a number' }).int('expected a whole number').min(1).max(1000);
const processSchema = z.string().min(1, 'expected a process name');

export interface ListedRun {
  id: string;
  runId: string;
  process: string | undefined;
  status: string;
  startedAt: string;
  closedAt: string | undefined;
}

function toRun(info: temporal.api.workflow.v1.IWorkflowExecutionInfo): ListedRun {
  const attributes = decodeTypedSearchAttributes(info.searchAttributes?.indexedFields);
  const status = String(info.status ?? '').replace(/^WORKFLOW_EXECUTION_STATUS_/, '');
  return {
    id: info.execution?.workflowId ?? '',
    runId: info.execution?.runId ?? '',
    process: attributes.get(PROCESS_NAME_KEY),
    status: attributes.get(PROCESS_STATUS_KEY) ?? status.toLowerCase(),
    startedAt: info.startTime ? tsToDate(info.startTime).toISOString() : '',
    closedAt: info.closeTime ? tsToDate(info.closeTime).toISOString() : undefined,
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

export function registerList(program: Command): void {
  program
    .command('list')
    .description('Recent process runs, newest first: id, process, status, start and close time (UTC).')
    .option('--status <status>', `only runs with this status: ${STATUSES.join(', ')}`, parseWith(statusSchema))
    .option('--process <name>', 'only runs of this process (its definition name)', parseWith(processSchema))
    .option('--limit <n>', 'at most this many runs (default 20)', parseWith(limitSchema), 20)
    .option('--json', 'print the runs as JSON')
    .action(
      action(async (options: { status?: string; process?: string; limit: number; json?: boolean }) =>
        withClient(async (client) => {
          const runs: ListedRun[] = [];
          const query = listQuery(options);
          for await (const run of listRuns(client, query, Math.min(options.limit, 100))) {
            runs.push(run);
            if (runs.length >= options.limit) break;
          }
          if (options.json) return printJson(runs);
          if (!runs.length) return void console.log('no runs found');
          const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
          const table = new Table({
            head: ['id', 'process', 'status', 'started (UTC)', 'closed (UTC)'],
            style: { head: color ? ['bold'] : [], border: color ? ['grey'] : [] },
          });
          for (const run of runs) {
            table.push([
              run.id,
              run.process ?? '',
              paint(run.status, run.status, color),
              time(run.startedAt),
              time(run.closedAt),
            ]);
          }
          console.log(table.toString());
        })
      )
    );
}
